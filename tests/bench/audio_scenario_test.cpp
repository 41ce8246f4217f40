// accel bench's audio scenario on accel make-model whisper's tiny file: one point measured in this process (the
// repetitions, the real-time factor, features timed apart from whisper_full, the first segment), its JSON form
// round-tripped as it is stored, the sweep's audio points and the synthetic clip.
#include <gtest/gtest.h>

#include <cmath>

#include "accel/bench/audio_scenario.h"
#include "accel/bench/point_runner.h"
#include "accel/bench/sweep.h"
#include "accel/engine/synthetic_whisper.h"
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

TEST(AudioScenario, ANonWhisperFileFailsAtLoad) {
    accel::test::TempDir tmp;
    accel::test::write_file(tmp / "x.bin", "not a model");
    const PointSpec spec{.scenario = Scenario::audio, .model = (tmp / "x.bin").string(), .n_prompt = 1};
    const PointResult r = run_point(spec, {});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failure_stage, "load");
}

}  // namespace
