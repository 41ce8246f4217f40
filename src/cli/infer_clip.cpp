// accel infer on a CLIP model: the image-text similarity matrix (each image's softmax over the texts, as
// CLIPModel's logits_per_image.softmax(dim=1)) and each image's best match, through engine::match_images_texts.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/version.h"
#include "accel/engine/clip_model.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {
namespace {

void print_text(const engine::ClipMatches& m) {
    const size_t n_texts = m.texts.size();
    for (size_t t = 0; t < n_texts; ++t) fmt::print("t{}  {}\n", t, m.texts[t]);
    fmt::print("\nprobability (softmax over the texts, per image)\n");
    size_t width = 5;
    for (const auto& im : m.images) width = std::max(width, im.string().size());
    fmt::print("{:<{}}", "image", width);
    for (size_t t = 0; t < n_texts; ++t) fmt::print("  {:>7}", fmt::format("t{}", t));
    fmt::print("  best\n");
    for (size_t i = 0; i < m.images.size(); ++i) {
        fmt::print("{:<{}}", m.images[i].string(), width);
        for (size_t t = 0; t < n_texts; ++t) fmt::print("  {:>7.4f}", m.probabilities[i * n_texts + t]);
        fmt::print("  t{} {}\n", m.best_text[i], m.texts[m.best_text[i]]);
    }
}

void print_json_results(const InferOptions& o, const engine::ClipMatches& m) {
    const size_t n_texts = m.texts.size();
    nlohmann::json texts = nlohmann::json::array(), images = nlohmann::json::array();
    for (size_t t = 0; t < n_texts; ++t) texts.push_back({{"text", m.texts[t]}, {"input_ids", m.input_ids[t]}});
    for (size_t i = 0; i < m.images.size(); ++i) {
        const auto row = static_cast<std::ptrdiff_t>(i * n_texts), end = row + static_cast<std::ptrdiff_t>(n_texts);
        const size_t best = m.best_text[i];
        images.push_back({{"image", m.images[i].string()},
                          {"probabilities", std::vector<float>(m.probabilities.begin() + row, m.probabilities.begin() + end)},
                          {"logits", std::vector<float>(m.output.logits_per_image.begin() + row,
                                                        m.output.logits_per_image.begin() + end)},
                          {"best", {{"text_index", best}, {"text", m.texts[best]},
                                    {"probability", m.probabilities[i * n_texts + best]}}}});
    }
    print_json({{"schema_version", json_schema_version},
                {"model", o.model},
                {"task", "image_text_similarity"},
                {"texts", texts},
                {"results", images}});
}

}  // namespace

int infer_clip(const InferOptions& o) {
    const std::vector<std::filesystem::path> images(o.images.begin(), o.images.end());
    const auto m = engine::match_images_texts(o.model, images, o.texts, {.device = o.device, .n_threads = o.threads});
    if (o.json) {
        print_json_results(o, m);
    } else {
        print_text(m);
    }
    return exit_ok;
}

}  // namespace accel::cli
