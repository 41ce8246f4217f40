// X-CLIP against transformers: accel's graph (engine/graphs/xclip.cpp) on the frames' pixel values transformers'
// VideoMAEImageProcessor gave (reference.safetensors pixel_values, frames x 3 x S x S) and the fixture's token ids,
// compared with its normalized video and text embeddings (the text ones after the video-specific prompt) and
// logits_per_video. The processor is checked apart (tests/media/video_test), so a difference here is the model's.
#include <algorithm>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/xclip_model.h"
#include "hf_cases.h"

namespace accel::bench::detail {

void run_video_text(const HfCase& c, ConformResult& r) {
    using model::HfMetric;
    const auto ref = nlohmann::json::parse(read_text(c.dir / "reference.json"));
    const auto st = c.dir / "reference.safetensors";
    auto model =
        engine::XclipModel::load(c.model, {.device = c.device == "cpu" ? "" : c.device, .n_threads = c.n_threads});
    r.loaded = true;
    const uint32_t side = model.image_size();
    const size_t one = size_t{3} * side * side;
    const auto pixels = read_f32_tensor(st, "pixel_values");
    if (pixels.empty() || pixels.size() % one != 0)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: pixel_values is not frames x 3 x {} x {}", st.string(), side, side));
    std::vector<media::PixelValues> frames;
    for (size_t at = 0; at < pixels.size(); at += one)
        frames.push_back({3, side, side,
                          std::vector<float>(pixels.begin() + static_cast<std::ptrdiff_t>(at),
                                             pixels.begin() + static_cast<std::ptrdiff_t>(at + one))});
    const auto texts = ref.at("input_ids").get<std::vector<std::vector<int32_t>>>();
    auto out = model.run(frames, texts);
    if (perturbed(c.cls)) {
        for (auto& v : out.logits_per_video) v = -v;
    }
    const auto video = read_f32_tensor(st, "video_embeds");
    const auto text = read_f32_tensor(st, "text_embeds");
    const auto logits = read_f32_tensor(st, "logits_per_video");
    for (const auto& [got, want, what] : {std::tuple{out.video_embeds.size(), video.size(), "video embedding values"},
                                          std::tuple{out.text_embeds.size(), text.size(), "text embedding values"},
                                          std::tuple{out.logits_per_video.size(), logits.size(), "logits"}})
        if (got != want)
            throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} {}, the reference {}", got, what, want));
    add_metric(r, c, HfMetric::embedding_max_abs,
               std::max(max_abs_diff(out.video_embeds.data(), video.data(), video.size()),
                        max_abs_diff(out.text_embeds.data(), text.data(), text.size())));
    add_metric(r, c, HfMetric::logits_rel,
               max_abs_diff(out.logits_per_video.data(), logits.data(), logits.size()) / range_of(logits));
    r.top1 = argmax(out.logits_per_video.data(), logits.size()) == argmax(logits.data(), logits.size()) ? 1.0 : 0.0;
    add_metric(r, c, HfMetric::top1, *r.top1);
}

}  // namespace accel::bench::detail
