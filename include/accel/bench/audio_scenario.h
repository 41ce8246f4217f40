#pragma once
// accel bench's audio scenario: a whisper.cpp model (accel make-model whisper, accel convert), a wav2vec2 GGUF
// (accel convert of a Wav2Vec2ForCTC checkpoint, accel make-model --arch wav2vec2) or a clap GGUF (accel convert of a
// ClapModel, accel make-model --arch clap) on an in-memory clip of spec.n_prompt seconds. bench owns the clock.
// Whisper: it times the log-mel and whisper_full apart, the first segment through the streaming callback;
// whisper.cpp's own encoder/decoder totals are kept beside them. Wav2Vec2: it times the feature extractor
// (features_ms), the forward pass (encode_ms) and the greedy CTC decoding (decode_ms) apart; there is no first
// segment. CLAP: the log-mel (features_ms, timed apart and outside the samples) and the audio tower's pass (the
// samples, encode_ms); the clip is made at the feature extractor's rate and may not exceed its max_length_s.
#include <cstdint>
#include <vector>

#include "accel/bench/point_result.h"
#include "accel/bench/point_runner.h"

namespace accel::bench {

// A deterministic speech-like clip at `sample_rate` Hz: voiced harmonics on a gliding pitch, syllable-rate amplitude
// envelope, pauses and a little noise. Not speech: the decoded text (and so the decoder's work) depends on the model.
std::vector<float> synthetic_clip(double seconds, uint64_t seed, int32_t sample_rate = 16000);

// Measures one audio point into r (model fields, load, repetitions by options.rules, r.audio). Throws Error for a
// failure of the point (run_point records it): Error{invalid_input} when spec.model is neither a whisper.cpp file
// nor a wav2vec2 or clap GGUF, or spec.n_prompt (the clip's seconds) is below 1 (for clap: above max_length_s).
void measure_audio_point(PointResult& r, const PointSpec& spec, const PointOptions& options);

}  // namespace accel::bench
