// CLAP (accel's ggml graphs) against transformers: the audio and text embeddings and logits_per_audio on the input
// features transformers' ClapFeatureExtractor gave and its input ids (unpadded by the attention mask: accel pads on
// its own), and the best text. The extractor itself is checked apart (tests/engine/clap_reference_test).
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/clap_model.h"
#include "hf_cases.h"

namespace accel::bench::detail {

using model::HfMetric;

namespace {

std::vector<std::vector<int32_t>> unpadded_ids(const nlohmann::json& ref) {
    const auto ids = ref.at("input_ids").get<std::vector<std::vector<int32_t>>>();
    const auto mask = ref.at("attention_mask").get<std::vector<std::vector<int32_t>>>();
    if (ids.size() != mask.size()) throw Error(ErrorKind::invalid_input, "reference.json: input_ids and attention_mask differ");
    std::vector<std::vector<int32_t>> out(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
        for (size_t j = 0; j < ids[i].size() && j < mask[i].size(); ++j)
            if (mask[i][j] == 1) out[i].push_back(ids[i][j]);
    return out;
}

}  // namespace

void run_audio_text(const HfCase& c, ConformResult& r) {
    const auto ref = nlohmann::json::parse(read_text(c.dir / "reference.json"));
    const auto st = c.dir / "reference.safetensors";
    auto model = engine::ClapModel::load(c.model, {.device = c.device == "cpu" ? "" : c.device, .n_threads = c.n_threads});
    r.loaded = true;
    const auto features = read_f32_tensor(st, "input_features");
    const uint32_t n_mels = model.n_mels();
    if (n_mels == 0 || features.size() % n_mels != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("input_features holds {} values, not frames of {} mel bins",
                                                          features.size(), n_mels));
    const std::vector<engine::ClapFeatures> audios = {
        {static_cast<uint32_t>(features.size() / n_mels), n_mels, features}};
    auto out = model.run(audios, unpadded_ids(ref));
    if (perturbed(c.cls)) {
        for (auto& v : out.logits_per_audio) v = -v;
    }
    const auto audio_embeds = read_f32_tensor(st, "audio_embeds");
    const auto text_embeds = read_f32_tensor(st, "text_embeds");
    const auto logits = read_f32_tensor(st, "logits_per_audio");
    if (out.audio_embeds.size() != audio_embeds.size() || out.text_embeds.size() != text_embeds.size() ||
        out.logits_per_audio.size() != logits.size())
        throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} audio and {} text embedding values and {} "
                                                          "logits, the reference {}, {} and {}", out.audio_embeds.size(),
                                                          out.text_embeds.size(), out.logits_per_audio.size(),
                                                          audio_embeds.size(), text_embeds.size(), logits.size()));
    add_metric(r, c, HfMetric::embedding_max_abs,
               std::max(max_abs_diff(out.audio_embeds.data(), audio_embeds.data(), audio_embeds.size()),
                        max_abs_diff(out.text_embeds.data(), text_embeds.data(), text_embeds.size())));
    add_metric(r, c, HfMetric::logits_rel, max_abs_diff(out.logits_per_audio.data(), logits.data(), logits.size()) / range_of(logits));
    size_t same = 0;
    for (size_t a = 0; a < out.n_audios; ++a)
        same += argmax(out.logits_per_audio.data() + a * out.n_texts, out.n_texts) ==
                argmax(logits.data() + a * out.n_texts, out.n_texts);
    r.top1 = double(same) / double(out.n_audios);
    add_metric(r, c, HfMetric::top1, *r.top1);
}

}  // namespace accel::bench::detail
