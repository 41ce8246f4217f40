#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accel/tune/recommend.h"
#include "accel/tune/recommend_search.h"

// Before the quick search claims that a configuration beats the default, both are measured again, interleaved
// (reference, candidate, then candidate, reference, ...: the A B / B A order of benchmarks/parity, so a drift of
// the machine's speed during the check weighs on both alike), and the raw per-repetition times of all rounds are
// compared with the test `accel db compare` uses (store::mann_whitney_p).
namespace accel::tune {

struct GainCheck {
    Config reference;  // the default
    Config candidate;  // the search's best
    int32_t n_rounds = 0;
    std::vector<int64_t> reference_ns{}, candidate_ns{};  // every timed repetition of every round
    std::optional<double> speedup{};  // median reference time over median candidate time (1.2 = 20% more tokens/s)
    std::optional<double> p_value{};  // two-sided Mann-Whitney U
    bool measurable = false;          // p < 0.05
    std::string failure{};            // a measurement that failed (then nothing is claimed)
    std::vector<Observation> measured{};  // the fresh observations, to be stored with the search's
};

// Measures the tg point of n_gen tokens of each configuration 2 * n_rounds times, in the order A B, B A, A B, ...
// (A the reference). Stops at the first failed measurement. Never throws for a failed point.
GainCheck check_gain(const Config& reference, const Config& candidate, int32_t n_gen, int32_t n_rounds,
                     const MeasureFn& measure);

// One line for the recommendation's notes: "re-measured interleaved with the default (A B / B A, 2 rounds, 6
// repetitions each): 1.21x the default's tokens/s (median time per repetition), Mann-Whitney p = 0.0022", or
// "... no measurable difference from the default (1.03x, p = 0.39)".
std::string describe(const GainCheck& check);

}  // namespace accel::tune
