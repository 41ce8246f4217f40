#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "accel/engine/session.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"

namespace accel::pool {

using Clock = std::chrono::steady_clock;
using DeviceBytes = std::map<std::string, uint64_t>;  // device id ("cpu", "cuda0") -> bytes

// What to do when the preferred device has no room. Never silent: the chosen placement is always reported.
enum class Fallback : uint8_t {
    allow,   // try the next device in the ranked list (e.g. GPU, then CPU)
    forbid,  // fail with the budget, the need, and what holds the memory
    wait,    // queue until the preferred device has room (bounded queue, bounded wait)
};

// The options that change a loaded model's memory; part of the cache key.
struct LoadOptions {
    uint32_t n_ctx = 4096;
    uint32_t n_seq = 1;
    uint32_t n_batch = 2048;
    uint32_t n_ubatch = 512;
    model::KvType type_k = model::KvType::f16;
    model::KvType type_v = model::KvType::f16;
    model::FlashAttn flash_attn = model::FlashAttn::auto_;
    int32_t n_gpu_layers = -1;  // -1: decided by placement
    bool embeddings = false;    // an embedding context (pooled outputs) rather than a generation one
    engine::Pooling pooling = engine::Pooling::model_default;  // with embeddings
    // Map the weights from the file (llama.cpp's default) or read them into memory (llama-bench's --mmap 0).
    bool use_mmap = true;
    bool operator==(const LoadOptions&) const = default;
};

// One acquire() call.
struct Request {
    std::filesystem::path model;
    std::vector<std::string> devices;  // ranked; the first that fits wins (subject to the fallback policy)
    LoadOptions options;
    Fallback fallback = Fallback::allow;
    std::optional<std::chrono::milliseconds> keep_alive;  // overrides the pool's TTL; < 0 pins
    std::chrono::milliseconds wait_timeout{30000};        // how long a caller may wait for a load or for room
    // CPU threads for this lease's decodes, set on the session by Lease::session(); 0: the session's default (one
    // per logical core). Not part of the cache key: a resident model serves any thread count.
    int32_t n_threads = 0;
};

// What the loader is asked to load: one request resolved to one device.
struct LoadSpec {
    std::filesystem::path model;
    std::string identity;  // see ResourcePool: path, size and mtime (or content hash)
    std::string device;
    LoadOptions options;
};

// A loaded model as the pool keeps it. The loader subclasses it (the engine adapter holds a llama model).
class Resident {
public:
    virtual ~Resident() = default;
};

// Loads models for the pool. Implementations must be thread-safe: loads of different keys run concurrently.
class Loader {
public:
    virtual ~Loader() = default;
    // Predicted bytes per device for spec; used for admission before loading.
    virtual DeviceBytes estimate(const LoadSpec& spec) = 0;
    // Loads spec. Throws Error{out_of_memory} when the device ran out, any Error otherwise.
    // Sets measured to the bytes the model really takes per device once loaded.
    virtual std::unique_ptr<Resident> load(const LoadSpec& spec, DeviceBytes& measured) = 0;
};

// Per-device memory as the driver sees it. Implementations must be thread-safe.
class DeviceMonitor {
public:
    virtual ~DeviceMonitor() = default;
    virtual std::vector<std::string> devices() = 0;
    virtual uint64_t total_bytes(const std::string& device) = 0;
    virtual uint64_t free_bytes(const std::string& device) = 0;  // what the driver reports now
    virtual bool is_gpu(const std::string& device) = 0;
    virtual uint64_t system_available_bytes() = 0;  // for low-memory mode
};

}  // namespace accel::pool
