#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "accel/bench/price_table.h"
#include "accel/store/compare.h"
#include "accel/store/database.h"

// What a report shows, read from the warehouse into plain structs. The renderers (html_report.h,
// markdown_report.h) only format these; nothing here measures.
namespace accel::report {

struct ReportOptions {
    std::string run{};       // a run id or tag; empty: every run (or those since `since`)
    std::string since{};     // a date or timestamp (runs started at or after it); empty: no limit
    std::string baseline{};  // a run id or tag to compare against; empty: no regression section
    // The user's prices of a machine-hour (any currency; --price-per-hour or the configuration file's [price], per
    // machine fingerprint or device): add the cost per million tokens computed from measured throughput. Empty: no
    // cost anywhere (accel has no price list).
    bench::PriceTable prices{};
};

struct RunInfo {
    std::string id, command, started_at, status, tags, machine_id;
};

// One device of a machine's inventory (inventory_json's "devices"), for the machine card.
struct DeviceInfo {
    std::string id, description, type, backend;
    std::optional<double> memory_total_bytes{}, memory_free_bytes{};
    bool usable = true;
    std::string reason{};  // why not usable
};

struct MachineInfo {
    std::string id, cpu_model, hostname, device_names;
    std::optional<int64_t> n_logical_cores{}, memory_total_bytes{};
    std::optional<int64_t> n_physical_cores{};
    std::string os;                      // kernel and distribution, when the inventory has them
    std::vector<DeviceInfo> devices{};   // one per device in the inventory
    std::vector<std::pair<std::string, std::string>> inventory{};  // flattened inventory_json, in its order
};

struct RooflineFigure {
    std::string what;  // "read bandwidth, 2 threads", "matmul cpu q4_0 2048x256x2048, 2 threads"
    std::string unit;  // "GB/s", "GFLOP/s"
    double median = 0, min = 0, max = 0;
    int32_t n = 0;
};

// One device's measured roofs: the memory-bandwidth slope and a compute ceiling per weight type.
struct DeviceRoof {
    std::string device;
    std::optional<double> bandwidth_gbs{};                        // hw::read_bandwidth_gbs
    std::vector<std::pair<std::string, double>> gflops_by_type{};  // matmul peak (median GFLOP/s) per type
};

struct RooflineInfo {
    std::string machine_id;
    bool available = false;
    std::vector<DeviceRoof> roofs{};  // per device measured, in the cache's order
    std::string note;  // when and with which accel it was measured, or why unavailable
    std::vector<RooflineFigure> figures{};
    std::vector<std::pair<std::string, std::string>> unavailable{};  // what, why
};

// extra.server of a server-scenario result (null fields stay nullopt).
struct ServerPoint {
    std::optional<double> target_qps, achieved_qps, p50_ms, p99_ms, ttft_p99_ms, tpot_p99_ms;
    std::optional<bool> slo_pass;
    std::string slo;  // "p99 <= 500 ms, TTFT p99 <= 100 ms"; "" without an SLO
    // extra.server.slo_limits: the limits as numbers (absent in results stored before they were kept: no SLO line)
    std::optional<double> slo_p99_ms, slo_ttft_p99_ms, slo_tpot_p99_ms;
};

// extra.tradeoffs of a tradeoffs-scenario result.
struct TradeoffPoint {
    std::string variant, type, type_k;
    std::optional<bool> flash_attn, mmap;
    std::optional<double> file_bytes, weights_bytes, peak_rss_bytes, kv_bytes_measured, kv_bytes_estimated,
        compute_buffer_bytes, n_ctx, load_ms, ttft_ms, pp_ts, tg_ts, perplexity, kl_mean, cosine;
    bool random_weights = false;  // a synthetic model: its quality figures are shown marked and rank nothing
};

// extra.vision or extra.audio: what an image, video or audio point measured beyond its throughput. A figure the
// point could not count is nullopt, with its reason beside it when the result stored one.
struct MediaPoint {
    std::string arch;  // vision.arch ("vit", "clip_model", "detr", "xclip"); the model's architecture for audio
    std::optional<double> n_frames;         // xclip: frames per clip (the batch is ResultRow::embed_batch)
    std::optional<double> frame_ms;         // xclip: the pass's mean time per frame
    std::optional<double> prep_p50_ms;      // vision: preprocessing p50 per batch; audio: the features' mean
    std::optional<double> clip_seconds, window_seconds;  // audio: per repetition; the window the model sees
    std::string latency_covers;                          // audio: what a latency sample covers
    std::optional<double> flops, gflops_per_s;           // per image (vision) or clip (audio)
    std::string flops_unavailable;
    std::optional<double> compute_bytes_measured;  // vision: ggml's graph buffers after the passes
    std::string compute_bytes_unavailable;
};

struct ResultRow {
    std::string id, run_id, model, model_name, model_sha256, scenario, device, type_k, type_v, created_at;
    std::string architecture, family, file_type;  // from the models table ("" when unknown)
    std::optional<int64_t> n_prompt, n_gen, n_batch, n_ubatch, n_threads, n_gpu_layers, n_depth;
    std::optional<bool> flash_attn;
    std::optional<double> avg_ts, stddev_ts, avg_ns, p50_ns, p90_ns, p99_ns, ttft_ns;
    bool valid = true;
    std::vector<int64_t> samples_ns{};  // the raw samples, in order
    // From extra: where it ran (web-bench: "native" or "web"; bench: "").
    std::string platform, browser, browser_version, backend;
    // accel bench --target (extra.remote): the endpoint measured, its Server header and the workload; "" in-process.
    std::string target_url, target_server, workload;
    // From extra.spec: what else makes a point (embed: texts per call; vision: images or clips per pass; load
    // scenarios: parallel sequences, lengths).
    std::optional<int64_t> embed_batch, n_parallel;
    std::string lengths;
    std::optional<double> tpot_ns;                                // mean of extra.tpot_ns
    std::optional<double> peak_rss_bytes, memory_estimate_bytes;  // estimate: weights + KV cache (estimator)
    std::optional<double> decode_bandwidth_pct, prefill_flops_pct;
    std::string roofline_basis;
    std::string roofline_defect;  // non-empty: above 100% of the roof, so the roof is wrong (never an efficiency)
    // For the roofline plot: extra.model_size (weight bytes), extra.model_n_params_blocks and the weight type
    // named in extra.model_desc (hw::weight_type_of; "" when unknown).
    std::optional<double> weight_bytes, n_params_blocks;
    std::string weight_type;
    // The requested configuration (extra.spec): "t=0 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1"; "" when the result
    // carries no spec (imported). is_default: it equals accel bench's defaults (bench::PointSpec{}).
    std::string config;
    bool is_default = false;
    bool noisy = false;  // extra.noisy: the coefficient of variation of its samples is above the bench's limit
    // Joules per timed token from the stored energy counters (bench::energy_per_token, an upper bound), else why not.
    std::optional<double> joules_per_token;
    std::string energy_unavailable;
    std::string machine_id;  // the run's machine
    std::optional<ServerPoint> server;
    std::optional<TradeoffPoint> tradeoffs;
    std::optional<MediaPoint> media;  // vision and audio points
};

struct FailureRow {
    std::string id, run_id, model, scenario, device, stage, reason;
};

// One row of the compatibility view, restricted to the report's scope.
struct CompatRow {
    std::string architecture, family, device, type, status;
    int64_t n = 0;
    std::vector<std::string> evidence{};  // result or failure ids
};

// One conformance case as `accel conform` stored it (a result's extra or a failure's params).
struct ConformRecord {
    std::string id, run_id;  // the result or failure id
    std::string arch, llama_arch, device, type;
    std::string status;      // pass, fail, unsupported
    std::string reason;
};

struct Regressions {
    std::string baseline, candidate;       // what was compared (run ids or tags)
    std::string note;                      // why there is no comparison, when there is none
    std::vector<RunInfo> baseline_runs{};  // the baseline's runs (outside the scope, for the source line)
    std::optional<store::CompareReport> compare{};
};

struct ReportData {
    std::string scope;       // "every run", "run X", "runs since D"
    std::string data_until;  // the newest result's time: a report of the same data is the same text
    std::vector<RunInfo> runs{};
    std::vector<MachineInfo> machines{};
    std::vector<RooflineInfo> rooflines{};
    std::vector<ResultRow> results{};  // the newest result per point, ordered by model, device, scenario, shape
    int64_t n_superseded = 0;          // older results of the same points, left out
    std::vector<FailureRow> failures{};
    std::vector<CompatRow> compatibility{};
    std::vector<ConformRecord> conformance{};  // the newest case per arch, device and type in scope
    std::optional<Regressions> regressions{};
    bench::PriceTable prices{};  // ReportOptions::prices

    const RunInfo* run(const std::string& id) const;
};

// Reads everything in scope. Throws Error{invalid_input} for a --run or --baseline that matches no run, or a
// --since that is not a date; Error{io} from the database. Rooflines come from `accel detect --measure`'s cache
// (hw/roofline.h) for each machine in scope.
ReportData load_report_data(store::Database& db, const ReportOptions& options);

// The price of an hour of the machine and device the point ran on (PriceTable::per_hour), nullopt when none applies.
std::optional<double> price_of(const ResultRow& r, const bench::PriceTable& prices);
// What a point's cost is counted per: a million tokens (texts for embed), a thousand images (vision; clips for
// xclip), an hour of audio (audio, whose avg_ts is audio seconds per second).
struct CostUnit {
    double units = 1e6;  // of avg_ts's units
    const char* name = "million tokens";
};
CostUnit cost_unit(const ResultRow& r);
// The cost of cost_unit(r) at the point's price: price / (avg_ts * 3600) * units; nullopt without a price or a
// throughput.
std::optional<double> cost_per_unit(const ResultRow& r, const bench::PriceTable& prices);

// What a point's avg_ts counts: texts for embed points, images for vision (clips for xclip's video points), audio
// seconds for audio, else tokens.
const char* throughput_unit(const ResultRow& r);
// "p=512 n=128 t=8": the shape of a point, for labels.
std::string point_shape(const ResultRow& r);

}  // namespace accel::report
