// The vision scenario through run_point (the one point pipeline) on the vit and clip fixtures converted by accel:
// the samples, the vision figures (preprocessing apart from the pass, FLOPs from the shape, memory estimate and
// measurement), the JSON round trip the measuring child uses, the test name, the stored scenario; DETR on its
// fixture at the input size its processor gives; a text model and a bad batch fail as a point, never as a crash.
#include <gtest/gtest.h>

#include "accel/bench/point_result.h"
#include "accel/bench/point_runner.h"
#include "accel/bench/run_recorder.h"
#include "accel/model/hf_convert.h"
#include "accel/model/memory_estimate.h"
#include "accel/model/gguf_file.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::bench::PointOptions;
using accel::bench::PointSpec;
using accel::bench::Scenario;

PointOptions fast() {
    PointOptions o;
    o.rules.n_warmup = 1;
    o.rules.n_min_reps = 3;
    return o;
}

TEST(VisionScenario, VitAndClipPointsMeasureImagesPerSecond) {
    accel::test::TempDir tmp;
    for (const char* m : {"vit", "clip"}) {
        const auto gguf = tmp / (std::string(m) + ".gguf");
        accel::model::convert_hf(accel::test::hf_fixture(m), gguf, {.type = accel::model::ConvertType::f16});
        const PointSpec spec{.scenario = Scenario::vision, .model = gguf.string(), .n_prompt = 64, .n_threads = 1,
                             .embed_batch = 2};
        EXPECT_EQ(spec.test_name(), "vision b2 64px");
        const auto r = accel::bench::run_point(spec, fast());
        ASSERT_TRUE(r.ok) << m << ": " << r.failure_stage << " " << r.failure_reason;
        ASSERT_EQ(r.measurement.samples_ns.size(), 3u) << m;
        EXPECT_EQ(r.measurement.samples_tokens, (std::vector<int32_t>{2, 2, 2})) << m;  // images per pass
        for (size_t i = 0; i < 3; ++i)
            EXPECT_NEAR(r.measurement.samples_ts[i], 2e9 / static_cast<double>(r.measurement.samples_ns[i]), 1e-6);
        ASSERT_TRUE(r.vision.has_value());
        const auto& v = *r.vision;
        EXPECT_EQ(v.arch, std::string(m) == "vit" ? "vit" : "clip_model");
        EXPECT_EQ(v.batch, 2);
        EXPECT_EQ(v.source_width, 64);
        EXPECT_EQ(v.source_height, 48);
        EXPECT_EQ(v.image_size, 32);
        EXPECT_EQ(v.input_width, 32);
        EXPECT_EQ(v.input_height, 32);
        EXPECT_GT(v.preprocess_p50_ms, 0);
        EXPECT_LE(v.latency_p50_ms, v.latency_p99_ms);
        const auto shape = accel::model::vision_shape_from_gguf(accel::model::read_gguf(gguf));
        EXPECT_DOUBLE_EQ(v.flops_per_image, accel::model::vision_flops_per_image(shape));
        EXPECT_NEAR(v.gflops_per_s, v.flops_per_image * v.images_per_s / 1e9, 1e-9);
        EXPECT_EQ(v.compute_bytes_estimate, accel::model::estimate_vision_memory(shape, 2).compute_buffer_bytes);
        EXPECT_GT(v.compute_bytes_measured, 0u);
        EXPECT_EQ(r.model_size, shape.weights_bytes);
        EXPECT_FALSE(r.model_sha256.empty());
        ASSERT_TRUE(r.roofline.has_value());  // a figure, or the reason there is none
        EXPECT_FALSE(r.roofline->basis.empty());
        // the measuring child's JSON keeps the vision figures
        const auto back = accel::bench::point_result_from_json(accel::bench::to_json_text(r));
        ASSERT_TRUE(back.vision.has_value());
        EXPECT_EQ(back.vision->source_width, 64);
        EXPECT_DOUBLE_EQ(back.vision->images_per_s, v.images_per_s);
        EXPECT_EQ(accel::bench::to_result_record(r).scenario, "vision");
    }
}

// DETR: the input follows the source image (DetrImageProcessor keeps its aspect ratio, the fixture's shortest edge
// 64, longest 96), so the point stores the padded size the pass saw; no FLOP count or graph buffers for it yet.
TEST(VisionScenario, DetrPointMeasuresImagesPerSecondAtItsInputSize) {
    accel::test::TempDir tmp;
    const auto gguf = tmp / "detr.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("detr"), gguf, {.type = accel::model::ConvertType::f16});
    const PointSpec spec{
        .scenario = Scenario::vision, .model = gguf.string(), .n_prompt = 64, .n_threads = 1, .embed_batch = 2};
    const auto r = accel::bench::run_point(spec, fast());
    ASSERT_TRUE(r.ok) << r.failure_stage << " " << r.failure_reason;
    ASSERT_EQ(r.measurement.samples_ns.size(), 3u);
    EXPECT_EQ(r.measurement.samples_tokens, (std::vector<int32_t>{2, 2, 2}));
    for (size_t i = 0; i < 3; ++i)
        EXPECT_NEAR(r.measurement.samples_ts[i], 2e9 / static_cast<double>(r.measurement.samples_ns[i]), 1e-6);
    ASSERT_TRUE(r.vision.has_value());
    const auto& v = *r.vision;
    EXPECT_EQ(v.arch, "detr");
    EXPECT_EQ(r.model_arch, "detr");
    EXPECT_EQ(v.source_width, 64);
    EXPECT_EQ(v.source_height, 48);
    EXPECT_EQ(v.image_size, 0);
    EXPECT_EQ(v.input_width, 85);  // 48 -> 64 on the short side: 64 x 64 / 48 = 85.3, truncated as transformers
    EXPECT_EQ(v.input_height, 64);
    EXPECT_GT(v.preprocess_p50_ms, 0);
    EXPECT_GT(v.images_per_s, 0);
    EXPECT_EQ(v.flops_per_image, 0);
    EXPECT_EQ(v.compute_bytes_measured, 0u);
    EXPECT_EQ(r.model_size, accel::model::read_gguf(gguf).weights_bytes());
    EXPECT_NE(r.model_desc.find("detr 64d 2+2 layers F16"), std::string::npos) << r.model_desc;
    ASSERT_TRUE(r.roofline.has_value());
    EXPECT_EQ(r.roofline->basis, "no FLOP count for detr yet");
    const auto back = accel::bench::point_result_from_json(accel::bench::to_json_text(r));
    ASSERT_TRUE(back.vision.has_value());
    EXPECT_EQ(back.vision->input_width, 85);
    EXPECT_EQ(back.vision->arch, "detr");
    EXPECT_EQ(accel::bench::to_result_record(r).scenario, "vision");
}

TEST(VisionScenario, OtherModelsAndBadBatchesFailAsPoints) {
    accel::test::TempDir tmp;
    const auto bert = tmp / "bert.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("bert"), bert, {});
    auto r = accel::bench::run_point({.scenario = Scenario::vision, .model = bert.string(), .n_prompt = 64}, fast());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.failure_reason.find("not vit, clip_model or detr"), std::string::npos) << r.failure_reason;
    const auto vit = tmp / "vit.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("vit"), vit, {});
    r = accel::bench::run_point({.scenario = Scenario::vision, .model = vit.string(), .n_prompt = 64, .embed_batch = 0},
                                fast());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.failure_reason.find("a batch of at least 1 image"), std::string::npos) << r.failure_reason;
}

}  // namespace
