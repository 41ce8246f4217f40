#pragma once

// accel tradeoffs: what a weight type, a KV cache type, flash attention, the context size, mmap and GPU offload
// cost and save on this machine, each measured: file size, memory by buffer, peak RSS, load time and time to the
// first token, pp/tg speed, and output quality against the highest-precision variant.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accel/bench/point_result.h"
#include "accel/bench/tradeoffs_measure.h"

namespace accel::bench {

// One model file to measure.
struct TradeoffsVariant {
    std::string name;  // the file's stem
    std::string path;
    std::string type;  // the weight type: GGUF general.file_type ("Q4_0"), or guessed from the tensor types
    uint64_t file_bytes = 0;
};

// The lists given on the command line. The first value of each is the baseline.
struct TradeoffsAxes {
    std::vector<std::string> type_k{"f16", "q8_0", "q4_0"};
    std::vector<std::string> flash_attn{"on", "off"};
    std::vector<uint32_t> n_ctx{512};
    std::vector<bool> mmap{true, false};
    std::vector<int32_t> n_gpu_layers{0};
};

// A point that is not run, and why (e.g. "unavailable: no GPU", an unsupported combination).
struct SkippedPoint {
    TradeoffsPoint point;
    std::string reason;
};

// The points to run: by default the baseline plus every other value of one axis at a time (the others at their
// baseline); full_grid runs the cartesian product. Quantized KV types without flash attention are skipped
// (llama.cpp refuses a quantized V cache without it), and so are GPU layers on a machine without a GPU.
std::vector<TradeoffsPoint> plan_points(const TradeoffsAxes& axes, bool full_grid, bool have_gpu,
                                        std::vector<SkippedPoint>& skipped);

struct TradeoffsOptions {
    std::string device = "cpu";  // ggml device id that --ngl offloads to
    int32_t n_prompt = 128;      // pp test, and the prompt of the time-to-first-token test
    int32_t n_gen = 32;          // tg test
    int32_t reps = 2;
    int32_t n_threads = 0;  // 0: one per logical core
    bool cold = true;       // evict the file from the page cache before each load
    std::chrono::seconds timeout{600};
    uint64_t seed = 42;
    // Quality: perplexity and KL divergence over text (LLMs) or cosine over its lines (embedding models).
    bool quality = true;
    std::string text;            // the corpus itself
    uint32_t quality_ctx = 256;  // tokens per chunk
    int32_t quality_chunks = 4;
    int32_t quality_sentences = 16;  // embedding models: lines of the text compared
};

// Quality of one variant against the reference (the same file gives perplexity only).
struct QualityFigures {
    std::optional<double> perplexity;
    std::optional<double> kl_mean;
    std::optional<double> cosine;
    std::string note;
};

// Reads the file's GGUF header for its weight type and size. Throws Error{invalid_input} naming the path when it
// is missing, not GGUF, or one of accel's own graphs (vit, clip_model, detr, wav2vec2), which llama.cpp cannot load.
TradeoffsVariant describe_variant(const std::string& path);

// The files of the input quantized to each type (engine/quantize.h) in out_dir, made in a child process; an output
// already there is reused (accel quantize writes each one whole or not at all). Throws what the quantization
// throws, with its kind: Error{invalid_input} for an input that is already quantized or an unknown type.
std::vector<std::string> quantize_variants(const std::string& input, const std::vector<std::string>& types,
                                           const std::filesystem::path& out_dir, std::chrono::seconds timeout);

// The variant with the highest precision: the largest file (all variants are the same model).
const TradeoffsVariant& reference_variant(const std::vector<TradeoffsVariant>& variants);

// Measures one point in a child process (engine load, context, first token, pp, tg, memory) and returns it as a
// PointResult carrying the measure in its tradeoffs extension; a failure is a PointResult with ok = false. The
// caller must have no other threads running (fork).
PointResult measure_point(const TradeoffsVariant& variant, const TradeoffsPoint& point,
                          const TradeoffsOptions& options);

// Measures quality in a child process. Never throws for the measurement itself: the note says what failed.
QualityFigures measure_quality(const TradeoffsVariant& reference, const TradeoffsVariant& test,
                               const TradeoffsOptions& options);

// Adds the variant's quality to a measured point. Quality is measured with an f16 KV cache (engine/quality.h takes
// no KV type), so a point with another KV type gets nulls and a note rather than figures it was not measured at.
void attach_quality(PointResult& r, const QualityFigures& q);

// The measured reductions set against the old framework's claims, from one run's measures.
struct ClaimCheck {
    std::string claim;     // "4-bit weights: 75% memory reduction"
    std::string measured;  // "measured: 71.2% smaller weights (Q4_0 vs F16, 12.3 -> 3.5 MiB)", or "unavailable: ..."
};
std::vector<ClaimCheck> check_claims(const std::vector<TradeoffsMeasure>& measures);

}  // namespace accel::bench
