#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "accel/bench/statistics.h"

namespace accel::bench {

// When a run stops: both a minimum count and a minimum duration must be met (LoadGen's rule), with a cap.
struct RunRules {
    int32_t n_warmup = 1;
    int32_t n_min_reps = 5;  // -r, as in llama-bench
    std::chrono::milliseconds min_duration{0};
    int32_t n_max_reps = 1000;
    double max_cv = 0.05;  // above this a result is flagged noisy
};

// The raw samples of one measured point and what follows from them.
struct Measurement {
    std::vector<int64_t> samples_ns;   // one per timed repetition
    std::vector<double> samples_ts;    // tokens (or items) per second, one per repetition
    // Tokens (embed: texts) each timed repetition processed, counted, one per samples_ns entry; empty where a
    // scenario has no per-repetition count (the server's per-query latencies). The store's sample n_tokens.
    std::vector<int32_t> samples_tokens;
    Summary ns;                        // over samples_ns
    Summary ts;                        // over samples_ts
    std::vector<int64_t> ttft_ns;      // time to first token per repetition, where it applies
    std::vector<int64_t> tpot_ns;      // mean time per output token after the first, per repetition
    bool noisy = false;
    bool valid = true;
    std::vector<std::string> reasons;  // why invalid or noisy
    std::chrono::nanoseconds wall{0};  // total timed wall time
};

// Fills the summaries, the noisy flag and the validity from the raw samples and the rules.
void finish_measurement(Measurement& m, const RunRules& rules);

}  // namespace accel::bench
