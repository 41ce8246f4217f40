#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// How much faster one configuration is than another, with its uncertainty, from the raw per-repetition times of
// both. The test is the one `accel db compare` uses (store::mann_whitney_p); the interval is the distribution-free
// one that goes with it (the Hodges-Lehmann estimate and the Mann-Whitney confidence interval, Bauer 1972) on
// log(times), so it is an interval for the ratio. Pure; thread-safe.
namespace accel::report {

struct SampleRatio {
    double ratio = 1;                 // base time over x time: 1.25 = x takes 20% less time (is 1.25x as fast)
    std::optional<double> ci_low{};   // the 95% interval; unset when the samples are too few to reach 95%
    std::optional<double> ci_high{};
    double p_value = 1;               // two-sided Mann-Whitney U (store::mann_whitney_p)
    size_t n_base = 0, n_x = 0;
    bool measurable = false;          // p < 0.05 and the interval excludes 1
};

// nullopt when either side has no sample or a sample is not positive.
std::optional<SampleRatio> time_ratio(const std::vector<int64_t>& base_ns, const std::vector<int64_t>& x_ns);

// "1.25x the default's speed (95% CI 1.18-1.31x, Mann-Whitney p = 0.0002)" (3 significant digits), or "1.02x, no measurable difference (…)". `what` names
// the figure compared ("the default's tokens/s").
std::string describe_ratio(const SampleRatio& r, const std::string& what);

}  // namespace accel::report
