#pragma once
// What an audio point (accel bench --scenario audio: Whisper through whisper.cpp, Wav2Vec2 and CLAP's audio tower
// through accel's graphs) measured beyond the common Measurement. Stored under "audio" in a result's extra
// (docs/bench.md, "Audio"). A figure the architecture has no such step for, or that accel does not count, is
// nullopt (null in the JSON), never 0.
#include <cstdint>
#include <optional>
#include <string>

namespace accel::bench {

struct AudioStats {
    double clip_seconds = 0;       // audio per repetition
    double rtf = 0;                // real-time factor: audio seconds per wall second, mean over repetitions
    // What one latency sample (and so rtf) covers: "features+transcription" (whisper), "features+pass+ctc"
    // (wav2vec2) or "pass" (clap: the audio tower alone, its features timed apart). "" in results stored before.
    std::string latency_covers;
    double latency_p50_ms = 0;  // per repetition, as latency_covers says (the clip is in memory: no decoding)
    double latency_p90_ms = 0;
    double latency_p99_ms = 0;
    double features_ms = 0;               // the log-mel or normalization (media/), timed by bench, mean
    std::optional<double> transcribe_ms;  // whisper_full, or wav2vec2's pass + CTC decoding, mean; null for clap
    // The encoder, per repetition: whisper.cpp's timer (a mean per pass) times the passes whisper_full ran;
    // wav2vec2's pass or clap's audio tower.
    double encode_ms = 0;
    // whisper: whisper_full's time outside the encoder (decoder passes, sampling, timestamps); wav2vec2: the CTC
    // decoding; null for clap.
    std::optional<double> decode_ms;
    std::optional<double> first_segment_ms_p50;  // start of features to the first segment; none when no segment
    std::optional<double> segments;  // segments decoded, mean; null for clap (it gives an embedding, not text)
    // The audio the model sees per pass when it is a fixed window (clap: the feature extractor's max_length_s, the
    // clip repeated or padded to it); null where the pass follows the clip's length.
    std::optional<double> window_seconds;
    std::optional<double> flops_per_clip;  // null: accel has no FLOP formula for these models yet
    std::string flops_unavailable;         // why flops_per_clip is null
    int32_t n_threads = 0;
};

}  // namespace accel::bench
