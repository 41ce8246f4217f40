// accel's Whisper path (engine::WhisperModel: model/'s validator, then whisper.cpp) doing what whisper.cpp's own
// whisper-bench does on the same file, so that benchmarks/whisper_parity.sh can compare the two:
//   load; twice (warm-up) encode + 256 single-token decodes; then one timed encode and 256 timed single-token
//   decodes (n_past = 0 .. 255, token 0), as whisper-bench's whisper_bench_full times them.
// Prints one JSON line: {"tool": "accel", "encode_ms", "decode_ms" (all 256), "n_threads", "model"}.
//   whisper_parity MODEL [THREADS]
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/whisper_model.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
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
        const int32_t n_frames = 2 * model.hparams().n_audio_ctx;
        const std::vector<float> mel(static_cast<size_t>(n_frames) * static_cast<size_t>(model.hparams().n_mels), 0.0f);
        const std::vector<int32_t> tokens(256, 0);
        for (int warm = 0; warm < 2; ++warm) {
            model.encode(mel, n_frames);
            (void)model.decode_teacher_forced(tokens);
        }
        const auto t0 = Clock::now();
        model.encode(mel, n_frames);
        const double encode_ms = ms_since(t0);
        const auto t1 = Clock::now();
        (void)model.decode_teacher_forced(tokens);
        const double decode_ms = ms_since(t1);
        fmt::print("{{\"tool\": \"accel\", \"encode_ms\": {:.3f}, \"decode_ms\": {:.3f}, \"n_threads\": {}, \"model\": \"{}\"}}\n",
                   encode_ms, decode_ms, n_threads, path);
    } catch (const accel::Error& e) {
        std::fprintf(stderr, "whisper_parity: %s\n", e.what());
        return 1;
    }
    return 0;
}
