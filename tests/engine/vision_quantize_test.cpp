// accel quantize on accel's own image models (engine::quantize hands vit, clip_model and detr to vision_quantize.cpp,
// not llama_model_quantize): the fixtures converted at f32, quantized to Q8_0 and Q4_0, run against transformers'
// outputs. Q8_0 meets the tolerance table's q8_0 limits (docs/conform.md), as `accel convert --type q8_0` does;
// Q4_0 has no table row: it keeps each image's top-1 and stays within the limits stated here (measured figures in
// docs/conform.md). Types llama.cpp has and accel's image models do not are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/clip_model.h"
#include "accel/engine/image_classifier.h"
#include "accel/engine/object_detector.h"
#include "accel/engine/quantize.h"
#include "accel/model/gguf_file.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;
using accel::model::HfMetric;

double rel_diff(const std::vector<float>& got, const std::vector<float>& ref) {
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    double m = 0;
    for (size_t i = 0; i < ref.size(); ++i) m = std::max(m, std::fabs(double(got[i]) - ref[i]));
    return m / (*hi - *lo);
}

double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

std::vector<std::filesystem::path> quantize_both(const std::filesystem::path& f32) {
    const auto outs = accel::engine::quantize({.input = f32, .types = {"q8_0", "Q4_0"}, .n_threads = 2});
    EXPECT_EQ(outs.size(), 2u);
    std::vector<std::filesystem::path> paths;
    for (const auto& o : outs) {
        EXPECT_EQ(o.file_bytes, std::filesystem::file_size(o.path));
        EXPECT_EQ(o.estimated_bytes, o.file_bytes) << o.type.name;  // the header gives every size exactly
        paths.push_back(o.path);
    }
    return paths;
}

constexpr double q4_vit_limit = 0.15, q4_clip_embeds_limit = 0.1, q4_clip_logits_limit = 0.5;

TEST(VisionQuantize, VitQ8MeetsTheTableAndQ4KeepsTop1) {
    const auto dir = accel::test::hf_fixture("vit");
    const auto st = dir / "reference.safetensors";
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "vit-f32.gguf", {.type = ConvertType::f32});
    const auto paths = quantize_both(tmp / "vit-f32.gguf");
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(paths[0].filename(), "vit-Q8_0.gguf");
    const auto info = accel::model::read_gguf(paths[1]);
    EXPECT_EQ(info.get_string("general.architecture").value_or(""), "vit");
    for (size_t k = 0; k < 2; ++k) {
        auto model = accel::engine::ImageClassifier::load(paths[k], {.device = "cpu", .n_threads = 2});
        const double limit = k == 0 ? accel::test::table_limit("vit", ConvertType::q8_0, HfMetric::logits_rel) : q4_vit_limit;
        for (const char* stem : {"shapes_png", "small_png"}) {
            accel::media::PixelValues pv{3, 32, 32, accel::test::read_st_tensor(st, std::string(stem) + ".pixel_values")};
            const auto out = model.run(std::span(&pv, 1));
            const auto ref = accel::test::read_st_tensor(st, std::string(stem) + ".logits");
            const double rel = rel_diff(out.logits, ref);
            std::fprintf(stderr, "%s %s: logits %.2e\n", paths[k].filename().c_str(), stem, rel);
            EXPECT_LE(rel, limit) << paths[k] << " " << stem;
            EXPECT_EQ(std::max_element(out.logits.begin(), out.logits.end()) - out.logits.begin(),
                      std::max_element(ref.begin(), ref.end()) - ref.begin()) << stem;
        }
    }
}

TEST(VisionQuantize, ClipQ8MeetsTheTableAndQ4KeepsBestMatches) {
    const auto dir = accel::test::hf_fixture("clip");
    const auto st = dir / "reference.safetensors";
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clip-f32.gguf", {.type = ConvertType::f32});
    const auto paths = quantize_both(tmp / "clip-f32.gguf");
    ASSERT_EQ(paths.size(), 2u);
    std::vector<accel::media::PixelValues> images;
    for (const char* stem : {"shapes_png", "small_png"})
        images.push_back({3, 32, 32, accel::test::read_st_tensor(st, std::string(stem) + ".pixel_values")});
    const auto texts = ref["input_ids"].get<std::vector<std::vector<int32_t>>>();
    const auto logits = accel::test::read_st_tensor(st, "logits_per_image");
    const auto image_embeds = accel::test::read_st_tensor(st, "image_embeds");
    for (size_t k = 0; k < 2; ++k) {
        auto model = accel::engine::ClipModel::load(paths[k], {.device = "cpu", .n_threads = 2});
        EXPECT_TRUE(model.has_tokenizer());  // the metadata travels
        const auto out = model.run(images, texts);
        const double e = max_abs(out.image_embeds, image_embeds), l = rel_diff(out.logits_per_image, logits);
        std::fprintf(stderr, "%s: image embeds %.2e, logits %.2e\n", paths[k].filename().c_str(), e, l);
        EXPECT_LE(e, k == 0 ? accel::test::table_limit("clip", ConvertType::q8_0, HfMetric::embedding_max_abs)
                            : q4_clip_embeds_limit);
        EXPECT_LE(l, k == 0 ? accel::test::table_limit("clip", ConvertType::q8_0, HfMetric::logits_rel)
                            : q4_clip_logits_limit);
        if (k == 0)
            for (size_t i = 0; i < images.size(); ++i) {
                const float* g = out.logits_per_image.data() + i * texts.size();
                const float* r = logits.data() + i * texts.size();
                EXPECT_EQ(std::max_element(g, g + texts.size()) - g, std::max_element(r, r + texts.size()) - r) << i;
            }
    }
}

// DETR (both fixtures: transformers' ResNet and timm's): the transformer's and the heads' matrices quantize; the
// backbone's convolutions, the input projection, the object queries, norms and biases keep f32. Against
// transformers' logits and boxes on the reference batch: Q8_0 within the table's q8_0 limits, Q4_0 within the
// limits stated here (no table row). Each file is smaller than the last.
constexpr double q4_detr_logits_limit = 0.2, q4_detr_boxes_limit = 0.1;

TEST(VisionQuantize, DetrQ8MeetsTheTableAndQ4StaysClose) {
    for (const char* fixture : {"detr", "detr_timm"}) {
        const auto dir = accel::test::hf_fixture(fixture);
        const auto st = dir / "reference.safetensors";
        accel::test::TempDir tmp;
        accel::model::convert_hf(dir, tmp / "detr-f32.gguf", {.type = ConvertType::f32});
        const auto paths = quantize_both(tmp / "detr-f32.gguf");
        ASSERT_EQ(paths.size(), 2u);
        EXPECT_EQ(paths[1].filename(), "detr-Q4_0.gguf");
        const auto f32_bytes = std::filesystem::file_size(tmp / "detr-f32.gguf");
        EXPECT_LT(std::filesystem::file_size(paths[0]), f32_bytes);
        EXPECT_LT(std::filesystem::file_size(paths[1]), std::filesystem::file_size(paths[0]));
        const auto q4 = accel::model::read_gguf(paths[1]);
        auto type_of = [&](const std::string& name) {
            for (const auto& t : q4.tensors)
                if (t.name == name) return t.ggml_type;
            ADD_FAILURE() << "no tensor " << name;
            return 99u;
        };
        EXPECT_EQ(type_of("enc.blk.0.attn_q.weight"), 2u);  // q4_0
        EXPECT_EQ(type_of("dec.blk.1.ffn_down.weight"), 2u);
        EXPECT_EQ(type_of("cls.weight"), 2u);
        EXPECT_EQ(type_of("bbox.2.weight"), 2u);
        EXPECT_EQ(type_of("query_embd.weight"), 0u);  // f32: added, not multiplied
        EXPECT_EQ(type_of("input_proj.weight"), 0u);  // 4-D convolutions keep their type
        EXPECT_EQ(type_of("backbone.stem.weight"), 0u);
        EXPECT_EQ(type_of("backbone.0.0.conv.0.weight"), 0u);
        EXPECT_EQ(q4.get_uint("general.file_type"), 2u);
        EXPECT_EQ(q4.get_string("detr.backbone.layer_type"), std::string(fixture) == "detr" ? "basic" : "bottleneck");

        accel::media::DetrBatch batch{2, 85, 75, accel::test::read_st_tensor(st, "pixel_values"), {}, {}};
        for (const float m : accel::test::read_st_tensor(st, "pixel_mask")) batch.pixel_mask.push_back(m != 0.0f);
        const auto logits = accel::test::read_st_tensor(st, "logits");
        const auto boxes = accel::test::read_st_tensor(st, "pred_boxes");
        for (size_t k = 0; k < 2; ++k) {
            auto model = accel::engine::ObjectDetector::load(paths[k], {.device = "cpu", .n_threads = 2});
            EXPECT_EQ(model.labels().size(), 3u);  // the metadata travels
            const auto out = model.run(batch);
            ASSERT_EQ(out.logits.size(), logits.size());
            ASSERT_EQ(out.boxes.size(), boxes.size());
            const double l = rel_diff(out.logits, logits), b = max_abs(out.boxes, boxes);
            std::fprintf(stderr, "%s %s: logits %.2e, boxes %.2e\n", fixture, paths[k].filename().c_str(), l, b);
            EXPECT_LE(l, k == 0 ? accel::test::table_limit("detr", ConvertType::q8_0, HfMetric::logits_rel)
                                : q4_detr_logits_limit) << fixture;
            EXPECT_LE(b, k == 0 ? accel::test::table_limit("detr", ConvertType::q8_0, HfMetric::box_max_abs)
                                : q4_detr_boxes_limit) << fixture;
        }
    }
}

TEST(VisionQuantize, RefusesADetrThatIsAlreadyQuantized) {
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture("detr"), tmp / "detr.gguf", {.type = ConvertType::q8_0});
    int n_progress = 0;  // refused before the first type starts
    try {
        (void)accel::engine::quantize({.input = tmp / "detr.gguf", .types = {"q4_0"},
                                       .on_progress = [&](const accel::engine::QuantizeProgress&) { ++n_progress; }});
        ADD_FAILURE() << "a q8_0 detr was quantized again";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("is q8_0: quantize an F32 or F16 file"), std::string::npos) << e.what();
    }
    try {
        (void)accel::engine::quantize({.input = tmp / "detr.gguf", .types = {"q5_k_m"}});
        ADD_FAILURE() << "q5_k_m accepted";
    } catch (const accel::Error& e) {
        EXPECT_NE(std::string(e.what()).find("(vit, clip_model, detr, clap, xclip) quantize to Q8_0 and Q4_0, not Q5_K_M"),
                  std::string::npos) << e.what();
    }
    EXPECT_EQ(n_progress, 0);
    EXPECT_FALSE(std::filesystem::exists(tmp / "detr-Q4_0.gguf"));
}

TEST(VisionQuantize, RefusesTypesAndInputsItCannotWrite) {
    const auto dir = accel::test::hf_fixture("vit");
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "vit.gguf", {.type = ConvertType::q8_0});
    accel::model::convert_hf(dir, tmp / "vit-f16.gguf", {.type = ConvertType::f16});
    auto expect_refused = [](const accel::engine::QuantizeRequest& r, const std::string& says) {
        try {
            (void)accel::engine::quantize(r);
            ADD_FAILURE() << "no throw: " << says;
        } catch (const accel::Error& e) {
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << e.what();
            EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
        }
    };
    expect_refused({.input = tmp / "vit-f16.gguf", .types = {"q4_k_m"}}, "quantize to Q8_0 and Q4_0, not Q4_K_M");
    expect_refused({.input = tmp / "vit-f16.gguf", .types = {"q8_0", "Q8_0"}}, "given twice");
    expect_refused({.input = tmp / "vit-f16.gguf", .types = {"q8_0"}, .imatrix = tmp / "x.dat"}, "without an imatrix");
    expect_refused({.input = tmp / "vit.gguf", .types = {"q4_0"}}, "quantize an F32 or F16 file");
    EXPECT_FALSE(std::filesystem::exists(tmp / "vit-Q4_0.gguf"));  // nothing left behind
}

}  // namespace
