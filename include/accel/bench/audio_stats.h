#pragma once
// What an audio point (accel bench --scenario audio: Whisper through whisper.cpp) measured beyond the common
// Measurement. Stored under "audio" in a result's extra (docs/bench.md, "Audio").
#include <cstdint>
#include <optional>

namespace accel::bench {

struct AudioStats {
    double clip_seconds = 0;       // audio per repetition
    double rtf = 0;                // real-time factor: audio seconds per wall second, mean over repetitions
    double latency_p50_ms = 0;     // per repetition: features + transcription (the clip is in memory: no decoding)
    double latency_p90_ms = 0;
    double latency_p99_ms = 0;
    double features_ms = 0;        // the log-mel (media/), timed by bench, mean
    double transcribe_ms = 0;      // whisper_full (encoder, decoder, sampling), timed by bench, mean
    double encode_ms = 0;          // whisper.cpp's own timers (whisper_get_timings), mean: the encoder
    double decode_ms = 0;          // whisper.cpp's own timers: decoder passes (decode + batched + prompt)
    std::optional<double> first_segment_ms_p50;  // start of features to the first segment; none when no segment
    double segments = 0;           // segments decoded, mean
    int32_t n_threads = 0;
};

}  // namespace accel::bench
