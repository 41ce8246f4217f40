#pragma once
// Whisper's log-mel spectrogram as Hugging Face's WhisperFeatureExtractor computes it (its torch path, the one
// transformers takes when torch is installed): a centred STFT (reflect padding n_fft/2) with a periodic Hann window,
// power spectrum, the last frame dropped, the mel filter bank, log10 of max(x, 1e-10), values raised to the
// maximum minus 8, then (x + 4) / 4. The filter bank comes from the caller (model::whisper_mel_filters or the one
// a whisper.cpp file stores): media/ knows no model.

#include <cstdint>
#include <span>
#include <vector>

namespace accel::media {

struct LogMelSpec {
    int32_t n_fft = 400;       // window and FFT length (samples)
    int32_t hop_length = 160;  // samples between frames
    int32_t n_mels = 80;
};

struct LogMel {
    int32_t n_mels = 0, n_frames = 0;
    std::vector<float> data;  // row-major [n_mels][n_frames] (input_features' layout)
};

// The log-mel of `samples` (16 kHz mono, already padded or cut to the window the caller wants: the feature
// extractor pads with zeros to n_samples = chunk_length * 16000). n_frames = samples.size() / hop_length.
// `filters` is row-major [n_mels][1 + n_fft / 2]. Computed in double, returned as float. Throws
// Error{invalid_input} when filters has the wrong size, samples are fewer than n_fft / 2 + 1 (reflect padding
// needs them), or spec's values are not positive. Thread-safe; n_threads (>= 1) split the frames.
LogMel whisper_log_mel(std::span<const float> samples, std::span<const float> filters, const LogMelSpec& spec = {},
                       int32_t n_threads = 1);

// The mel power (no log) of `samples` over frames 0 .. n_frames - 1 of the same centred STFT (frame t starts at
// t * hop_length - n_fft / 2, reflect-padded), row-major [n_mels][n_frames], in double. Shared by whisper_log_mel and
// clap_log_mel (which keeps all 1 + n / hop_length frames). Throws and threads as whisper_log_mel.
std::vector<double> mel_power(std::span<const float> samples, std::span<const float> filters, const LogMelSpec& spec,
                              size_t n_frames, int32_t n_threads = 1);

// `samples` cut or padded with zeros to n samples (the feature extractor's padding="max_length", truncation).
std::vector<float> pad_or_trim(std::span<const float> samples, size_t n);

}  // namespace accel::media
