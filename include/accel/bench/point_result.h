#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accel/bench/audio_stats.h"
#include "accel/bench/load_stats.h"
#include "accel/bench/measurement.h"
#include "accel/bench/remote_stats.h"
#include "accel/bench/roofline_efficiency.h"
#include "accel/bench/sweep.h"
#include "accel/bench/tradeoffs_measure.h"
#include "accel/bench/vision_stats.h"

namespace accel::bench {

// --verify: the same inputs on the CPU reference.
struct VerifyOutcome {
    bool pass = false;
    std::string summary;  // the figures and the thresholds they were held to
};

// Everything measured at one point, plus where it ran. Field names follow llama-bench's where they mean the same.
struct PointResult {
    PointSpec spec;

    // Common to every scenario: the outcome, the raw samples, where it ran, the model and the resources used.
    bool ok = false;
    std::string failure_stage;   // "load", "run", "timeout", "crash" when !ok
    std::string failure_reason;

    Measurement measurement;  // llm: per repetition; latency: per query; embed: per call
    std::string device;          // where it ran
    int32_t n_gpu_layers = 0;
    int32_t n_threads = 0;
    std::vector<std::string> placement;  // the placement decision, one line per reason

    // The model as loaded.
    std::string model_sha256;
    std::string model_desc;      // llama.cpp's description ("llama 100M Q4_0")
    std::string model_arch;
    uint64_t model_size = 0;     // weight bytes
    uint64_t model_n_params = 0;
    uint64_t model_n_params_blocks = 0;  // parameters in the repeating blocks (blk.*): the ones every token multiplies
    uint64_t kv_cache_bytes_estimate = 0;  // from the memory estimator, for the roofline
    std::string model_name;      // general.name

    // --cold: whether the model file was out of the page cache when the load began, and why not when it was not.
    std::optional<bool> cold_cache;              // nullopt without --cold
    std::string cold_cache_note;

    int64_t load_ns = 0;
    uint64_t peak_rss_bytes = 0;                 // the measuring process's high-water mark
    std::optional<uint64_t> device_memory_bytes; // allocated on the GPU (backend), else the drop of its free memory
    std::vector<std::pair<std::string, double>> energy_j;  // per RAPL domain; empty when unavailable
    std::string energy_unavailable;              // the reason when energy_j is empty
    // What energy_j covers: the scenario's warm-up and timed repetitions, never the load or --verify. Energy per
    // timed token from it is an upper bound (the warm-up is inside the window). "" for results stored before.
    std::string energy_window;

    // Per-scenario extensions: each a typed struct, present only where its scenario measured it. In the JSON (the
    // measuring child's output and the stored "extra") each has one serializer (point_result_json.h); a new
    // scenario (vision, audio) adds a struct here, an optional member, and its to_json/from_json pair.
    std::optional<RooflineEfficiency> roofline;  // llm-like scenarios: efficiency against accel detect --measure
    std::optional<VerifyOutcome> verify;         // --verify (llm and latency scenarios)
    std::optional<ServerStats> server;           // server scenario: stored under "server" (null elsewhere)
    std::optional<OfflineStats> offline;         // offline scenario: stored under "offline" (null elsewhere)
    std::optional<RemoteStats> remote;           // accel bench --target: stored under "remote" (absent elsewhere)
    // accel tradeoffs: stored under "tradeoffs" (absent elsewhere); the stored scenario is then "tradeoffs".
    std::optional<TradeoffsMeasure> tradeoffs;
    std::optional<AudioStats> audio;             // audio scenario: stored under "audio" (absent elsewhere)
    std::optional<VisionStats> vision;  // vision scenario: stored under "vision" (absent elsewhere)

    // Whether --verify ran and failed.
    bool verify_failed() const { return verify && !verify->pass; }
};

// The label every printed energy-per-token figure carries (bench, recommend): what the energy window includes.
inline constexpr const char* energy_upper_bound_note =
    "J/token is an upper bound: the energy counters cover the scenario's warm-up as well as its timed repetitions "
    "and are divided by the timed tokens only (results stored without an energy window also include the model load "
    "and --verify)";

std::string to_json_text(const PointResult& r);         // one line
PointResult point_result_from_json(const std::string& text);  // throws Error{internal} on malformed text

}  // namespace accel::bench
