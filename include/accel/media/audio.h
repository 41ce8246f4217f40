#pragma once
// Decoded audio: mono f32 samples in [-1, 1] at a sample rate (what librosa.load(f, sr=16000) gives a Whisper
// feature extractor). libsndfile and libsoxr stay in audio.cpp.

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace accel::media {

struct Audio {
    int32_t sample_rate = 0;     // Hz
    std::vector<float> samples;  // mono
    double seconds() const { return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0; }
};

// The most samples decode_audio accepts (at the file's own rate, per channel): 2^28, over four hours at 16 kHz.
inline constexpr uint64_t max_audio_frames = uint64_t{1} << 28;

// Reads a WAV (RIFF, RF64), FLAC or Ogg (Vorbis, Opus) file through libsndfile: integer samples are scaled to
// [-1, 1] as libsndfile's float reader does, several channels are averaged to one (librosa's to_mono), the file's
// sample rate is kept. Throws Error{invalid_input} in one line naming the file when it cannot be opened or read,
// is empty (no bytes, or no samples), is another container than WAV/FLAC/Ogg, holds a sample format libsndfile
// cannot decode, or has more than max_audio_frames frames. Thread-safe.
Audio decode_audio(const std::filesystem::path& file);

// Resamples mono audio to `rate` Hz with libsoxr's high-quality filter (SOXR_HQ, the filter librosa's default
// res_type "soxr_hq" uses); the same rate returns a copy. The output has round(n * rate / in_rate) samples.
// Throws Error{invalid_input} for a rate below 1 and Error{internal} when libsoxr fails. Thread-safe.
Audio resample_audio(const Audio& in, int32_t rate);

// decode_audio then resample_audio to `rate` (Whisper: 16000). Throws as those two.
Audio load_audio(const std::filesystem::path& file, int32_t rate);

}  // namespace accel::media
