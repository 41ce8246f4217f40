// LLaVA and LLaVA-Next against transformers: the text model and the projector (accel convert's two files), fed
// transformers' own pixel values (LLaVA one view; LLaVA-Next the whole image and its tiles, with the image's size for
// the unpadding), teacher-forced over the reference's ids; every row's logits and top-1 with the margin rule. The
// image ids of the reference stand for accel's embeddings of the image (engine/graphs/llava_vision.h).
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

// pixel_values (views x 3 x S x S, S the vision tower's image_size) as the engine takes them, with the original
// image's (height, width) from reference.json's image_sizes (LLaVA-Next) or S x S.
engine::ProcessedImage image_from_pixels(const fs::path& dir, const json& ref, const std::vector<float>& pv) {
    const auto config = json::parse(read_text(dir / "config.json"));
    const auto side = config.at("vision_config").value("image_size", uint32_t{224});
    const size_t one = size_t{3} * side * side;
    if (pv.empty() || pv.size() % one != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: pixel_values is not views x 3 x {} x {}", dir.string(), side, side));
    engine::ProcessedImage im{.views = {}, .height = side, .width = side};
    for (size_t at = 0; at < pv.size(); at += one)
        im.views.push_back({.channels = 3, .height = side, .width = side,
                            .data = std::vector<float>(pv.begin() + ptrdiff_t(at), pv.begin() + ptrdiff_t(at + one))});
    if (ref.contains("image_sizes")) {
        const auto hw = ref.at("image_sizes").get<std::vector<uint32_t>>();
        if (hw.size() != 2) throw Error(ErrorKind::invalid_input, dir.string() + ": image_sizes is not (height, width)");
        im.height = hw[0];
        im.width = hw[1];
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
    const std::vector<engine::ProcessedImage> images{image_from_pixels(c.dir, ref, read_f32_tensor(st, "pixel_values"))};
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
