#include "accel/bench/llm_scenario.h"

#include <algorithm>

#include "accel/bench/sample_library.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ns_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

struct RepTimes {
    int64_t total_ns = 0;
    int64_t ttft_ns = 0;
    int64_t after_first_ns = 0;
};

// One repetition. The tokens are drawn before the clock starts: nothing on the timed path allocates.
RepTimes one_rep(LlmTarget& target, const LlmTest& test, TokenSampleLibrary& lib, std::vector<int32_t>& depth,
                 std::vector<int32_t>& prompt, std::vector<int32_t>& gen) {
    target.reset();
    if (test.n_depth > 0) {
        lib.fill(depth);
        target.prefill(depth, 0);
    }
    if (test.n_prompt > 0) lib.fill(prompt, test.n_depth == 0);
    lib.fill(gen, test.n_depth == 0 && test.n_prompt == 0);
    const int32_t pos0 = test.n_depth;

    RepTimes r;
    const auto t0 = Clock::now();
    if (test.n_prompt > 0) target.prefill(prompt, pos0);
    auto t_first = t0;
    for (int32_t i = 0; i < test.n_gen; ++i) {
        target.decode_one(gen[static_cast<size_t>(i)], pos0 + test.n_prompt + i);
        if (i == 0) t_first = Clock::now();
    }
    const auto t1 = Clock::now();
    r.total_ns = ns_between(t0, t1);
    r.ttft_ns = ns_between(t0, test.n_gen > 0 ? t_first : t1);
    r.after_first_ns = test.n_gen > 1 ? ns_between(t_first, t1) : 0;
    return r;
}

}  // namespace

Measurement run_llm_test(LlmTarget& target, const LlmTest& test, const RunRules& rules) {
    TokenSampleLibrary lib(target.n_vocab(), target.add_bos(), target.bos(), test.seed);
    std::vector<int32_t> depth(static_cast<size_t>(std::max(0, test.n_depth)));
    std::vector<int32_t> prompt(static_cast<size_t>(std::max(0, test.n_prompt)));
    std::vector<int32_t> gen(static_cast<size_t>(std::max(0, test.n_gen)));

    for (int32_t i = 0; i < rules.n_warmup; ++i) {
        // As llama-bench: a full prompt run, or a single generated token, untimed.
        LlmTest warm = test;
        if (test.n_prompt == 0) warm.n_gen = 1;
        if (test.n_prompt > 0) warm.n_gen = 0;
        std::vector<int32_t> g1(static_cast<size_t>(warm.n_gen));
        one_rep(target, warm, lib, depth, prompt, g1);
    }
    Measurement m;
    m.samples_ns.reserve(static_cast<size_t>(rules.n_min_reps));
    const double n_tokens = test.n_prompt + test.n_gen;
    while (static_cast<int32_t>(m.samples_ns.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(m.samples_ns.size()) < rules.n_min_reps || m.wall < rules.min_duration)) {
        const RepTimes r = one_rep(target, test, lib, depth, prompt, gen);
        m.samples_ns.push_back(r.total_ns);
        m.samples_ts.push_back(n_tokens * 1e9 / static_cast<double>(std::max<int64_t>(r.total_ns, 1)));
        m.samples_tokens.push_back(test.n_prompt + test.n_gen);
        m.wall += std::chrono::nanoseconds(r.total_ns);
        if (test.n_gen > 0) {
            m.ttft_ns.push_back(r.ttft_ns);
            if (test.n_gen > 1) m.tpot_ns.push_back(r.after_first_ns / (test.n_gen - 1));
        }
    }
    finish_measurement(m, rules);
    return m;
}

}  // namespace accel::bench
