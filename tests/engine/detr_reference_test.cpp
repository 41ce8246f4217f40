// accel's DETR graph against transformers: the detr fixture (tests/fixtures/hf/detr: transformers' ResNet backbone
// with drawn frozen batch-norm statistics, 2 + 2 layers, 8 queries) and detr_timm (the same with timm's bottleneck
// ResNet under timm's names, as the published checkpoints have it) converted by accel, run on the CPU over the
// padded batch of two images and the pixel mask transformers' processor gave, compared with transformers' class
// logits and boxes. Limits: the table in docs/conform.md ("Against transformers").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "accel/core/error.h"
#include "accel/engine/object_detector.h"
#include "accel/engine/synthetic_model.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;
using accel::model::HfMetric;

struct Case {
    const char* fixture;
    ConvertType type;
};

double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

double range(const std::vector<float>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return *hi - *lo;
}

// The reference's batch: 2 images padded to 75x85 (width x height), their masks.
accel::media::DetrBatch reference_batch(const std::filesystem::path& st) {
    accel::media::DetrBatch b{2, 85, 75, accel::test::read_st_tensor(st, "pixel_values"), {}, {}};
    for (const float m : accel::test::read_st_tensor(st, "pixel_mask")) b.pixel_mask.push_back(m != 0.0f);
    return b;
}

class DetrReference : public testing::TestWithParam<Case> {};

TEST_P(DetrReference, LogitsAndBoxesMatchTransformers) {
    const ConvertType type = GetParam().type;
    const auto dir = accel::test::hf_fixture(GetParam().fixture);
    const auto st = dir / "reference.safetensors";
    accel::test::TempDir tmp;
    const auto gguf = tmp / "detr.gguf";
    accel::model::convert_hf(dir, gguf, {.type = type});
    auto model = accel::engine::ObjectDetector::load(gguf, {.device = "cpu", .n_threads = 2});
    ASSERT_EQ(model.labels(), (std::vector<std::string>{"circle", "rectangle", "stripes"}));
    const auto batch = reference_batch(st);
    ASSERT_EQ(batch.pixel_values.size(), size_t{2} * 3 * 85 * 75);
    ASSERT_EQ(batch.pixel_mask.size(), size_t{2} * 85 * 75);
    const auto out = model.run(batch);
    EXPECT_EQ(out.n_images, 2u);
    EXPECT_EQ(out.n_queries, 8u);
    EXPECT_EQ(out.n_classes, 4u);
    const auto logits = accel::test::read_st_tensor(st, "logits");
    const auto boxes = accel::test::read_st_tensor(st, "pred_boxes");
    ASSERT_EQ(out.logits.size(), logits.size());
    ASSERT_EQ(out.boxes.size(), boxes.size());
    const double rel = max_abs(out.logits, logits) / range(logits), box = max_abs(out.boxes, boxes);
    std::fprintf(stderr, "%s %s: logits_rel %.2e, box_max_abs %.2e\n", GetParam().fixture,
                 accel::model::to_string(type), rel, box);
    EXPECT_LE(rel, accel::test::table_limit("detr", type, HfMetric::logits_rel));
    EXPECT_LE(box, accel::test::table_limit("detr", type, HfMetric::box_max_abs));
}

INSTANTIATE_TEST_SUITE_P(Types, DetrReference,
                         testing::Values(Case{"detr", ConvertType::f32}, Case{"detr", ConvertType::f16},
                                         Case{"detr", ConvertType::q8_0}, Case{"detr_timm", ConvertType::f32},
                                         Case{"detr_timm", ConvertType::f16}, Case{"detr_timm", ConvertType::q8_0}),
                         [](const auto& p) {
                             return std::string(p.param.fixture) + "_" + accel::model::to_string(p.param.type);
                         });

// The batch dimension of every op is right: the same two images in the other order give the same outputs, swapped.
TEST(DetrBatch, ImagesAreIndependentInTheBatch) {
    const auto dir = accel::test::hf_fixture("detr");
    const auto st = dir / "reference.safetensors";
    accel::test::TempDir tmp;
    const auto gguf = tmp / "detr.gguf";
    accel::model::convert_hf(dir, gguf, {.type = ConvertType::f32});
    auto model = accel::engine::ObjectDetector::load(gguf, {.device = "cpu", .n_threads = 2});
    const auto batch = reference_batch(st);
    const auto both = model.run(batch);
    accel::media::DetrBatch swapped = batch;
    const size_t pv = size_t{3} * 85 * 75, pm = size_t{85} * 75;
    std::swap_ranges(swapped.pixel_values.begin(), swapped.pixel_values.begin() + pv, swapped.pixel_values.begin() + pv);
    std::swap_ranges(swapped.pixel_mask.begin(), swapped.pixel_mask.begin() + pm, swapped.pixel_mask.begin() + pm);
    const auto other = model.run(swapped);
    const size_t nl = size_t{8} * 4;
    for (size_t i = 0; i < nl; ++i) {
        EXPECT_FLOAT_EQ(both.logits[i], other.logits[nl + i]);
        EXPECT_FLOAT_EQ(both.logits[nl + i], other.logits[i]);
        EXPECT_FLOAT_EQ(both.boxes[i], other.boxes[nl + i]);
    }
}

// make-model detr: DETR-ResNet-50's shape. 41,631,008 values is what transformers' DetrForObjectDetection of that
// config (ResNetConfig bottleneck, depths 3/4/6/3, widths 256-2048, 91 labels) holds in its state dict, batch-norm
// statistics included. The model runs on a small padded batch: 100 queries, 92 classes, finite, boxes in [0, 1].
TEST(DetrSynthetic, MakeModelGivesDetrResNet50ThatRuns) {
    accel::test::TempDir tmp;
    const auto m = accel::engine::make_synthetic_model(
        {.arch = "detr", .type = accel::engine::WeightType::f16, .seed = 3, .out = tmp / "r50.gguf"});
    EXPECT_EQ(m.n_params, 41'631'008u);
    EXPECT_TRUE(accel::engine::has_random_weights(m.name)) << m.name;
    auto model = accel::engine::ObjectDetector::load(tmp / "r50.gguf", {.device = "cpu", .n_threads = 2});
    EXPECT_EQ(model.labels().size(), 91u);
    EXPECT_EQ(model.processor().shortest_edge, 800u);
    accel::media::DetrBatch b{1, 64, 96, std::vector<float>(size_t{3} * 64 * 96, 0.5f), std::vector<uint8_t>(64 * 96, 1), {}};
    for (size_t y = 40; y < 64; ++y)
        for (size_t x = 0; x < 96; ++x) b.pixel_mask[y * 96 + x] = 0;
    const auto out = model.run(b);
    EXPECT_EQ(out.n_queries, 100u);
    EXPECT_EQ(out.n_classes, 92u);
    for (const float v : out.logits) ASSERT_TRUE(std::isfinite(v));
    for (const float v : out.boxes) ASSERT_TRUE(v >= 0.0f && v <= 1.0f) << v;
    EXPECT_THROW(accel::engine::make_synthetic_model(
                     {.arch = "detr", .type = accel::engine::WeightType::q4_0, .out = tmp / "q4.gguf"}),
                 accel::Error);
    EXPECT_FALSE(std::filesystem::exists(tmp / "q4.gguf"));
}

TEST(DetrLoad, RefusesAnotherArchitecture) {
    accel::test::TempDir tmp;
    const auto gguf = tmp / "vit.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("vit"), gguf, {.type = ConvertType::f32});
    try {
        (void)accel::engine::ObjectDetector::load(gguf);
        FAIL() << "a vit model loaded as a detector";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("not an object detector"), std::string::npos) << e.what();
    }
}

}  // namespace
