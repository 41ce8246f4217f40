#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace accel::bench {

// Pass marks for --verify, stated in the output. Quantized KV or weights on another device move logits a little;
// a device that is fast but wrong moves the top tokens.
struct VerifyThresholds {
    double min_top1 = 0.95;          // share of positions whose argmax agrees with the CPU reference
    double min_top5_overlap = 0.90;  // mean share of the reference's top 5 found in the device's top 5
    double min_greedy_match = 0.90;  // share of greedily generated tokens equal to the reference's
};

struct VerifyResult {
    bool pass = false;
    int32_t n_positions = 0;
    double top1 = 0;
    double top5_overlap = 0;
    double greedy_match = 0;
    std::string summary;  // "top-1 1.000 (>= 0.95), top-5 1.000 (>= 0.90), greedy 1.000 (>= 0.90): pass"
};

// Compares per-position logits and greedy continuations of a device against the CPU reference.
// ref and dev hold one logit row per position (same vocabulary); ref_greedy/dev_greedy the generated tokens.
// Traces of different lengths (positions, greedy tokens or logits per row) fail, with the lengths in the summary.
VerifyResult compare_llm(const std::vector<std::vector<float>>& ref, const std::vector<std::vector<float>>& dev,
                         const std::vector<int32_t>& ref_greedy, const std::vector<int32_t>& dev_greedy,
                         const VerifyThresholds& t = {});

// Pass marks for --verify on embeddings. Both vectors are L2-normalised first, so the difference bound does not
// depend on the model's scale.
struct EmbedVerifyThresholds {
    double min_cosine = 0.99;    // the lowest cosine similarity over the texts
    double max_abs_diff = 0.02;  // the largest absolute difference of one component
};

struct EmbedVerifyResult {
    bool pass = false;
    int32_t n_texts = 0;
    double min_cosine = 0;
    double max_abs_diff = 0;
    std::string summary;  // "min cosine 1.000000 (>= 0.99), max abs diff 0 (<= 0.02) over 8 texts: pass"
};

// Compares one embedding per text from the device with the CPU reference (same texts, same order). Texts whose
// vectors differ in length, or a different number of texts, fail.
EmbedVerifyResult compare_embeddings(const std::vector<std::vector<float>>& ref,
                                     const std::vector<std::vector<float>>& dev, const EmbedVerifyThresholds& t = {});

}  // namespace accel::bench
