// The peer's side of benchmarks/whisper_parity.sh with CPU time: whisper-bench's own calls (examples/bench/bench.cpp,
// whisper_bench_full, whisper.cpp 1.9.3: whisper_init_from_file_with_params, whisper_set_mel(nullptr, 0), the heat
// passes, whisper_reset_timings, then the phases of whisper_parity_phases.h) straight on whisper.h, with no accel
// code in the way. whisper-bench prints whisper.cpp's wall-time timers only; this program also times each phase from
// outside in wall and process CPU time, exactly as whisper_parity.cpp times accel's side, so that the two CPU times
// can be compared. Prints one JSON line (tool "whisper.cpp").
//   whisper_parity_peer MODEL [THREADS]
#include <whisper.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "whisper_parity_phases.h"

namespace {

namespace wp = whisper_parity;

struct Free {
    void operator()(whisper_context* ctx) const { whisper_free(ctx); }
};

// Each call as bench.cpp makes it; a failure ends the program as bench.cpp's does (a message and a non-zero exit).
void check(int rc, const char* what) {
    if (rc != 0) {
        std::fprintf(stderr, "whisper_parity_peer: %s failed (%d)\n", what, rc);
        std::exit(4);
    }
}

wp::Times run(whisper_context* ctx, int n_threads) {
    check(whisper_set_mel(ctx, nullptr, 0, whisper_model_n_mels(ctx)), "whisper_set_mel");
    std::vector<whisper_token> tokens(512, 0);
    for (int h = 0; h < wp::n_heat; ++h) {
        check(whisper_encode(ctx, 0, n_threads), "whisper_encode");
        check(whisper_decode(ctx, tokens.data(), wp::n_prompt_tokens, 0, n_threads), "whisper_decode");
        for (int i = 0; i < wp::n_decode; ++i)
            check(whisper_decode(ctx, tokens.data(), 1, i, n_threads), "whisper_decode");
        check(whisper_decode(ctx, tokens.data(), wp::n_batchd_tokens, 0, n_threads), "whisper_decode");
    }
    whisper_reset_timings(ctx);
    wp::Times t;
    wp::timed(t, wp::encode, [&] { check(whisper_encode(ctx, 0, n_threads), "whisper_encode"); });
    wp::timed(t, wp::decode, [&] {
        for (int i = 0; i < wp::n_decode; ++i)
            check(whisper_decode(ctx, tokens.data(), 1, i, n_threads), "whisper_decode");
    });
    wp::timed(t, wp::batchd, [&] {
        for (int i = 0; i < wp::n_batchd_calls; ++i)
            check(whisper_decode(ctx, tokens.data(), wp::n_batchd_tokens, 0, n_threads), "whisper_decode");
    });
    wp::timed(t, wp::prompt, [&] {
        for (int i = 0; i < wp::n_prompt_calls; ++i)
            check(whisper_decode(ctx, tokens.data(), wp::n_prompt_tokens, 0, n_threads), "whisper_decode");
    });
    // whisper_get_timings returns a new struct that the caller owns (whisper.cpp 1.9.3)
    const std::unique_ptr<whisper_timings> w{whisper_get_timings(ctx)};
    if (w) t.whisper_ms = wp::whisper_totals(w->encode_ms, w->decode_ms, w->batchd_ms, w->prompt_ms);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: whisper_parity_peer MODEL [THREADS]\n");
        return 2;
    }
    const std::string path = argv[1];
    const int n_threads = argc > 2 ? std::stoi(argv[2]) : 4;
    whisper_context_params cp = whisper_context_default_params();
    cp.use_gpu = false;     // whisper-bench -ng
    cp.flash_attn = false;  // whisper-bench -nfa
    const std::unique_ptr<whisper_context, Free> ctx{whisper_init_from_file_with_params(path.c_str(), cp)};
    if (!ctx) {
        std::fprintf(stderr, "whisper_parity_peer: whisper.cpp could not load %s\n", path.c_str());
        return 2;
    }
    fmt::print("{}\n", wp::to_json("whisper.cpp", n_threads, path, run(ctx.get(), n_threads)));
    return 0;
}
