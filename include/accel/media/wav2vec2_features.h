#pragma once
// Wav2Vec2FeatureExtractor (transformers' feature_extraction_wav2vec2.py) on one unpadded mono clip: its input
// values are the samples themselves, normalized to zero mean and unit variance when the extractor's do_normalize is
// set (every English Wav2Vec2ForCTC checkpoint). Resampling to its sampling rate (16 kHz) is the caller's.

#include <span>
#include <vector>

namespace accel::media {

// zero_mean_unit_var_norm: (x - mean) / sqrt(var + 1e-7), population variance, the sums in double (numpy sums the
// f32 samples pairwise in f32; the two agree to a few 1e-7). An empty clip gives an empty result. Thread-safe.
std::vector<float> wav2vec2_normalize(std::span<const float> samples);

}  // namespace accel::media
