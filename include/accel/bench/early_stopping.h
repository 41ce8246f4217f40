#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace accel::bench {

// MLPerf LoadGen's early-stopping rule for a percentile latency bound (server scenario), with LoadGen's constants:
// confidence 0.99, tolerance 0. A run of n queries of which t exceeded the bound supports the claim "the p-th
// percentile is within the bound" when n >= h + t, where h is the smallest count such that, were each query over the
// bound with probability 1 - p, seeing at most t over it in h + t queries would have probability below 1 - confidence:
//     P[Binomial(h + t, 1 - p) <= t] < 1 - confidence.
// At t = 0 and p = 0.99 that needs 459 queries; at p = 0.9 and t = 1, 64 (LoadGen's "at least 64 queries").
struct EarlyStopping {
    std::string metric;         // "e2e", "ttft", "tpot"
    double percentile = 0.99;
    double limit_ms = 0;
    int64_t n = 0;              // queries counted
    int64_t n_over = 0;         // t: queries over the limit
    int64_t n_needed = 0;       // h + t: queries needed for the claim at this t
    bool supported = false;     // n >= n_needed
    std::string text() const;   // "TTFT p99 <= 100 ms: supported (3 over the limit in 612 queries; 580 needed)"
};

// P[Binomial(n, q) <= k], summed in log space. q in [0, 1].
double binomial_cdf(int64_t k, int64_t n, double q);

// The smallest h with P[Binomial(h + t, 1 - percentile) <= t] < 1 - confidence.
int64_t early_stopping_min_passing(int64_t t, double percentile, double confidence = 0.99);

// The rule for latencies (ns) against limit_ms at the given percentile.
EarlyStopping early_stopping(const std::string& metric, std::span<const int64_t> latencies_ns, double limit_ms,
                             double percentile = 0.99);

}  // namespace accel::bench
