#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "accel/pool/pool_types.h"

namespace accel::pool {

enum class LowMemoryMode : uint8_t { auto_, on, off };

struct PoolConfig {
    uint64_t margin_bytes = 512ull << 20;  // kept free on every device...
    double margin_fraction = 0.05;         // ...or this fraction of its total, whichever is larger
    std::map<std::string, uint64_t> budget_bytes;  // per device; absent: total - margin
    std::chrono::milliseconds keep_alive{std::chrono::minutes(5)};  // 0: unload when idle; < 0: pinned
    Fallback fallback = Fallback::allow;
    uint32_t max_loaded = 8;     // models resident at once, all devices together
    uint32_t queue_size = 64;    // callers that may wait for a load or for room; the next one gets "busy"
    LowMemoryMode low_memory = LowMemoryMode::auto_;
    uint64_t low_memory_threshold_bytes = 1ull << 30;  // auto mode switches on below this available memory
    std::chrono::milliseconds low_memory_keep_alive{std::chrono::seconds(30)};
    std::chrono::milliseconds unload_wait{std::chrono::seconds(10)};  // GPU: wait for the driver to report memory free
    // Load each file not loaded before in a short-lived helper process first (EngineLoader::ValidatedLoad), so that
    // an abort inside llama.cpp refuses the load instead of ending this process. [pool] validated_load = "on".
    bool validated_load = false;
};

// Reads the [pool] table of a TOML file (see docs/pool.md), then applies ACCEL_POOL_* environment overrides.
// A missing file is not an error; a malformed one is Error{invalid_input} naming the file, line and key.
PoolConfig load_pool_config(const std::filesystem::path& file);

// Parses "512MiB", "2GiB", "1.5GB", "100M", "0.1" (a fraction, for margins only when allow_fraction).
std::optional<uint64_t> parse_bytes(const std::string& text);
Fallback parse_fallback(const std::string& text);  // throws Error{invalid_input}
const char* to_string(Fallback f);

}  // namespace accel::pool
