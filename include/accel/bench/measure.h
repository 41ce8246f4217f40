#pragma once

// The setup every measuring path shares (bench points, tradeoffs points, web-bench's native baseline): what the
// model file says, the device's free memory, --cold, the load through a resource pool's lease, the device-memory
// figure and the process's peak RSS. Each path then runs its own scenario on MeasuredModel::session().

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accel/bench/point_result.h"
#include "accel/hw/device.h"
#include "accel/model/memory_estimate.h"
#include "accel/pool/engine_loader.h"
#include "accel/pool/resource_pool.h"

namespace accel::bench {

// What the GGUF file says before the model is loaded.
struct ModelFacts {
    std::string sha256;             // through the sha256 cache: reads the file, so read it before --cold evicts it
    std::string name;               // general.name, "" when absent
    uint64_t n_params_blocks = 0;   // parameters in the repeating blocks (blk.* tensors)
    std::optional<uint64_t> kv_cache_bytes;  // the memory estimator's KV cache at the given config; nullopt for a
                                             // model without the usual shape keys
    bool random_weights = false;    // a synthetic model from accel make-model (speed only, no quality)
    bool embedding = false;         // an embedding model (model::is_embedding_model)
};

// Reads model's facts; kv_config sizes the KV estimate. Throws what model::read_gguf and sha256_file_cached throw.
ModelFacts read_model_facts(const std::filesystem::path& model, const model::MemoryConfig& kv_config = {});

// Copies the facts into a result's model fields (sha256, name, block parameters, KV estimate, 0 when unknown).
void record_facts(PointResult& r, const ModelFacts& facts);

// One load for measuring.
struct MeasureLoad {
    std::filesystem::path model;
    std::string device = "cpu";        // the one device allowed (no fallback: a point measures where it was asked)
    pool::LoadOptions options;
    int32_t n_threads = 0;             // the lease's threads; 0: one per logical core
    bool cold = false;                 // evict the file from the page cache right before the load
    std::function<void()> before_load;  // test hook: called after --cold's eviction, right before the load
};

// A model loaded for measuring through a resource pool of its own (low-memory mode off), held by a lease whose
// session guard stays taken while this object lives. Not movable (the pool lives inside); not thread-safe.
class MeasuredModel {
public:
    // Enumerates the ggml devices (cheap after the first time in a process); loads nothing yet.
    MeasuredModel();
    MeasuredModel(const MeasuredModel&) = delete;
    MeasuredModel& operator=(const MeasuredModel&) = delete;
    ~MeasuredModel();

    // Reads the device's free memory, evicts the file with load.cold, and acquires the model (Fallback::forbid).
    // Throws what pool::ResourcePool::acquire throws (Error{out_of_memory}, Error{invalid_input}, …); the cold
    // figures are set even then.
    void load(const MeasureLoad& load);

    engine::Session& session() const { return guard_->session(); }
    const pool::SessionGuard& guard() const { return *guard_; }
    const pool::Lease& lease() const { return lease_; }
    // The pool the model lives in: a reference model (--verify) is acquired from it too.
    pool::ResourcePool& pool() { return *pool_; }
    pool::EngineLoader& loader() { return loader_; }
    pool::SystemMonitor& monitor() { return monitor_; }
    const std::vector<hw::Device>& devices() const { return devices_; }
    bool on_gpu() const;  // the load's device is a GPU (discrete or integrated)

    std::chrono::steady_clock::time_point load_started() const { return load_started_; }
    int64_t load_ns() const { return load_ns_; }  // acquire(): model and context
    std::optional<bool> cold() const { return cold_; }  // nullopt without --cold
    const std::string& cold_note() const { return cold_note_; }  // why the load was not cold, "" when it was

    // On a GPU: what the backend allocated there (weights, KV cache, compute buffers), from the memory breakdown.
    std::optional<uint64_t> allocated_bytes() const;
    // On a GPU: the drop of its free memory since before the load; nullopt when it did not drop or is unknown.
    std::optional<uint64_t> free_drop_bytes() const;

    // The load's figures in r: device, n_gpu_layers, n_threads, placement, model_desc/arch/size/n_params,
    // load_ns, cold_cache(_note) and device_memory_bytes (allocated, else the drop of free memory).
    void record(PointResult& r) const;

private:
    std::optional<uint64_t> device_free() const;

    std::vector<hw::Device> devices_;
    pool::EngineLoader loader_;
    pool::SystemMonitor monitor_;
    std::unique_ptr<pool::ResourcePool> pool_;
    std::string device_;
    pool::Lease lease_;
    std::optional<pool::SessionGuard> guard_;
    std::optional<uint64_t> free_before_;
    std::chrono::steady_clock::time_point load_started_{};
    int64_t load_ns_ = 0;
    std::optional<bool> cold_;
    std::string cold_note_;
};

// Resets this process's peak RSS to its current RSS (Linux's clear_refs "5"), so that a point measured in a reused
// worker reports its own high-water mark, not an earlier point's. Best effort: logs at debug level when refused.
void reset_peak_rss();

// The peak RSS since the last reset_peak_rss (VmHWM); getrusage's lifetime peak where /proc does not say.
uint64_t peak_rss_bytes();

}  // namespace accel::bench
