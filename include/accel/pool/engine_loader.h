#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accel/engine/session.h"
#include "accel/hw/device.h"
#include "accel/hw/memory_info.h"
#include "accel/model/memory_estimate.h"
#include "accel/pool/placement.h"
#include "accel/pool/pool_types.h"

namespace accel::pool {

// The pool's loader over the engine. Estimates come from the model file's tensor table and the memory estimator;
// placement decides how many layers go to the requested device. Thread-safe. Its leases give the model through
// Lease::session().
class EngineLoader : public Loader {
public:
    explicit EngineLoader(std::vector<hw::Device> devices, PlacementRequest placement = {});
    DeviceBytes estimate(const LoadSpec& spec) override;
    // Measured bytes: on a GPU, the drop in the device's free memory; on the CPU, the growth of the process's
    // resident set, but at least the weights and the KV cache (mmap'd weights count only once touched).
    std::unique_ptr<Resident> load(const LoadSpec& spec, DeviceBytes& measured) override;

private:
    struct Plan {
        Placement placement;
        model::MemoryEstimate estimate;
    };
    // The plan depends only on the file (by identity), the options and the device list fixed at construction, so
    // the pool's estimate() and the load() that follows share one read of the GGUF header: reading it again was
    // most of the pool's load overhead over llama.cpp's own (docs/pool.md).
    Plan plan(const LoadSpec& spec);
    std::vector<hw::Device> devices_;
    PlacementRequest placement_;
    std::mutex plans_mutex_;
    std::map<std::string, Plan> plans_;
    std::mutex measure_;  // loads are measured one at a time, so the RSS growth belongs to one model
};

// Device memory as ggml and the kernel report it now (the CPU figure honours a cgroup limit).
class SystemMonitor : public DeviceMonitor {
public:
    explicit SystemMonitor(std::vector<hw::Device> devices);
    std::vector<std::string> devices() override;
    uint64_t total_bytes(const std::string& device) override;
    uint64_t free_bytes(const std::string& device) override;
    bool is_gpu(const std::string& device) override;
    uint64_t system_available_bytes() override;

private:
    std::vector<hw::Device> devices_;
    hw::MemoryWatcher memory_;
    uint64_t cpu_total_bytes_ = 0;
};

}  // namespace accel::pool
