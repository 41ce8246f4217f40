// media/ audio: files written here through libsndfile (WAV, FLAC, Ogg Vorbis), decoded and resampled by accel and
// compared with the sine they were written from; refused files (missing, empty, no samples, not audio, AIFF).
#include <gtest/gtest.h>

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "accel/core/error.h"
#include "accel/media/audio.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::media::Audio;

double sine(double hz, double amp, double t) { return amp * std::sin(2.0 * std::numbers::pi * hz * t); }

// Writes `channels` interleaved copies of a sine (channel c scaled by 1 / (c + 1)) through libsndfile.
void write_sine(const fs::path& path, int format, int rate, int channels, double seconds, double hz = 440.0) {
    SF_INFO info{.frames = 0, .samplerate = rate, .channels = channels, .format = format, .sections = 0, .seekable = 0};
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
    const auto n = static_cast<size_t>(seconds * rate);
    std::vector<float> buf(n * static_cast<size_t>(channels));
    for (size_t i = 0; i < n; ++i)
        for (int c = 0; c < channels; ++c)
            buf[i * static_cast<size_t>(channels) + static_cast<size_t>(c)] =
                static_cast<float>(sine(hz, 0.5, static_cast<double>(i) / rate) / (c + 1));
    EXPECT_EQ(sf_writef_float(f, buf.data(), static_cast<sf_count_t>(n)), static_cast<sf_count_t>(n));
    sf_close(f);
}

// max |a[i] - expected(i / rate)| over the samples away from both ends (the resampler's filter edges)
double max_err(const Audio& a, double hz, double amp, size_t margin) {
    double err = 0;
    for (size_t i = margin; i + margin < a.samples.size(); ++i)
        err = std::max(err, std::abs(a.samples[i] - sine(hz, amp, static_cast<double>(i) / a.sample_rate)));
    return err;
}

// root-mean-square of a - expected over the sine's own RMS (amp / sqrt 2), away from both ends
double rel_rms_err(const Audio& a, double hz, double amp, size_t margin) {
    double sum = 0;
    size_t n = 0;
    for (size_t i = margin; i + margin < a.samples.size(); ++i, ++n) {
        const double e = a.samples[i] - sine(hz, amp, static_cast<double>(i) / a.sample_rate);
        sum += e * e;
    }
    return std::sqrt(sum / static_cast<double>(std::max<size_t>(n, 1))) / (amp / std::sqrt(2.0));
}

TEST(Audio, WavStereoIsAveragedAndResampledTo16k) {
    accel::test::TempDir tmp;
    write_sine(tmp / "a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.0);
    const Audio raw = accel::media::decode_audio(tmp / "a.wav");
    EXPECT_EQ(raw.sample_rate, 44100);
    ASSERT_EQ(raw.samples.size(), 44100u);
    EXPECT_LT(max_err(raw, 440, 0.75 * 0.5, 0), 1e-4);  // (1 + 1/2) / 2 of the sine, 16-bit steps of 3e-5
    const Audio a = accel::media::resample_audio(raw, 16000);
    EXPECT_EQ(a.sample_rate, 16000);
    EXPECT_EQ(a.samples.size(), 16000u);
    EXPECT_DOUBLE_EQ(a.seconds(), 1.0);
    EXPECT_LT(max_err(a, 440, 0.375, 64), 2e-3);
}

TEST(Audio, FlacAndOggDecode) {
    accel::test::TempDir tmp;
    write_sine(tmp / "a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 22050, 1, 0.5, 1000.0);
    const Audio flac = accel::media::load_audio(tmp / "a.flac", 16000);
    EXPECT_EQ(flac.samples.size(), 8000u);
    EXPECT_LT(max_err(flac, 1000, 0.5, 64), 2e-3);
    write_sine(tmp / "a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, 0.5, 1000.0);
    const Audio ogg = accel::media::load_audio(tmp / "a.ogg", 16000);
    EXPECT_EQ(ogg.samples.size(), 8000u);
    EXPECT_LT(rel_rms_err(ogg, 1000, 0.5, 400), 0.05);  // Vorbis is lossy: 5% of the signal's RMS
}

TEST(Audio, SameRateIsACopy) {
    const Audio in{.sample_rate = 16000, .samples = {0.25f, -0.5f}};
    EXPECT_EQ(accel::media::resample_audio(in, 16000).samples, in.samples);
    EXPECT_THROW(accel::media::resample_audio(in, 0), accel::Error);
}

void expect_refused(const fs::path& file, const std::string& words) {
    try {
        accel::media::decode_audio(file);
        ADD_FAILURE() << file << " was accepted";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        const std::string msg = e.what();
        EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find(words), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
}

TEST(Audio, RefusedFilesSayWhyInOneLine) {
    accel::test::TempDir tmp;
    expect_refused(tmp / "missing.wav", "does not exist");
    expect_refused(tmp.path(), "not a regular file");
    accel::test::write_file(tmp / "empty.wav", "");
    expect_refused(tmp / "empty.wav", "empty");
    accel::test::write_file(tmp / "text.wav", "this is not audio, just some text in a file\n");
    expect_refused(tmp / "text.wav", "cannot decode audio");
    write_sine(tmp / "none.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0.0);
    expect_refused(tmp / "none.wav", "no samples");
    write_sine(tmp / "a.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 16000, 1, 0.1);
    expect_refused(tmp / "a.aiff", "not supported");
}

}  // namespace
