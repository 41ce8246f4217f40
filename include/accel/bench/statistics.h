#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace accel::bench {

// Summary of raw samples. Percentiles are Hyndman-Fan type 7 (linear interpolation between order statistics,
// numpy's default): for sorted x[0..n-1] and p in [0,1], h = (n-1)p, q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
struct Summary {
    uint64_t count = 0;
    double mean = 0;
    double stddev = 0;  // sample standard deviation (n - 1)
    double cv = 0;      // stddev / mean; 0 when mean is 0
    double min = 0;
    double max = 0;
    double p50 = 0;
    double p90 = 0;
    double p95 = 0;
    double p99 = 0;
    double p999 = 0;
};

// Type 7 percentile of already sorted values; p in [0, 1]. Returns 0 for an empty span.
double percentile_sorted(std::span<const double> sorted, double p);

// Sorts a copy; O(n log n). Empty input gives a zero Summary.
Summary summarize(std::span<const double> samples);

}  // namespace accel::bench
