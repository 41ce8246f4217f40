#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Plain records the warehouse stores. They know nothing of llama.cpp or the bench layer: callers fill them.
// Ids are text: UUIDs for runs, results and failures (see uuid.h), content-derived ids for machines, builds, models.
// Times are nanoseconds since the Unix epoch (UTC) at this boundary; 0 means "now" where a writer fills it in.
namespace accel::store {

enum class RunStatus : uint8_t { running, complete, failed, interrupted };
std::string_view to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view text);

struct MachineRecord {
    std::string id{};  // accel::fingerprint_id(), or a hash of what an imported file says about its machine
    std::string cpu_model{};
    int32_t n_logical_cores = 0;
    uint64_t memory_total_bytes = 0;
    std::string device_names{};  // comma-separated
    std::string hostname{};
    std::string inventory_json = "{}";  // the full hardware inventory, as hw/ prints it
};

struct BuildRecord {
    std::string id{};            // empty: derived from the fields below (build_id())
    std::string tool = "accel";  // "accel", or the tool an import came from ("llama-bench", "optimum-benchmark")
    std::string accel_version{};
    std::string git_commit{};
    std::string llama_cpp_commit{};
    std::string compiler{};
    std::string build_type{};
    std::string cxx_flags{};
    std::string backends{};  // comma-separated ggml backends compiled in
};
std::string build_id(const BuildRecord& b);  // 16 hex digits over every field but id

struct ModelRecord {
    std::string id{};  // sha256 when known, else "name:<name>" (imports that only know a file name)
    std::optional<std::string> sha256{};
    std::string path{};
    std::string name{};
    std::string architecture{};
    std::string family{};
    std::string subfamily{};
    std::optional<int64_t> n_params{};
    std::string file_type{};
    std::optional<int64_t> size_bytes{};
};

struct RunRecord {
    std::string id{};  // empty: the writer assigns a UUID v4
    std::string command{};
    int64_t started_at_ns = 0;
    std::optional<int64_t> ended_at_ns{};
    RunStatus status = RunStatus::running;
    std::vector<std::string> tags{};
    std::string git_commit{};
    std::string machine_id{};
    std::string build_id{};
    int64_t pid = 0;        // 0: the writer fills in this process's pid, boot id and host
    std::string boot_id{};  // /proc/sys/kernel/random/boot_id
    std::string host{};
    std::string source = "accel";  // "accel" or "import:<format>"
    std::string extra_json = "{}";
};

// One raw measurement: one iteration's wall time and the tokens it processed (n_tokens may be unknown).
struct SampleRecord {
    int32_t seq = 0;
    int64_t duration_ns = 0;
    std::optional<int32_t> n_tokens{};
};

// One measured point. Typed columns for what queries filter and compare on; the rest in extra_json.
struct ResultRecord {
    std::string id{};  // empty: the writer assigns a UUID v4
    std::string run_id{};
    std::string machine_id{};
    std::string build_id{};
    std::string model_id{};
    std::optional<std::string> model_sha256{};
    std::string model_name{};
    std::string scenario{};  // "pp", "tg", "pg", "server", ...
    std::string device;      // ggml device name, lowercased ("cpu", "cuda0")
    std::optional<int32_t> n_prompt{}, n_gen{}, n_batch{}, n_ubatch{}, n_threads{}, n_gpu_layers{}, n_depth{};
    std::string type_k{}, type_v{};
    std::optional<bool> flash_attn{};
    std::optional<double> avg_ts{}, stddev_ts{}, avg_ns{};
    std::optional<double> p50_ns{}, p90_ns{}, p99_ns{}, ttft_ns{};
    bool valid = true;  // false: measured but failed its check (e.g. --verify); kept for the record
    int64_t created_at_ns = 0;
    std::string extra_json = "{}";
    std::vector<SampleRecord> samples{};
};

// A sweep point that could not be measured, and why.
struct FailureRecord {
    std::string id{};  // empty: the writer assigns a UUID v4
    std::string run_id{};
    std::string machine_id{};
    std::string model_id{};
    std::string scenario{};
    std::string device{};
    std::string stage{};  // "load", "run", "verify", ...
    std::string reason{};
    std::string params_json = "{}";
    int64_t created_at_ns = 0;
};

}  // namespace accel::store
