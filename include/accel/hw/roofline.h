#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel/hw/inventory.h"

namespace accel::hw {

// The median of the repetitions and their range.
struct Spread {
    double median = 0;
    double min = 0;
    double max = 0;
    int32_t n = 0;
};

Spread spread_of(std::vector<double> samples);

struct BandwidthResult {
    std::string kernel;  // "read" (sum a), "copy" (b = a), "triad" (a = b + s*c)
    int32_t threads = 1;
    uint64_t array_bytes = 0;  // size of each array
    Spread gb_per_s;           // bytes the kernel reads plus writes, per second, 1e9 per GB
};

struct MatmulResult {
    std::string device;  // device id, e.g. "cpu"
    std::string type;    // weight type: "f32", "f16", "q8_0", "q4_0"
    int64_t m = 0;       // weight rows
    int64_t n = 0;       // activation columns (tokens)
    int64_t k = 0;       // shared dimension
    int32_t threads = 0;  // CPU threads, 0 for other devices
    Spread gflops;        // 2*m*n*k / time, 1e9 per GFLOP
};

struct Unavailable {
    std::string what;    // "matmul cuda0 q4_0"
    std::string reason;  // one line
};

struct Roofline {
    std::string fingerprint;  // core's fingerprint_id of the machine measured
    std::string measured_at;  // UTC, ISO 8601
    std::string accel_version;
    double duration_s = 0;
    std::vector<BandwidthResult> bandwidth;
    std::vector<MatmulResult> matmul;
    std::vector<Unavailable> unavailable;
    bool from_cache = false;  // set by load_roofline, not stored
};

struct MeasureOptions {
    uint64_t bandwidth_array_bytes = 0;  // 0: 64 MiB, or 4x the L3 when that is larger
    int32_t repetitions = 5;             // timed runs per figure, after one untimed warm-up
    int64_t cpu_m = 2048, cpu_n = 256, cpu_k = 2048;
    int64_t gpu_m = 8192, gpu_n = 2048, gpu_k = 8192;
    int32_t threads = 0;  // 0: the CPU's effective cores
};

// Runs the memory-bandwidth kernels (1 thread and all threads) and a ggml_mul_mat per usable device and weight
// type. Each device runs on its own ggml backend and is synchronised before the clock stops. A figure that
// cannot be measured goes to `unavailable` with the reason. Call from one thread; it starts its own workers.
Roofline measure_roofline(const Inventory& inventory, const MeasureOptions& options = {});

// paths::cache_dir()/measure/<fingerprint>.json
std::filesystem::path roofline_cache_path(const std::string& fingerprint);

// The cache path of this machine (its fingerprint_id). A roofline an older accel cached under the machine's v1 id
// (core's fingerprint_id_v1, which did not tell GPUs apart) is moved there first, its fingerprint rewritten, unless
// a file under the new id exists. A move that fails is logged and leaves the old file.
std::filesystem::path roofline_cache_path(const Inventory& inventory);

// nullopt when the file is absent, unreadable, of another schema_version or another fingerprint.
std::optional<Roofline> load_roofline(const std::filesystem::path& path, const std::string& fingerprint);

// Writes atomically (temporary file, then rename). Throws Error{io} naming the path.
void save_roofline(const Roofline& roofline, const std::filesystem::path& path);

// The "measurements" object of `accel detect --json` (docs/hw.md), as JSON text; it holds its schema_version.
std::string roofline_json(const Roofline& roofline);

}  // namespace accel::hw
