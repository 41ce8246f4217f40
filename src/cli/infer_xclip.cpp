// accel infer on an X-CLIP model: the video-text similarity (the softmax of logits_per_video over the texts, as
// XCLIPModel's users do) and the best match, through engine::match_video_texts.
#include <cstddef>
#include <filesystem>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/engine/xclip_model.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {
namespace {

void print_text(const engine::XclipMatches& m) {
    std::string idx;
    for (const uint32_t i : m.frame_indices) idx += (idx.empty() ? "" : " ") + std::to_string(i);
    fmt::print("video  {} ({} frames; sampled {})\n\n", m.video.string(), m.n_frames_total, idx);
    fmt::print("{:>4}  {:>11}  {:>8}  text\n", "", "probability", "logit");
    for (size_t t = 0; t < m.texts.size(); ++t)
        fmt::print("{:>4}  {:>11.4f}  {:>8.3f}  {}\n", fmt::format("t{}", t), m.probabilities[t],
                   m.output.logits_per_video[t], m.texts[t]);
    fmt::print("\nbest  t{} {}\n", m.best_text, m.texts[m.best_text]);
}

void print_json_results(const InferOptions& o, const engine::XclipMatches& m) {
    nlohmann::json texts = nlohmann::json::array();
    for (size_t t = 0; t < m.texts.size(); ++t)
        texts.push_back({{"text", m.texts[t]},
                         {"input_ids", m.input_ids[t]},
                         {"probability", m.probabilities[t]},
                         {"logit", m.output.logits_per_video[t]}});
    print_json({{"schema_version", json_schema_version},
                {"model", o.model},
                {"task", "video_text_similarity"},
                {"video", {{"path", m.video.string()}, {"n_frames", m.n_frames_total}, {"sampled", m.frame_indices}}},
                {"texts", texts},
                {"best",
                 {{"text_index", m.best_text},
                  {"text", m.texts[m.best_text]},
                  {"probability", m.probabilities[m.best_text]}}}});
}

}  // namespace

int infer_xclip(const InferOptions& o) {
    if (o.video.empty())
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: an X-CLIP model takes --video FILE|DIR and --text TEXT", o.model));
    const auto m = engine::match_video_texts(o.model, o.video, o.texts, {.device = o.device, .n_threads = o.threads});
    if (o.json) {
        print_json_results(o, m);
    } else {
        print_text(m);
    }
    return exit_ok;
}

}  // namespace accel::cli
