// The image and speech classes against transformers: ViT and CLIP (accel's ggml graphs) on the pixel values
// transformers' processor gave, Whisper (whisper.cpp) on its log-mel features. The preprocessing itself is checked
// apart (tests/media), so a difference here is the model's.
#include <algorithm>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/clip_model.h"
#include "accel/engine/image_classifier.h"
#include "accel/engine/whisper_model.h"
#include "hf_cases.h"

namespace accel::bench::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using model::HfMetric;

engine::VisionParams vision_params(const HfCase& c) {
    return {.device = c.device == "cpu" ? "" : c.device, .n_threads = c.n_threads};
}

// The fixture's images, as transformers' processor gave them: reference.safetensors holds "<stem>.pixel_values"
// for each file in reference.json's "images" ("shapes.png" -> "shapes_png").
std::vector<std::string> image_stems(const json& ref) {
    std::vector<std::string> stems;
    for (const auto& f : ref.at("images")) {
        std::string s = f.get<std::string>();
        std::replace(s.begin(), s.end(), '.', '_');
        stems.push_back(s);
    }
    return stems;
}

std::vector<media::PixelValues> pixel_values(const fs::path& st, const std::vector<std::string>& stems, uint32_t side) {
    std::vector<media::PixelValues> out;
    for (const auto& s : stems) {
        media::PixelValues pv{3, side, side, read_f32_tensor(st, s + ".pixel_values")};
        if (pv.data.size() != size_t{3} * side * side) {
            throw Error(ErrorKind::invalid_input, fmt::format("{}: {}.pixel_values is not 3 x {} x {}", st.string(), s, side, side));
        }
        out.push_back(std::move(pv));
    }
    return out;
}

// Share of rows (n_rows x n_cols) whose best column is the reference's.
double same_best(const std::vector<float>& got, const std::vector<float>& ref, size_t n_rows, size_t n_cols) {
    size_t same = 0;
    for (size_t i = 0; i < n_rows; ++i) same += argmax(got.data() + i * n_cols, n_cols) == argmax(ref.data() + i * n_cols, n_cols);
    return n_rows == 0 ? 1.0 : static_cast<double>(same) / static_cast<double>(n_rows);
}

void check_size(size_t got, size_t want, const char* what) {
    if (got != want) throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} {}, the reference {}", got, what, want));
}

}  // namespace

void run_image_classes(const HfCase& c, ConformResult& r) {
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    const auto st = c.dir / "reference.safetensors";
    const auto stems = image_stems(ref);
    auto model = engine::ImageClassifier::load(c.model, vision_params(c));
    r.loaded = true;
    const auto images = pixel_values(st, stems, model.image_size());
    auto out = model.run(images);
    if (perturbed(c.cls)) {
        for (auto& v : out.logits) v = -v;
    }
    std::vector<float> expected;
    for (const auto& s : stems) {
        const auto l = read_f32_tensor(st, s + ".logits");
        expected.insert(expected.end(), l.begin(), l.end());
    }
    check_size(out.logits.size(), expected.size(), "logits");
    add_metric(r, c, HfMetric::logits_rel, max_abs_diff(out.logits.data(), expected.data(), expected.size()) / range_of(expected));
    // the final hidden states of the first image (CLS and patches)
    const auto hidden = read_f32_tensor(st, stems.at(0) + ".last_hidden_state");
    if (out.last_hidden_state.size() < hidden.size()) check_size(out.last_hidden_state.size(), hidden.size(), "hidden values");
    add_metric(r, c, HfMetric::state_rel, max_abs_diff(out.last_hidden_state.data(), hidden.data(), hidden.size()) / range_of(hidden));
    r.top1 = same_best(out.logits, expected, out.n_images, out.n_labels);
    add_metric(r, c, HfMetric::top1, *r.top1);
}

void run_image_text(const HfCase& c, ConformResult& r) {
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    const auto st = c.dir / "reference.safetensors";
    auto model = engine::ClipModel::load(c.model, vision_params(c));
    r.loaded = true;
    const auto images = pixel_values(st, image_stems(ref), model.image_size());
    const auto texts = ref.at("input_ids").get<std::vector<std::vector<int32_t>>>();
    auto out = model.run(images, texts);
    if (perturbed(c.cls)) {
        for (auto& v : out.logits_per_image) v = -v;
    }
    const auto image_embeds = read_f32_tensor(st, "image_embeds");
    const auto text_embeds = read_f32_tensor(st, "text_embeds");
    const auto logits = read_f32_tensor(st, "logits_per_image");
    check_size(out.image_embeds.size(), image_embeds.size(), "image embedding values");
    check_size(out.text_embeds.size(), text_embeds.size(), "text embedding values");
    check_size(out.logits_per_image.size(), logits.size(), "logits_per_image values");
    add_metric(r, c, HfMetric::embedding_max_abs,
               std::max(max_abs_diff(out.image_embeds.data(), image_embeds.data(), image_embeds.size()),
                        max_abs_diff(out.text_embeds.data(), text_embeds.data(), text_embeds.size())));
    add_metric(r, c, HfMetric::logits_rel, max_abs_diff(out.logits_per_image.data(), logits.data(), logits.size()) / range_of(logits));
    r.top1 = same_best(out.logits_per_image, logits, out.n_images, out.n_texts);
    add_metric(r, c, HfMetric::top1, *r.top1);
}

void run_speech(const HfCase& c, ConformResult& r) {
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    auto tokens = ref.at("input_ids").get<std::vector<int32_t>>();
    const auto generated = ref.at("generated_ids").get<std::vector<int32_t>>();
    const size_t n_forced = tokens.size();
    tokens.insert(tokens.end(), generated.begin(), generated.end());
    const auto st = c.dir / "reference.safetensors";
    const auto mel = read_f32_tensor(st, "input_features");
    const auto expected = read_f32_tensor(st, "logits");
    auto m = engine::WhisperModel::load(c.model, {.n_threads = c.n_threads, .use_gpu = c.device != "cpu"});
    r.loaded = true;
    m.encode(mel, static_cast<int32_t>(mel.size() / static_cast<size_t>(m.hparams().n_mels)));
    auto got = m.decode_teacher_forced(tokens);
    if (perturbed(c.cls)) {
        for (auto& v : got) v = -v;
    }
    check_size(got.size(), expected.size(), "logits");
    add_metric(r, c, HfMetric::logits_rel, max_abs_diff(got.data(), expected.data(), expected.size()) / range_of(expected));
    // row n_forced - 1 + k predicted generated[k]
    r.top1 = teacher_forced_top1(got, expected, static_cast<size_t>(m.n_vocab()), n_forced - 1, generated,
                                 ref.at("top1_margins").get<std::vector<double>>());
    add_metric(r, c, HfMetric::top1, *r.top1);
}

}  // namespace accel::bench::detail
