// accel bench's audio scenario on accel make-model whisper's tiny file: one point measured in this process (the
// repetitions, the real-time factor, features timed apart from whisper_full, the first segment), its JSON form
// round-tripped as it is stored, the sweep's audio points and the synthetic clip; a Wav2Vec2 point on its fixture.
#include <gtest/gtest.h>

#include <cmath>

#include "accel/bench/audio_scenario.h"
#include "accel/bench/point_runner.h"
#include "accel/bench/sweep.h"
#include "accel/engine/synthetic_whisper.h"
#include "accel/model/gguf_file.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using namespace accel::bench;

TEST(AudioScenario, SweepAndNames) {
    EXPECT_EQ(parse_scenario("audio"), Scenario::audio);
    EXPECT_STREQ(to_string(Scenario::audio), "audio");
    SweepSpec s{.scenarios = {Scenario::audio}, .models = {"w.bin"}, .n_prompt = {5, 40}};
    const auto points = expand(s);
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].test_name(), "audio 5s");
    EXPECT_EQ(points[1].n_prompt, 40);
}

TEST(AudioScenario, SyntheticClipIsDeterministicAndBounded) {
    const auto a = synthetic_clip(2.0, 7), b = synthetic_clip(2.0, 7), c = synthetic_clip(2.0, 8);
    ASSERT_EQ(a.size(), 32000u);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    double peak = 0;
    for (float x : a) peak = std::max(peak, std::abs(double{x}));
    EXPECT_GT(peak, 0.1);
    EXPECT_LE(peak, 1.0);
}

TEST(AudioScenario, MeasuresAPointAndStoresItsAudioStats) {
    accel::test::TempDir tmp;
    const auto model = tmp / "tiny.bin";
    accel::engine::make_synthetic_whisper({.size = "tiny", .out = model});
    const PointSpec spec{.scenario = Scenario::audio, .model = model.string(), .n_prompt = 3, .n_gen = 0, .n_threads = 2};
    const PointResult r = run_point(spec, {.rules = {.n_warmup = 0, .n_min_reps = 2, .n_max_reps = 2}});
    ASSERT_TRUE(r.ok) << r.failure_stage << ": " << r.failure_reason;
    ASSERT_TRUE(r.audio.has_value());
    const AudioStats& a = *r.audio;
    EXPECT_EQ(r.measurement.samples_ns.size(), 2u);
    EXPECT_DOUBLE_EQ(a.clip_seconds, 3.0);
    EXPECT_GT(a.rtf, 0.0);
    EXPECT_NEAR(a.rtf, r.measurement.ts.mean, 1e-12);
    EXPECT_GT(a.features_ms, 0.0);
    EXPECT_GT(a.transcribe_ms, 0.0);
    EXPECT_GT(a.encode_ms, 0.0);  // whisper.cpp's own encoder timer
    // each repetition's latency is features + whisper_full, so their means add up to the latency's mean
    EXPECT_NEAR(a.features_ms + a.transcribe_ms, r.measurement.ns.mean / 1e6, 1e-6 * r.measurement.ns.mean);
    EXPECT_LE(a.latency_p50_ms, a.latency_p99_ms);
    EXPECT_EQ(r.model_arch, "whisper");
    EXPECT_EQ(r.model_n_params, 37'760'640u);  // whisper-tiny's layout (make-model prints the same)
    EXPECT_NE(r.model_name.find("RANDOM WEIGHTS"), std::string::npos);
    const PointResult back = point_result_from_json(to_json_text(r));
    ASSERT_TRUE(back.audio.has_value());
    EXPECT_DOUBLE_EQ(back.audio->rtf, a.rtf);
    EXPECT_EQ(back.audio->first_segment_ms_p50, a.first_segment_ms_p50);
    EXPECT_EQ(back.spec.scenario, Scenario::audio);
}

// Wav2Vec2 (accel's graph, the fixture converted by accel): one forward pass over the whole clip per repetition,
// the feature extractor, the pass and the CTC decoding timed apart; no first segment.
TEST(AudioScenario, MeasuresAWav2Vec2Point) {
    accel::test::TempDir tmp;
    const auto model = tmp / "w2v.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("wav2vec2"), model, {.type = accel::model::ConvertType::f16});
    const PointSpec spec{
        .scenario = Scenario::audio, .model = model.string(), .n_prompt = 2, .n_gen = 0, .n_threads = 1};
    const PointResult r = run_point(spec, {.rules = {.n_warmup = 1, .n_min_reps = 3, .n_max_reps = 3}});
    ASSERT_TRUE(r.ok) << r.failure_stage << ": " << r.failure_reason;
    ASSERT_TRUE(r.audio.has_value());
    const AudioStats& a = *r.audio;
    EXPECT_EQ(r.measurement.samples_ns.size(), 3u);
    EXPECT_TRUE(r.measurement.ttft_ns.empty());
    EXPECT_DOUBLE_EQ(a.clip_seconds, 2.0);
    EXPECT_NEAR(a.rtf, r.measurement.ts.mean, 1e-12);
    EXPECT_GT(a.encode_ms, 0.0);  // the forward pass
    EXPECT_DOUBLE_EQ(a.transcribe_ms, a.encode_ms + a.decode_ms);
    EXPECT_NEAR(a.features_ms + a.transcribe_ms, r.measurement.ns.mean / 1e6, 1e-6 * r.measurement.ns.mean);
    EXPECT_FALSE(a.first_segment_ms_p50.has_value());
    EXPECT_EQ(a.n_threads, 1);
    EXPECT_EQ(r.model_arch, "wav2vec2");
    const auto file = accel::model::read_gguf(model);
    uint64_t n = 0;
    for (const auto& t : file.tensors) n += t.n_elements;
    EXPECT_EQ(r.model_n_params, n);
    EXPECT_EQ(r.model_size, file.weights_bytes());
    EXPECT_NE(r.model_desc.find("wav2vec2 2x64 F16"), std::string::npos) << r.model_desc;
    const PointResult back = point_result_from_json(to_json_text(r));
    ASSERT_TRUE(back.audio.has_value());
    EXPECT_DOUBLE_EQ(back.audio->encode_ms, a.encode_ms);
    EXPECT_EQ(spec.test_name(), "audio 2s");
}

TEST(AudioScenario, AGgufOfAnotherArchitectureFailsAtLoad) {
    accel::test::TempDir tmp;
    const auto bert = tmp / "bert.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("bert"), bert, {});
    const PointResult r = run_point({.scenario = Scenario::audio, .model = bert.string(), .n_prompt = 1}, {});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failure_stage, "load");
    EXPECT_NE(r.failure_reason.find("not a whisper.cpp file or a wav2vec2 GGUF"), std::string::npos)
        << r.failure_reason;
}

TEST(AudioScenario, ANonWhisperFileFailsAtLoad) {
    accel::test::TempDir tmp;
    accel::test::write_file(tmp / "x.bin", "not a model");
    const PointSpec spec{.scenario = Scenario::audio, .model = (tmp / "x.bin").string(), .n_prompt = 1};
    const PointResult r = run_point(spec, {});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failure_stage, "load");
}

}  // namespace
