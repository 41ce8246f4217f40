#pragma once

// What accel tradeoffs measures at one point: the typed "tradeoffs" extension of a PointResult (point_result.h).
// Apart from tradeoffs.h so that point_result.h can hold it without the measuring functions.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace accel::bench {

// The settings of one measured point of one variant.
struct TradeoffsPoint {
    std::string type_k = "f16";     // K and V cache type: f16, q8_0, q4_0
    std::string flash_attn = "on";  // on | off
    uint32_t n_ctx = 512;
    bool mmap = true;
    int32_t n_gpu_layers = 0;
};

// Everything measured at one point. Optional fields are null in the stored JSON: not measured, with the reason in
// the matching *_note where there is one.
struct TradeoffsMeasure {
    std::string variant;
    std::string type;
    uint64_t file_bytes = 0;
    TradeoffsPoint point;
    std::string device;
    std::optional<uint64_t> weights_bytes;  // model buffers, all devices
    std::vector<std::pair<std::string, uint64_t>> weights_by_device;
    std::optional<uint64_t> peak_rss_bytes;        // the measuring process's high-water mark
    std::optional<uint64_t> device_memory_bytes;   // drop of the GPU's free memory while loaded
    std::string device_memory_note;                // "unavailable: no GPU" and the like
    std::optional<uint64_t> kv_bytes_measured;     // llama.cpp's context buffers
    std::optional<uint64_t> kv_bytes_estimated;    // model::estimate_memory
    std::optional<uint64_t> compute_buffer_bytes;  // llama.cpp's compute buffers, all devices
    std::optional<double> load_ms;                 // model load (file to usable weights)
    std::optional<double> ttft_ms;                 // from the start of the load to the first generated token
    bool cold = false;                             // the file was evicted from the page cache before the load
    std::optional<double> pp_ts;
    std::optional<double> tg_ts;
    std::optional<double> perplexity;
    std::optional<double> kl_mean;
    std::optional<double> cosine;
    std::string quality_note;  // which reference, or why quality is unavailable
    bool random_weights = false;  // a synthetic model (general.name says so): its quality figures rank nothing
};

std::string to_json_text(const TradeoffsMeasure& m);            // the object stored under "tradeoffs"
TradeoffsMeasure tradeoffs_from_json(const std::string& text);  // throws Error{internal} on malformed text

}  // namespace accel::bench
