// engine::WhisperModel::transcribe on whisper_full: accel make-model whisper's tiny file (random weights, real
// shape) on espeak-ng speech of several lengths and on silence, the segments streamed as returned, features laid out
// as whisper.cpp pads them, the random-weights mark, and refused inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "accel/core/error.h"
#include "accel/engine/synthetic_whisper.h"
#include "accel/engine/whisper_model.h"
#include "accel/media/audio.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "speech.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::engine::WhisperModel;

class WhisperTranscribe : public testing::Test {
protected:
    static void SetUpTestSuite() {
        tmp_ = new accel::test::TempDir;
        const auto m = accel::engine::make_synthetic_whisper({.size = "tiny", .seed = 1, .out = model_path()});
        EXPECT_NE(m.name.find("RANDOM WEIGHTS"), std::string::npos);
        EXPECT_GT(m.n_params, 30'000'000u);  // whisper-tiny has 39 M (37.8 M without the tied output)
        EXPECT_LT(m.n_params, 40'000'000u);
    }
    static void TearDownTestSuite() {
        delete tmp_;
        tmp_ = nullptr;
    }
    static fs::path model_path() { return *tmp_ / "tiny.bin"; }
    static inline accel::test::TempDir* tmp_ = nullptr;
};

TEST_F(WhisperTranscribe, SyntheticTinyHasTheRealShapeAndSaysItIsRandom) {
    auto m = WhisperModel::load(model_path(), {.n_threads = 2});
    EXPECT_TRUE(m.random_weights());
    EXPECT_TRUE(m.multilingual());
    EXPECT_EQ(m.n_vocab(), 51865);
    EXPECT_EQ(m.hparams().n_audio_state, 384);
    EXPECT_EQ(m.hparams().n_text_layer, 4);
    EXPECT_EQ(accel::engine::whisper_size_hparams("small").n_audio_layer, 12);
    EXPECT_THROW(accel::engine::whisper_size_hparams("huge"), accel::Error);
    accel::test::TempDir t;
    EXPECT_THROW(accel::engine::make_synthetic_whisper({.type = accel::engine::WeightType::q4_0, .out = t / "x.bin"}),
                 accel::Error);
    EXPECT_FALSE(fs::exists(t / "x.bin"));
}

TEST_F(WhisperTranscribe, ConvertedCheckpointIsNotMarkedRandom) {
    accel::test::TempDir t;
    accel::model::convert_hf(accel::test::hf_fixture("whisper"), t / "w.bin", {.type = accel::model::ConvertType::f16});
    auto m = WhisperModel::load(t / "w.bin", {.n_threads = 2});
    EXPECT_FALSE(m.random_weights());  // the fixture's weights are random too, but its file cannot say so
    EXPECT_FALSE(m.multilingual());
    const auto mel = m.features(std::vector<float>(16000, 0.0f));
    EXPECT_THROW(m.transcribe(mel, 16000, {.language = "de"}), accel::Error);  // English-only
}

TEST_F(WhisperTranscribe, FeaturesArePaddedWithThirtySecondsOfZeros) {
    auto m = WhisperModel::load(model_path(), {.n_threads = 2});
    const auto mel = m.features(std::vector<float>(16000, 0.0f), 2);
    EXPECT_EQ(mel.n_mels, 80);
    EXPECT_EQ(mel.n_frames, (16000 + 480000) / 160);
    EXPECT_THROW(m.transcribe(mel, 32000, {}), accel::Error);  // fewer frames than 2 s need
    EXPECT_THROW(m.transcribe(mel, 16000, {.language = "xx-not-a-language"}), accel::Error);
}

// Speech of about 5 s and 40 s (past Whisper's 30 s window), then 5 s of silence: each transcribes, every
// segment the callback saw is in the result in order, times inside the audio (whisper.cpp may end the last one at
// the window's end, 30 s past its start). Random weights decode to the cap of each window, so the cap is small: the
// test is about windows and segments, not text.
TEST_F(WhisperTranscribe, SpeechOfSeveralLengthsAndSilence) {
    auto m = WhisperModel::load(model_path(), {.n_threads = 2});
    accel::test::TempDir t;
    for (const int n : {1, 10}) {
        const auto wav = t / ("speech" + std::to_string(n) + ".wav");
        ACCEL_REQUIRE_SPEECH(accel::test::repeated_speech(n), wav);
        const auto audio = accel::media::load_audio(wav, 16000);
        std::vector<accel::engine::TranscriptSegment> seen;
        const auto r = accel::engine::transcribe_audio(m, audio, {.language = "en", .n_threads = 2, .max_tokens = 24},
                                                      [&](const auto& s) { seen.push_back(s); });
        EXPECT_NEAR(r.audio_seconds, audio.seconds(), 1e-9);
        EXPECT_EQ(r.language, "en");
        ASSERT_EQ(seen.size(), r.segments.size());
        int64_t last = 0;
        for (size_t i = 0; i < seen.size(); ++i) {
            EXPECT_EQ(seen[i].text, r.segments[i].text);
            EXPECT_GE(seen[i].t0_ms, last);
            EXPECT_LE(seen[i].t0_ms, seen[i].t1_ms);
            EXPECT_LE(seen[i].t0_ms, static_cast<int64_t>(audio.seconds() * 1000) + 10);
            last = seen[i].t0_ms;
        }
        EXPECT_GT(r.whisper_times.encode_ms, 0.0);
        // One encoder pass per window whisper_full seeks to: at least one per started 30 s of audio.
        const int32_t windows = static_cast<int32_t>(std::ceil(audio.seconds() / 30.0));
        EXPECT_GE(r.n_encode, windows);
        if (n == 10) {
            EXPECT_GT(audio.seconds(), 30.0) << "the long clip must pass Whisper's 30 s window";
        }
    }
    const auto silent = m.features(std::vector<float>(5 * 16000, 0.0f), 2);
    const auto r = m.transcribe(silent, 5 * 16000, {.language = "en", .n_threads = 2, .max_tokens = 24});
    EXPECT_DOUBLE_EQ(r.audio_seconds, 5.0);
}

TEST_F(WhisperTranscribe, AnExceptionInTheCallbackStopsTheRun) {
    auto m = WhisperModel::load(model_path(), {.n_threads = 2});
    std::vector<float> noise(3 * 16000);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = 0.3f * static_cast<float>((i * 7919) % 200) / 200.0f - 0.15f;
    const auto mel = m.features(noise, 2);
    int calls = 0;
    try {
        m.transcribe(mel, noise.size(), {.language = "en", .n_threads = 2, .max_tokens = 24}, [&](const auto&) {
            ++calls;
            throw std::runtime_error("stop");
        });
        // random weights may decode no segment at all: then nothing was thrown
        EXPECT_EQ(calls, 0);
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "stop");
        EXPECT_EQ(calls, 1);
    }
}

}  // namespace
