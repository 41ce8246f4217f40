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
    // "cpu": accel's own kernels over host memory. Any other device: ggml kernels over that device's memory.
    std::string device = "cpu";
    // host: "read" (sum a), "copy" (b = a), "triad" (a = b + s*c); device: "read" (ggml_sum over one buffer),
    // "copy" (ggml_cpy from one device buffer to another)
    std::string kernel;
    int32_t threads = 1;       // host kernels' threads; 0 for a device
    uint64_t array_bytes = 0;  // size of each array
    Spread gb_per_s;           // bytes the kernel reads plus writes, per second, 1e9 per GB
};

struct MatmulShape {
    int64_t m = 0;  // weight rows
    int64_t n = 0;  // activation columns (tokens)
    int64_t k = 0;  // shared dimension
};

// One shape and weight layout that was timed for a device and type.
struct MatmulTrial {
    MatmulShape shape;
    std::string layout;  // "plain", or the ggml extra buffer type the weights were placed in ("CPU_REPACK")
    Spread gflops;
    double check_nmse = 0;  // sampled outputs against a double-precision host reference (see docs/hw.md)
};

// The peak of a device and weight type: the trial with the highest median, kept with the shape and layout that
// reached it. Trials whose result failed the check are not kept (they go to Roofline::unavailable).
struct MatmulResult {
    std::string device;  // device id, e.g. "cpu"
    std::string type;    // weight type, ggml's name: "f32", "f16", "bf16", "q8_0", "q4_0", "q4_K"
    int64_t m = 0;       // the best trial's shape
    int64_t n = 0;
    int64_t k = 0;
    std::string layout = "plain";
    int32_t threads = 0;  // CPU threads, 0 for other devices
    Spread gflops;        // 2*m*n*k / time, 1e9 per GFLOP
    std::vector<MatmulTrial> trials;  // every shape and layout timed, in the order they ran
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
    uint64_t bandwidth_array_bytes = 0;   // host kernels; 0: 64 MiB, or 4x the L3 when that is larger
    uint64_t device_bandwidth_bytes = 0;  // device kernels; 0: 1 GiB, at most an eighth of the device's free memory
    bool device_bandwidth_on_cpu = false;  // also run the device (ggml) kernels on the CPU device (tests)
    int32_t repetitions = 5;               // timed runs per figure, after one untimed warm-up
    double trial_seconds = 1.0;            // matmul: fewer runs (at least 2) once one shape's runs took this long
    // Shapes tried per device and type; the peak is the best. They include prefill's usual batch (n_ubatch 512).
    std::vector<MatmulShape> cpu_shapes = {{2048, 256, 2048}, {2048, 512, 2048}, {4096, 512, 4096}};
    std::vector<MatmulShape> gpu_shapes = {{4096, 512, 4096}, {8192, 2048, 8192}};
    int32_t threads = 0;    // 0: the CPU's effective cores
    double budget_s = 30;   // figures not started within it are listed as unavailable
};

// Runs the host memory-bandwidth kernels (1 thread and all threads), the device bandwidth kernels on every usable
// non-CPU device, and ggml_mul_mat per usable device, weight type, shape and weight layout (plain, and each extra
// buffer type the device offers, such as the CPU's repacked weights). Each device runs on its own ggml backend
// and is synchronised before the clock stops; each result is checked against a host reference. A figure that
// cannot be measured goes to `unavailable` with the reason. Call from one thread; it starts its own workers.
Roofline measure_roofline(const Inventory& inventory, const MeasureOptions& options = {});

// The measured read bandwidth of a device's memory in GB/s: the host "read" kernel's best for "cpu", the device's
// "read" kernel for any other device. nullopt when not measured.
std::optional<double> read_bandwidth_gbs(const Roofline& roofline, const std::string& device);

// The matmul peak of a device for a weight type (ggml's name, any case: "q4_k" finds "q4_K"); nullptr when that
// type was not measured on that device.
const MatmulResult* matmul_peak(const Roofline& roofline, const std::string& device, const std::string& type);

// The weight type named in llama.cpp's model description ("llama 100M Q4_K - Medium" -> "q4_K", "... BF16" ->
// "bf16"), in ggml's spelling; "" when the description names none that accel knows.
std::string weight_type_of(const std::string& model_description);

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
