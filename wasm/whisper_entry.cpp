// whisper.cpp in the browser: the few entry points web-bench's whisper page (src/web/page/whisper.js) calls.
// Built with emscripten by scripts/bootstrap-whisper-wasm.sh from the same whisper.cpp 1.9.3 and ggml sources as the
// native library, never by the host build. The decoding settings are fixed here, so every browser runs the same work:
// greedy, no temperature fallback, English, no timestamps, one thread unless asked.
#include <emscripten/emscripten.h>

#include <memory>
#include <string>

#include "whisper.h"

namespace {
std::string g_text;  // the last transcript; the page copies it out before the next call
}

extern "C" {

EMSCRIPTEN_KEEPALIVE whisper_context* accel_whisper_load(const char* path) {
    whisper_context_params cp = whisper_context_default_params();
    cp.use_gpu = false;
    return whisper_init_from_file_with_params(path, cp);
}

// Returns whisper_full's status (0 on success). `max_tokens` caps tokens per segment (0: whisper.cpp's default).
EMSCRIPTEN_KEEPALIVE int accel_whisper_run(whisper_context* ctx, const float* pcm, int n_samples, int n_threads,
                                           int max_tokens) {
    whisper_full_params p = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
    p.n_threads = n_threads;
    p.language = "en";
    p.translate = false;
    p.no_timestamps = true;
    p.temperature_inc = 0.0f;  // no fallback: the same decode in every browser
    p.max_tokens = max_tokens;
    p.print_progress = p.print_realtime = p.print_timestamps = p.print_special = false;
    whisper_reset_timings(ctx);
    const int rc = whisper_full(ctx, p, pcm, n_samples);
    g_text.clear();
    for (int i = 0; rc == 0 && i < whisper_full_n_segments(ctx); ++i) g_text += whisper_full_get_segment_text(ctx, i);
    return rc;
}

EMSCRIPTEN_KEEPALIVE const char* accel_whisper_text() { return g_text.c_str(); }

EMSCRIPTEN_KEEPALIVE int accel_whisper_n_tokens(whisper_context* ctx) {
    int n = 0;
    for (int i = 0; i < whisper_full_n_segments(ctx); ++i) n += whisper_full_n_tokens(ctx, i);
    return n;
}

// whisper.cpp's own timings of the last run, in ms: 0 sample, 1 encode, 2 decode, 3 batch decode, 4 prompt.
EMSCRIPTEN_KEEPALIVE double accel_whisper_timing(whisper_context* ctx, int which) {
    const std::unique_ptr<whisper_timings> t{whisper_get_timings(ctx)};  // the caller owns it (whisper.cpp 1.9.3)
    if (t == nullptr) return -1;
    switch (which) {
        case 0: return t->sample_ms;
        case 1: return t->encode_ms;
        case 2: return t->decode_ms;
        case 3: return t->batchd_ms;
        case 4: return t->prompt_ms;
        default: return -1;
    }
}

EMSCRIPTEN_KEEPALIVE const char* accel_whisper_system_info() { return whisper_print_system_info(); }

EMSCRIPTEN_KEEPALIVE void accel_whisper_free(whisper_context* ctx) { whisper_free(ctx); }

}  // extern "C"
