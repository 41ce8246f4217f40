// accel's Whisper path (engine::WhisperModel: model/'s validator, then whisper.cpp) doing what whisper.cpp's own
// whisper-bench does on the same file, so that benchmarks/whisper_parity.sh can compare the two: load; a zero mel;
// bench.cpp's heat passes; then the timed phases of whisper_parity_phases.h (one encode, 256 single-token decodes
// at n_past 0..255, 64 five-token and 16 256-token decodes at 0) through WhisperModel::encode and ::decode, which
// copy no logits (whisper-bench reads none). Prints one JSON line (whisper_parity::to_json, tool "accel"): each
// phase's wall and process CPU time taken around accel's calls, and whisper.cpp's own timers from the same run.
//   whisper_parity MODEL [THREADS]
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/whisper_model.h"
#include "whisper_parity_phases.h"

namespace {

namespace wp = whisper_parity;

wp::Times run(accel::engine::WhisperModel& model) {
    const int32_t n_frames = 2 * model.hparams().n_audio_ctx;
    const std::vector<float> mel(static_cast<size_t>(n_frames) * static_cast<size_t>(model.hparams().n_mels), 0.0f);
    const std::vector<int32_t> zeros(512, 0);  // bench.cpp's token array
    const std::span<const int32_t> tokens(zeros);
    for (int h = 0; h < wp::n_heat; ++h) {
        model.encode(mel, n_frames);
        model.decode(tokens.first(wp::n_prompt_tokens), 0);
        for (int32_t i = 0; i < wp::n_decode; ++i) model.decode(tokens.first(1), i);
        model.decode(tokens.first(wp::n_batchd_tokens), 0);
    }
    model.reset_timings();
    wp::Times t;
    wp::timed(t, wp::encode, [&] { model.encode(mel, n_frames); });
    wp::timed(t, wp::decode, [&] {
        for (int32_t i = 0; i < wp::n_decode; ++i) model.decode(tokens.first(1), i);
    });
    wp::timed(t, wp::batchd, [&] {
        for (int i = 0; i < wp::n_batchd_calls; ++i) model.decode(tokens.first(wp::n_batchd_tokens), 0);
    });
    wp::timed(t, wp::prompt, [&] {
        for (int i = 0; i < wp::n_prompt_calls; ++i) model.decode(tokens.first(wp::n_prompt_tokens), 0);
    });
    const accel::engine::WhisperPhaseTimes w = model.timings();
    t.whisper_ms = wp::whisper_totals(w.encode_ms, w.decode_ms, w.batchd_ms, w.prompt_ms);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: whisper_parity MODEL [THREADS]\n");
        return 2;
    }
    const std::string path = argv[1];
    const int32_t n_threads = argc > 2 ? std::stoi(argv[2]) : 4;
    try {
        // whisper-bench runs with -ng -nfa in the script: CPU, flash attention off, as accel's default
        auto model = accel::engine::WhisperModel::load(path, {.n_threads = n_threads, .flash_attn = false});
        fmt::print("{}\n", wp::to_json("accel", n_threads, path, run(model)));
    } catch (const accel::Error& e) {
        std::fprintf(stderr, "whisper_parity: %s\n", e.what());
        return 1;
    }
    return 0;
}
