#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
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

    // Validated-load mode (docs/pool.md): before this loader first loads a file (by LoadSpec::identity; every time
    // when the identity is empty), it runs `<program> __validate-load FILE` as a short-lived child process (fork+exec
    // through core/spawn.h, never a bare fork: CUDA does not survive one). A child that exits 2 refuses the load with
    // its message; one that crashes (an abort inside llama.cpp) or times out refuses it with Error{invalid_input}
    // naming the file; the loading process lives on. Costs one process start and one CPU load per new file.
    struct ValidatedLoad {
        bool enabled = false;
        std::filesystem::path program;  // empty: this process's own executable (the accel binary)
        std::chrono::milliseconds timeout{std::chrono::seconds(120)};
    };
    void set_validated_load(ValidatedLoad mode);  // call before the first load
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
    void check_in_helper(const LoadSpec& spec);
    std::vector<hw::Device> devices_;
    PlacementRequest placement_;
    std::mutex plans_mutex_;
    std::map<std::string, Plan> plans_;
    std::mutex measure_;  // loads are measured one at a time, so the RSS growth belongs to one model
    ValidatedLoad validated_;
    std::mutex checked_mutex_;
    std::set<std::string> checked_;  // identities that loaded cleanly in a helper
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
