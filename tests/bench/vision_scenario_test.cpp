// The vision scenario through run_point (the one point pipeline) on the vit and clip fixtures converted by accel:
// the samples, the vision figures (preprocessing apart from the pass, FLOPs from the shape, memory estimate and
// measurement), the JSON round trip the measuring child uses, the test name, the stored scenario; DETR on its
// fixture at the input size its processor gives; X-CLIP's video tower on its fixture (clips/s, per-frame cost);
// what is not counted is null with its reason, also when read from the 0 an older accel stored; a text model and a
// bad batch fail as a point, never as a crash.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

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
        ASSERT_TRUE(v.flops_per_image && v.gflops_per_s && v.compute_bytes_estimate && v.compute_bytes_measured);
        EXPECT_DOUBLE_EQ(*v.flops_per_image, accel::model::vision_flops_per_image(shape));
        EXPECT_NEAR(*v.gflops_per_s, *v.flops_per_image * v.images_per_s / 1e9, 1e-9);
        EXPECT_TRUE(v.flops_unavailable.empty()) << v.flops_unavailable;
        EXPECT_EQ(*v.compute_bytes_estimate, accel::model::estimate_vision_memory(shape, 2).compute_buffer_bytes);
        EXPECT_GT(*v.compute_bytes_measured, 0u);
        EXPECT_TRUE(v.compute_bytes_unavailable.empty()) << v.compute_bytes_unavailable;
        EXPECT_DOUBLE_EQ(v.images_per_s, r.measurement.ts.mean);  // an image model: the samples count images
        EXPECT_FALSE(v.clips_per_s.has_value());
        EXPECT_FALSE(v.frame_ms.has_value());
        EXPECT_EQ(v.n_frames, 0);
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
// 64, longest 96), so the point stores the padded size the pass saw; no FLOP count or graph buffers for it yet: null,
// with the reason.
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
    EXPECT_FALSE(v.flops_per_image.has_value());
    EXPECT_FALSE(v.gflops_per_s.has_value());
    EXPECT_NE(v.flops_unavailable.find("not counted for detr"), std::string::npos) << v.flops_unavailable;
    EXPECT_FALSE(v.compute_bytes_estimate.has_value());
    EXPECT_FALSE(v.compute_bytes_measured.has_value());
    EXPECT_NE(v.compute_bytes_unavailable.find("ObjectDetector does not report"), std::string::npos);
    EXPECT_EQ(r.model_size, accel::model::read_gguf(gguf).weights_bytes());
    EXPECT_NE(r.model_desc.find("detr 64d 2+2 layers F16"), std::string::npos) << r.model_desc;
    ASSERT_TRUE(r.roofline.has_value());
    EXPECT_EQ(r.roofline->basis, "no FLOP count for detr yet");
    const auto back = accel::bench::point_result_from_json(accel::bench::to_json_text(r));
    ASSERT_TRUE(back.vision.has_value());
    EXPECT_EQ(back.vision->input_width, 85);
    EXPECT_EQ(back.vision->arch, "detr");
    EXPECT_FALSE(back.vision->flops_per_image.has_value());
    EXPECT_EQ(back.vision->flops_unavailable, v.flops_unavailable);
    EXPECT_FALSE(back.vision->compute_bytes_measured.has_value());
    const auto j = nlohmann::json::parse(accel::bench::to_json_text(r));
    EXPECT_TRUE(j["vision"]["flops_per_image"].is_null());
    EXPECT_TRUE(j["vision"]["gflops_per_s"].is_null());
    EXPECT_TRUE(j["vision"]["compute_bytes_measured"].is_null());
    EXPECT_TRUE(j["vision"]["clips_per_s"].is_null());
    EXPECT_EQ(accel::bench::to_result_record(r).scenario, "vision");
}

// A DETR point stored before these figures could be null has 0 for "not counted" and no reason: it reads back as
// null with a reason, never as 0 FLOPs or 0 bytes.
TEST(VisionScenario, ZerosStoredByAnOlderAccelReadAsUnavailable) {
    accel::bench::PointResult r;
    r.spec = {.scenario = Scenario::vision, .model = "detr.gguf", .n_prompt = 64, .embed_batch = 1};
    r.ok = true;
    r.vision = accel::bench::VisionStats{.arch = "detr", .images_per_s = 10};
    auto j = nlohmann::json::parse(accel::bench::to_json_text(r));
    auto& v = j["vision"];
    for (const char* k :
         {"n_frames", "n_source_frames", "clips_per_s", "frame_ms", "flops_unavailable", "compute_bytes_unavailable"})
        v.erase(k);
    v["flops_per_image"] = 0.0;
    v["gflops_per_s"] = 0.0;
    v["compute_bytes_estimate"] = 0;
    v["compute_bytes_measured"] = 0;
    const auto back = accel::bench::point_result_from_json(j.dump());
    ASSERT_TRUE(back.vision.has_value());
    EXPECT_FALSE(back.vision->flops_per_image.has_value());
    EXPECT_FALSE(back.vision->gflops_per_s.has_value());
    EXPECT_EQ(back.vision->flops_unavailable, "not counted for detr (stored as 0 by an older accel)");
    EXPECT_FALSE(back.vision->compute_bytes_estimate.has_value());
    EXPECT_FALSE(back.vision->compute_bytes_measured.has_value());
    EXPECT_EQ(back.vision->compute_bytes_unavailable, "not reported for detr (stored as 0 by an older accel)");
    EXPECT_EQ(back.vision->n_frames, 0);
    EXPECT_DOUBLE_EQ(back.vision->images_per_s, 10);
}

// X-CLIP's video tower (the fixture: 4 frames of 32 px, patch 8): a pass embeds b clips, each its 4 frames sampled
// from a source clip of 8; the samples count clips, the per-frame cost is the pass over frames x clips, the
// preprocessing (sampling, resize, normalize) is timed apart; no FLOP count (null, with the reason), no estimate
// before load, graph buffers measured.
TEST(VisionScenario, XclipPointMeasuresClipsPerSecondAndPerFrameCost) {
    accel::test::TempDir tmp;
    const auto gguf = tmp / "xclip.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("xclip"), gguf, {.type = accel::model::ConvertType::f16});
    const PointSpec spec{
        .scenario = Scenario::vision, .model = gguf.string(), .n_prompt = 64, .n_threads = 1, .embed_batch = 2};
    const auto r = accel::bench::run_point(spec, fast());
    ASSERT_TRUE(r.ok) << r.failure_stage << " " << r.failure_reason;
    const auto& m = r.measurement;
    ASSERT_EQ(m.samples_ns.size(), 3u);
    EXPECT_EQ(m.samples_tokens, (std::vector<int32_t>{2, 2, 2}));  // clips per pass
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(m.samples_ts[i], 2e9 / static_cast<double>(m.samples_ns[i]), 1e-6);
    ASSERT_TRUE(r.vision.has_value());
    const auto& v = *r.vision;
    EXPECT_EQ(v.arch, "xclip");
    EXPECT_EQ(r.model_arch, "xclip");
    EXPECT_NE(r.model_desc.find("xclip 32px/8 4 frames F16"), std::string::npos) << r.model_desc;
    EXPECT_EQ(v.batch, 2);
    EXPECT_EQ(v.n_frames, 4);
    EXPECT_EQ(v.n_source_frames, 8);
    EXPECT_EQ(v.source_width, 64);
    EXPECT_EQ(v.source_height, 48);
    EXPECT_EQ(v.image_size, 32);
    EXPECT_EQ(v.input_width, 32);
    EXPECT_EQ(v.input_height, 32);
    // clips/s is the samples' mean, each 2 clips over its pass: between the slowest and the fastest pass's rate
    ASSERT_TRUE(v.clips_per_s && v.frame_ms);
    EXPECT_DOUBLE_EQ(*v.clips_per_s, m.ts.mean);
    const auto [lo, hi] = std::minmax_element(m.samples_ns.begin(), m.samples_ns.end());
    EXPECT_GE(*v.clips_per_s, 2e9 / static_cast<double>(*hi) - 1e-9);
    EXPECT_LE(*v.clips_per_s, 2e9 / static_cast<double>(*lo) + 1e-9);
    EXPECT_NEAR(v.images_per_s, 4 * *v.clips_per_s, 1e-9 * v.images_per_s);  // frames/s
    EXPECT_NEAR(*v.frame_ms, m.ns.mean / 1e6 / (4 * 2), 1e-12);
    EXPECT_LE(v.latency_p50_ms, v.latency_p99_ms);
    EXPECT_GT(v.preprocess_p50_ms, 0);
    EXPECT_FALSE(v.flops_per_image.has_value());
    EXPECT_FALSE(v.gflops_per_s.has_value());
    EXPECT_NE(v.flops_unavailable.find("not counted for xclip"), std::string::npos) << v.flops_unavailable;
    EXPECT_FALSE(v.compute_bytes_estimate.has_value());
    ASSERT_TRUE(v.compute_bytes_measured.has_value());
    EXPECT_GT(*v.compute_bytes_measured, 0u);
    EXPECT_EQ(r.model_size, accel::model::read_gguf(gguf).weights_bytes());
    ASSERT_TRUE(r.roofline.has_value());
    EXPECT_EQ(r.roofline->basis, "no FLOP count for xclip yet");
    // the measuring child's JSON: nulls where not counted, the figures back as they were
    const std::string text = accel::bench::to_json_text(r);
    const auto j = nlohmann::json::parse(text);
    EXPECT_TRUE(j["vision"]["flops_per_image"].is_null());
    EXPECT_TRUE(j["vision"]["compute_bytes_estimate"].is_null());
    EXPECT_EQ(j["vision"]["n_frames"], 4);
    const auto back = accel::bench::point_result_from_json(text);
    ASSERT_TRUE(back.vision.has_value());
    EXPECT_EQ(back.vision->n_frames, 4);
    EXPECT_EQ(back.vision->n_source_frames, 8);
    EXPECT_EQ(back.vision->clips_per_s, v.clips_per_s);
    EXPECT_EQ(back.vision->frame_ms, v.frame_ms);
    EXPECT_FALSE(back.vision->flops_per_image.has_value());
    EXPECT_EQ(back.vision->flops_unavailable, v.flops_unavailable);
    EXPECT_EQ(back.vision->compute_bytes_measured, v.compute_bytes_measured);
    EXPECT_EQ(accel::bench::to_result_record(r).scenario, "vision");
}

TEST(VisionScenario, OtherModelsAndBadBatchesFailAsPoints) {
    accel::test::TempDir tmp;
    const auto bert = tmp / "bert.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("bert"), bert, {});
    auto r = accel::bench::run_point({.scenario = Scenario::vision, .model = bert.string(), .n_prompt = 64}, fast());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.failure_reason.find("not vit, clip_model, detr or xclip"), std::string::npos) << r.failure_reason;
    const auto vit = tmp / "vit.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("vit"), vit, {});
    r = accel::bench::run_point({.scenario = Scenario::vision, .model = vit.string(), .n_prompt = 64, .embed_batch = 0},
                                fast());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.failure_reason.find("a batch of at least 1 image"), std::string::npos) << r.failure_reason;
}

}  // namespace
