#pragma once

#include <cstdint>

#include "accel/bench/llm_target.h"
#include "accel/bench/measurement.h"

namespace accel::bench {

// One llm test: pp (n_gen = 0), tg (n_prompt = 0) or pg (both), after an untimed prefill of n_depth tokens.
struct LlmTest {
    int32_t n_prompt = 512;
    int32_t n_gen = 0;
    int32_t n_depth = 0;
    uint64_t seed = 42;
};

// Runs the test as llama-bench does (so the two can be compared): each repetition clears the context, prefills the
// depth untimed, then times the prompt (in n_batch chunks) and/or n_gen single-token decodes of random tokens.
// Tokens per second are (n_prompt + n_gen) / time. For pg, ttft_ns holds the prompt time plus the first decode,
// tpot_ns the mean time of the other decodes. Warm-up repetitions are not counted.
Measurement run_llm_test(LlmTarget& target, const LlmTest& test, const RunRules& rules);

}  // namespace accel::bench
