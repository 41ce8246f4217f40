#pragma once
// whisper-bench's timed work (examples/bench/bench.cpp, whisper_bench_full, whisper.cpp 1.9.3), shared by the two
// harnesses of benchmarks/whisper_parity.sh: accel's (whisper_parity.cpp, through engine::WhisperModel) and the
// peer's (whisper_parity_peer.cpp, the same whisper_* calls as bench.cpp). Each phase is timed from outside, in wall
// time (steady_clock) and in the process's CPU time (CLOCK_PROCESS_CPUTIME_ID: every thread of the process, so
// ggml's workers too), and whisper.cpp's own timers (what whisper-bench prints) are read after the run.
#include <ctime>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include <fmt/core.h>

namespace whisper_parity {

// bench.cpp's sequence: a zero mel; n_heat heat passes (encode; 256 tokens at 0; 256 x 1 token at n_past i;
// 5 tokens at 0); whisper_reset_timings; then the timed phases: one encode, decode 256 x (1 token at n_past i),
// batchd 64 x (5 tokens at 0), prompt 16 x (256 tokens at 0). Tokens are all 0, as bench.cpp's memset array.
inline constexpr int n_heat = 2, n_decode = 256, n_batchd_calls = 64, n_batchd_tokens = 5, n_prompt_calls = 16,
                     n_prompt_tokens = 256;

enum Phase { encode, decode, batchd, prompt, n_phases };
inline constexpr std::array<const char*, n_phases> phase_names{"encode", "decode", "batchd", "prompt"};

struct Times {
    std::array<double, n_phases> wall_ms{}, cpu_ms{}, whisper_ms{};
};

// whisper_get_timings gives means (encode and decode per call, batchd and prompt per token: whisper.cpp counts
// their tokens); the totals over the phases above, which whisper-bench prints as "N ms / K runs".
inline std::array<double, n_phases> whisper_totals(double encode_ms, double decode_ms, double batchd_ms,
                                                   double prompt_ms) {
    return {encode_ms, decode_ms * n_decode, batchd_ms * n_batchd_calls * n_batchd_tokens,
            prompt_ms * n_prompt_calls * n_prompt_tokens};
}

inline double process_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

// Runs `work` once and adds its wall and CPU time to phase `p`.
template <class Work>
void timed(Times& t, Phase p, Work&& work) {
    const double c0 = process_cpu_ms();
    const auto w0 = std::chrono::steady_clock::now();
    work();
    t.wall_ms[p] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();
    t.cpu_ms[p] += process_cpu_ms() - c0;
}

// One JSON line: {"tool", "n_threads", "model", "wall_ms": {phase: ms}, "cpu_ms": {...}, "whisper_ms": {...}}.
inline std::string to_json(const std::string& tool, int32_t n_threads, const std::string& model, const Times& t) {
    auto obj = [](const std::array<double, n_phases>& v) {
        std::string s = "{";
        for (int p = 0; p < n_phases; ++p)
            s += fmt::format("{}\"{}\": {:.3f}", p ? ", " : "", phase_names[static_cast<size_t>(p)],
                             v[static_cast<size_t>(p)]);
        return s + "}";
    };
    return fmt::format(
        R"({{"tool": "{}", "n_threads": {}, "model": "{}", "wall_ms": {}, "cpu_ms": {}, "whisper_ms": {}}})", tool,
        n_threads, model, obj(t.wall_ms), obj(t.cpu_ms), obj(t.whisper_ms));
}

}  // namespace whisper_parity
