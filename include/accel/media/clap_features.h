#pragma once
// ClapFeatureExtractor (transformers' feature_extraction_clap.py) on one mono clip at its sampling rate: the clip cut
// or padded to max_length_s, a centred STFT (reflect padding, periodic Hann window of fft_window_size), the power
// spectrum through a mel filter bank between frequency_min and frequency_max (slaney scale and norm for
// truncation "rand_trunc", HTK scale without norm for "fusion", as the extractor's two banks), 10 log10(max(x,
// 1e-10)), all 1 + n / hop_length frames: input_features [frame][mel].
// Clips longer than max_length_s: transformers draws a random window ("rand_trunc": a random start; "fusion": three
// random crops beside a shrunk whole). accel is deterministic: it keeps the first max_length_s (rand_trunc's window at
// start 0) in both modes, one channel, so a long clip's features equal transformers' only when its draw was 0.
// Clips no longer than max_length_s match exactly. Resampling to the extractor's rate is the caller's.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace accel::media {

struct ClapFeatureConfig {  // ClapFeatureExtractor's defaults (laion/clap-htsat-unfused's values)
    uint32_t sampling_rate = 48000, feature_size = 64, fft_window_size = 1024, hop_length = 480, max_length_s = 10;
    float frequency_min = 50.0f, frequency_max = 14000.0f;
    std::string truncation = "fusion";  // "rand_trunc" or "fusion"
    std::string padding = "repeatpad";  // "repeatpad", "repeat" or "pad" (zeros)
};

// Reads preprocessor_config.json's text (`source` names it in messages); absent keys keep the defaults. Throws
// Error{invalid_input} for malformed JSON, another feature extractor type, an unknown truncation or padding, or a
// value out of range.
ClapFeatureConfig parse_clap_feature_config(const std::string& json_text, const std::string& source);

struct ClapMel {
    uint32_t n_frames = 0, n_mels = 0;
    std::vector<float> data;  // row-major [n_frames][n_mels], dB
    bool truncated = false;   // the clip was longer than max_length_s (transformers' is_longer)
};

// The input features of `samples` (mono, at config.sampling_rate). Throws Error{invalid_input} for an empty clip.
// Thread-safe; n_threads (>= 1) split the frames.
ClapMel clap_log_mel(std::span<const float> samples, const ClapFeatureConfig& config, int32_t n_threads = 1);

// transformers' audio_utils.mel_filter_bank with num_frequency_bins = 1 + n_fft / 2: "slaney" scale and norm, or
// "htk" scale without norm. Row-major [n_mels][1 + n_fft / 2], computed in double.
std::vector<float> mel_filter_bank(uint32_t n_mels, uint32_t n_fft, uint32_t sampling_rate, double f_min, double f_max,
                                   bool slaney);

}  // namespace accel::media
