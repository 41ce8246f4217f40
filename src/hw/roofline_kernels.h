#pragma once

// The roofline's ggml measurements, shared by roofline.cpp (which orchestrates and caches them) and the files that
// hold each kind. Internal to hw/.
#include <chrono>
#include <memory>
#include <string>

#include <ggml-backend.h>
#include <ggml.h>

#include "accel/hw/inventory.h"
#include "accel/hw/roofline.h"

namespace accel::hw::detail {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The reason every figure not started before the deadline carries.
std::string budget_spent(double budget_s);

struct FreeCtx {
    void operator()(ggml_context* c) const { ggml_free(c); }
};
struct FreeBuffer {
    void operator()(ggml_backend_buffer* b) const { ggml_backend_buffer_free(b); }
};
struct FreeBackend {
    void operator()(ggml_backend* b) const { ggml_backend_free(b); }
};
using ContextPtr = std::unique_ptr<ggml_context, FreeCtx>;
using BufferPtr = std::unique_ptr<ggml_backend_buffer, FreeBuffer>;
using BackendPtr = std::unique_ptr<ggml_backend, FreeBackend>;

// A no_alloc context with room for `n_tensors` tensors and one graph. Throws Error{out_of_memory}.
ContextPtr tensor_context(size_t n_tensors);

// Runs `graph` once untimed, then `repetitions` times, synchronised before and after each; returns the seconds
// of each timed run. Stops early, after at least 2 timed runs, once the timed runs took `max_seconds` (0: never),
// so that a large shape on a slow device does not eat the whole budget. Throws Error{backend} when a compute fails.
std::vector<double> time_graph(ggml_backend_t backend, ggml_cgraph* graph, int32_t repetitions, double max_seconds);

// ggml_mul_mat per weight type, shape and layout on every usable device (roofline_matmul.cpp).
void measure_matmul(const Inventory& inv, const MeasureOptions& opt, Clock::time_point deadline, Roofline& out);

// Read and copy bandwidth of each usable non-CPU device's memory (roofline_device_bandwidth.cpp).
void measure_device_bandwidth(const Inventory& inv, const MeasureOptions& opt, Clock::time_point deadline,
                              Roofline& out);

}  // namespace accel::hw::detail
