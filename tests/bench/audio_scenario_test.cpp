// accel bench's audio scenario on accel make-model whisper's tiny file: one point measured in this process (the
// repetitions, the real-time factor, features timed apart from whisper_full, the first segment), its JSON form
// round-tripped as it is stored, the sweep's audio points and the synthetic clip; a Wav2Vec2 point and a CLAP point
// (its audio tower) on their fixtures.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "accel/bench/audio_scenario.h"
#include "accel/bench/point_runner.h"
#include "accel/bench/run_recorder.h"
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
    ASSERT_TRUE(a.transcribe_ms.has_value());
    EXPECT_GT(*a.transcribe_ms, 0.0);
    EXPECT_GT(a.encode_ms, 0.0);  // whisper.cpp's own encoder timer times the passes counted
    // The decoder's share is whisper_full's time outside the encoder, so the two add up to whisper_full's time; and
    // the encoder's total is no more than whisper_full's (a sum of per-call means was neither).
    ASSERT_TRUE(a.decode_ms.has_value());
    EXPECT_NEAR(a.encode_ms + *a.decode_ms, *a.transcribe_ms, 1e-9 * *a.transcribe_ms);
    EXPECT_LE(a.encode_ms, *a.transcribe_ms);
    EXPECT_EQ(a.latency_covers, "features+transcription");
    // each repetition's latency is features + whisper_full, so their means add up to the latency's mean
    EXPECT_NEAR(a.features_ms + *a.transcribe_ms, r.measurement.ns.mean / 1e6, 1e-6 * r.measurement.ns.mean);
    EXPECT_FALSE(a.window_seconds.has_value());
    EXPECT_FALSE(a.flops_per_clip.has_value());
    EXPECT_EQ(a.flops_unavailable, "not counted for whisper: no FLOP formula yet");
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
    ASSERT_TRUE(a.transcribe_ms && a.decode_ms && a.segments);
    EXPECT_DOUBLE_EQ(*a.transcribe_ms, a.encode_ms + *a.decode_ms);
    EXPECT_NEAR(a.features_ms + *a.transcribe_ms, r.measurement.ns.mean / 1e6, 1e-6 * r.measurement.ns.mean);
    EXPECT_EQ(a.latency_covers, "features+pass+ctc");
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

// CLAP's audio tower (the fixture: 16 mel bins at 16 kHz, hop 800, max_length_s 3): each repetition is the log-mel,
// timed apart, then the tower's pass, which alone makes the samples: rtf = audio seconds / pass seconds. No
// transcript, so no transcription, decoding or segments (null, not 0); the tower sees the extractor's 3 s window
// whatever the clip; no FLOP count, with the reason.
TEST(AudioScenario, MeasuresAClapPoint) {
    accel::test::TempDir tmp;
    const auto model = tmp / "clap.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("clap"), model, {.type = accel::model::ConvertType::f16});
    const PointSpec spec{
        .scenario = Scenario::audio, .model = model.string(), .n_prompt = 2, .n_gen = 0, .n_threads = 1};
    const PointResult r = run_point(spec, {.rules = {.n_warmup = 1, .n_min_reps = 3, .n_max_reps = 3}});
    ASSERT_TRUE(r.ok) << r.failure_stage << ": " << r.failure_reason;
    ASSERT_TRUE(r.audio.has_value());
    const AudioStats& a = *r.audio;
    const Measurement& m = r.measurement;
    ASSERT_EQ(m.samples_ns.size(), 3u);
    EXPECT_TRUE(m.ttft_ns.empty());
    EXPECT_DOUBLE_EQ(a.clip_seconds, 2.0);
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(m.samples_ts[i], 2e9 / static_cast<double>(m.samples_ns[i]), 1e-9);
    EXPECT_DOUBLE_EQ(a.rtf, m.ts.mean);
    EXPECT_EQ(a.latency_covers, "pass");
    EXPECT_NEAR(a.encode_ms, m.ns.mean / 1e6, 1e-9 * m.ns.mean);  // the samples are the pass alone
    EXPECT_DOUBLE_EQ(a.latency_p50_ms, m.ns.p50 / 1e6);
    EXPECT_LE(a.latency_p50_ms, a.latency_p99_ms);
    EXPECT_GT(a.features_ms, 0.0);
    EXPECT_FALSE(a.transcribe_ms.has_value());
    EXPECT_FALSE(a.decode_ms.has_value());
    EXPECT_FALSE(a.segments.has_value());
    EXPECT_FALSE(a.first_segment_ms_p50.has_value());
    EXPECT_EQ(a.window_seconds, 3.0);
    EXPECT_FALSE(a.flops_per_clip.has_value());
    EXPECT_EQ(a.flops_unavailable, "not counted for clap: no FLOP formula yet");
    EXPECT_EQ(a.n_threads, 1);
    EXPECT_EQ(r.model_arch, "clap");
    EXPECT_NE(r.model_desc.find("clap htsat 16d spec 32 16 mels F16"), std::string::npos) << r.model_desc;
    const auto file = accel::model::read_gguf(model);
    EXPECT_EQ(r.model_size, file.weights_bytes());
    // stored as every audio point: nulls where there is no such step, the figures back as they were
    const std::string text = to_json_text(r);
    const auto j = nlohmann::json::parse(text);
    EXPECT_TRUE(j["audio"]["transcribe_ms"].is_null());
    EXPECT_TRUE(j["audio"]["decode_ms"].is_null());
    EXPECT_TRUE(j["audio"]["segments"].is_null());
    EXPECT_TRUE(j["audio"]["flops_per_clip"].is_null());
    const PointResult back = point_result_from_json(text);
    ASSERT_TRUE(back.audio.has_value());
    EXPECT_DOUBLE_EQ(back.audio->rtf, a.rtf);
    EXPECT_EQ(back.audio->latency_covers, "pass");
    EXPECT_EQ(back.audio->window_seconds, 3.0);
    EXPECT_FALSE(back.audio->transcribe_ms.has_value());
    EXPECT_EQ(back.audio->flops_unavailable, a.flops_unavailable);
    EXPECT_EQ(to_result_record(r).scenario, "audio");
    // over the extractor's window the model would hear only its first 3 s: refused, not timed as 4 s
    const PointResult longer =
        run_point({.scenario = Scenario::audio, .model = model.string(), .n_prompt = 4, .n_threads = 1},
                  {.rules = {.n_warmup = 0, .n_min_reps = 1, .n_max_reps = 1}});
    EXPECT_FALSE(longer.ok);
    EXPECT_NE(longer.failure_reason.find("keeps the first 3 s of a clip"), std::string::npos) << longer.failure_reason;
}

// An audio point stored before clap: its whisper figures read back, the new keys absent.
TEST(AudioScenario, PointsStoredBeforeClapStillRead) {
    const std::string old = R"({"clip_seconds":3.0,"rtf":12.5,"latency_p50_ms":200.0,"latency_p90_ms":210.0,)"
                            R"("latency_p99_ms":220.0,"features_ms":10.0,"transcribe_ms":190.0,"encode_ms":100.0,)"
                            R"("decode_ms":80.0,"first_segment_ms_p50":150.0,"segments":1.0,"n_threads":2})";
    PointResult r;
    r.spec = {.scenario = Scenario::audio, .model = "w.bin", .n_prompt = 3};
    auto j = nlohmann::json::parse(to_json_text(r));
    j["audio"] = nlohmann::json::parse(old);
    const PointResult back = point_result_from_json(j.dump());
    ASSERT_TRUE(back.audio.has_value());
    EXPECT_EQ(back.audio->transcribe_ms, 190.0);
    EXPECT_EQ(back.audio->decode_ms, 80.0);
    EXPECT_EQ(back.audio->segments, 1.0);
    EXPECT_EQ(back.audio->latency_covers, "");
    EXPECT_FALSE(back.audio->window_seconds.has_value());
    EXPECT_FALSE(back.audio->flops_per_clip.has_value());
    EXPECT_EQ(back.audio->flops_unavailable, "not counted");
}

TEST(AudioScenario, AGgufOfAnotherArchitectureFailsAtLoad) {
    accel::test::TempDir tmp;
    const auto bert = tmp / "bert.gguf";
    accel::model::convert_hf(accel::test::hf_fixture("bert"), bert, {});
    const PointResult r = run_point({.scenario = Scenario::audio, .model = bert.string(), .n_prompt = 1}, {});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failure_stage, "load");
    EXPECT_NE(r.failure_reason.find("not a whisper.cpp file or a wav2vec2 or clap GGUF"), std::string::npos)
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
