#pragma once

// What "passes against transformers" means: the one table of metrics and limits for comparing accel's output on a
// committed Hugging Face fixture (tests/fixtures/hf) with the reference transformers computed. docs/conform.md
// ("Against transformers") prints the same table; `accel conform` and tests/engine/hf_reference_test read it here.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "accel/model/hf_convert.h"

namespace accel::model {

enum class HfMetric : uint8_t {
    logits_rel,         // max |accel - ref| / (max - min of the reference logits), every position
    top1,               // top-1 agreement at positions whose reference top-1 margin exceeds hf_top1_epsilon (ViT: the
                        // top label of each image; CLIP: each image's best text)
    embedding_max_abs,  // L2-normalised embeddings (BERT's mean-pooled sentence, CLIP's image and text): max |accel - ref|
    embedding_cosine,   // BERT's sentence embedding: cosine similarity
    state_rel,          // hidden states (BERT's [CLS] and last token, ViT's last layer, T5's encoder output):
                        // max |accel - ref| / (max - min of the reference states)
    class_logits_rel,   // classification head logits: max |accel - ref| / (max - min of the reference logits)
    box_max_abs,        // DETR's predicted boxes (cx, cy, w, h relative to the image, in [0, 1]): max |accel - ref|
};

// "logits_rel", "top1", ... (the names `accel conform --json` prints).
std::string_view to_string(HfMetric metric);
// top1 and embedding_cosine must be at least the limit; the others at most.
bool higher_is_better(HfMetric metric);

// Random weights produce near-ties that float rounding may legitimately flip: top-1 must agree only where the
// reference's margin between its two best logits exceeds this (logit units).
inline constexpr double hf_top1_epsilon = 0.01;

struct HfLimit {
    std::string_view model_type;  // Hugging Face model_type of the fixture class ("llama", "bert", ...)
    ConvertType type;
    HfMetric metric;
    double limit;
};

// The whole table. Thread-safe (static data).
const std::vector<HfLimit>& hf_limits();
// The limit for one class, type and metric; nullopt when the table has none (that metric is not judged there).
std::optional<double> hf_limit(std::string_view model_type, ConvertType type, HfMetric metric);
// The rows for one class and type, in table order.
std::vector<HfLimit> hf_limits_for(std::string_view model_type, ConvertType type);

}  // namespace accel::model
