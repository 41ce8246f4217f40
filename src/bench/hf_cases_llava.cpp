// LLaVA against transformers: the text model and the projector (accel convert's two files) on libmtmd, fed
// transformers' own pixel values (back to 8-bit RGB: libmtmd takes images, and an image of the vision tower's size
// goes through its preprocessing unchanged), teacher-forced over the reference's ids; every row's logits and top-1
// with the margin rule. The image ids of the reference stand for libmtmd's embeddings of the image.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/multimodal_generator.h"
#include "accel/model/hf_convert.h"
#include "hf_cases.h"

namespace accel::bench::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using model::HfMetric;

// pixel_values (3 x S x S, what the processor gave) back to the 8-bit image it came from: the processor rescaled by
// 1/255 and normalized with the mean and std of preprocessor_config.json.
media::Image image_from_pixels(const fs::path& dir, const std::vector<float>& pv) {
    const auto pre = json::parse(read_text(dir / "preprocessor_config.json"));
    const auto mean = pre.at("image_mean").get<std::vector<double>>();
    const auto std = pre.at("image_std").get<std::vector<double>>();
    const auto side = static_cast<uint32_t>(std::lround(std::sqrt(static_cast<double>(pv.size()) / 3.0)));
    if (size_t{3} * side * side != pv.size() || mean.size() != 3 || std.size() != 3)
        throw Error(ErrorKind::invalid_input, dir.string() + ": pixel_values is not 3 x S x S, or no RGB mean and std");
    media::Image im{.width = side, .height = side, .rgb = std::vector<uint8_t>(pv.size())};
    const size_t plane = size_t{side} * side;
    for (size_t ch = 0; ch < 3; ++ch)
        for (size_t i = 0; i < plane; ++i) {
            const double v = std::round((pv[ch * plane + i] * std[ch] + mean[ch]) * 255.0);
            im.rgb[i * 3 + ch] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
        }
    return im;
}

}  // namespace

void run_vision_language(const HfCase& c, ConformResult& r) {
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    const auto st = c.dir / "reference.safetensors";
    auto ids = ref.at("input_ids").get<std::vector<int32_t>>();
    const auto generated = ref.at("generated_ids").get<std::vector<int32_t>>();
    const size_t n_prompt = ids.size();
    ids.insert(ids.end(), generated.begin(), generated.end());
    const fs::path mmproj = c.model.parent_path() / (c.model.stem().string() + "-mmproj.gguf");
    model::convert_hf_mmproj(c.dir, mmproj, {.type = c.type});
    const std::vector<media::Image> images{image_from_pixels(c.dir, read_f32_tensor(st, "pixel_values"))};
    auto gen = engine::MultimodalGenerator::load(c.model, mmproj,
                                                 {.device = c.device == "cpu" ? "" : c.device, .n_threads = c.n_threads,
                                                  .n_ctx = static_cast<uint32_t>(ids.size() + 1), .reference = true});
    r.loaded = true;
    auto got = gen.forced_logits(ids, ref.at("image_token_id").get<int32_t>(), images);
    if (perturbed(c.cls)) {
        for (auto& v : got.values) v = -v;
    }
    const auto expected = read_f32_tensor(st, "logits");
    if (got.values.size() != expected.size())
        throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} logits, the reference {}", got.values.size(),
                                                          expected.size()));
    add_metric(r, c, HfMetric::logits_rel, max_abs_diff(got.values.data(), expected.data(), expected.size()) / range_of(expected));
    r.top1 = teacher_forced_top1(got.values, expected, got.n_vocab, n_prompt - 1, generated,
                                 ref.at("top1_margins").get<std::vector<double>>());
    add_metric(r, c, HfMetric::top1, *r.top1);
}

}  // namespace accel::bench::detail
