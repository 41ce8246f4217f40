#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "accel/hw/roofline.h"

namespace accel::bench {

// What a measured llm point achieved against the roof `accel detect --measure` measured for the device it ran on.
struct RooflineEfficiency {
    std::optional<double> decode_bandwidth_pct;  // achieved bytes/s over the device's measured read bandwidth
    std::optional<double> prefill_flops_pct;     // achieved FLOP/s over the device's matmul peak for the weight type
    std::string basis;                           // which measurement, or why a figure is unavailable
    // Non-empty when a figure lands above 100%: then the roof was not measured for the path the point ran, and the
    // percentage must not be read as an efficiency. Printed and stored with the figures, never dropped.
    std::string defect;
};

// The point as the roofline formulas need it.
struct RooflinePoint {
    std::string device;             // "cpu", "cuda0"
    std::string model_description;  // llama.cpp's ("llama 100M Q4_K - Medium"): names the weight type
    int32_t n_prompt = 0, n_gen = 0, n_depth = 0;
    double tokens_per_s = 0;        // the measured mean
    uint64_t weight_bytes = 0;      // the model's weights as loaded
    uint64_t n_params_blocks = 0;   // parameters in the repeating blocks (blk.*): what every token multiplies
    uint64_t kv_bytes = 0;          // the KV cache of the point's own context, from the memory estimator
    uint32_t kv_cells = 0;          // that context's cells
};

// Decode (tg: n_prompt 0, n_gen > 0): each token reads every weight once and the KV cache of the context so far
// (depth + half the generated tokens, on average), so bytes/s = (weight_bytes + kv_bytes * ctx / kv_cells) * t/s,
// against the device's own read bandwidth (hw::read_bandwidth_gbs). Prefill (pp: n_gen 0, n_prompt > 0): every
// prompt token goes through the repeating blocks' matrices, 2 FLOPs per weight (attention's own FLOPs left out, the
// output matrix runs for the last token only), against the matmul peak of the device and the model's weight type
// (hw::matmul_peak; "unavailable" when that type was not measured there, never another type's peak).
// roofline: nullptr when this machine has none cached.
RooflineEfficiency roofline_efficiency(const hw::Roofline* roofline, const RooflinePoint& point);

}  // namespace accel::bench
