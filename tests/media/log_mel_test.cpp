// media/ log-mel against transformers: the whisper fixture's waveform (scripts/oracle/fixture_whisper.py stores it
// as "audio") through accel's whisper_log_mel with model::whisper_mel_filters, compared with the input_features that
// WhisperFeatureExtractor (transformers 4.57.6, its torch path) computed from the same samples.
#include <gtest/gtest.h>

#include <cmath>

#include "accel/core/error.h"
#include "accel/media/log_mel.h"
#include "accel/model/whisper_file.h"
#include "hf_fixture.h"

namespace {

constexpr double max_abs_limit = 1e-4;  // float32 STFT and matmul in torch against double here

TEST(LogMel, MatchesWhisperFeatureExtractor) {
    const auto st = accel::test::hf_fixture("whisper") / "reference.safetensors";
    const auto audio = accel::test::read_st_tensor(st, "audio");
    const auto expected = accel::test::read_st_tensor(st, "input_features");
    ASSERT_EQ(audio.size(), 48000u);  // 3 s at 16 kHz: the fixture's chunk_length, so no padding
    const auto filters = accel::model::whisper_mel_filters(80, 400, 16000);
    for (const int32_t threads : {1, 3}) {
        const auto mel = accel::media::whisper_log_mel(accel::media::pad_or_trim(audio, 48000), filters, {}, threads);
        EXPECT_EQ(mel.n_mels, 80);
        EXPECT_EQ(mel.n_frames, 300);
        ASSERT_EQ(mel.data.size(), expected.size());
        double worst = 0;
        for (size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(double{mel.data[i]} - expected[i]));
        EXPECT_LT(worst, max_abs_limit) << threads << " threads";
        RecordProperty("max_abs_diff_threads_" + std::to_string(threads), std::to_string(worst));
    }
}

TEST(LogMel, SilenceIsTheFloorAndPaddingIsZeros) {
    const auto filters = accel::model::whisper_mel_filters(80, 400, 16000);
    const auto mel = accel::media::whisper_log_mel(std::vector<float>(1600, 0.0f), filters);
    EXPECT_EQ(mel.n_frames, 10);
    for (const float v : mel.data) EXPECT_FLOAT_EQ(v, (-10.0f + 4.0f) / 4.0f);  // log10(1e-10), max - 8 is lower
    const std::vector<float> x{1.0f, 2.0f, 3.0f};
    EXPECT_EQ(accel::media::pad_or_trim(x, 5), (std::vector<float>{1, 2, 3, 0, 0}));
    EXPECT_EQ(accel::media::pad_or_trim(x, 2), (std::vector<float>{1, 2}));
}

TEST(LogMel, RefusesWrongShapes) {
    const auto filters = accel::model::whisper_mel_filters(80, 400, 16000);
    EXPECT_THROW(accel::media::whisper_log_mel(std::vector<float>(100, 0.0f), filters), accel::Error);
    EXPECT_THROW(accel::media::whisper_log_mel(std::vector<float>(1600, 0.0f), std::vector<float>(10)), accel::Error);
    EXPECT_THROW(accel::media::whisper_log_mel(std::vector<float>(1600, 0.0f), filters, {.n_fft = 0}), accel::Error);
}

}  // namespace
