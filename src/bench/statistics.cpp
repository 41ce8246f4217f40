#include "accel/bench/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace accel::bench {

double percentile_sorted(std::span<const double> sorted, double p) {
    if (sorted.empty()) return 0;
    p = std::clamp(p, 0.0, 1.0);
    const double h = static_cast<double>(sorted.size() - 1) * p;
    const auto lo = static_cast<size_t>(std::floor(h));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Summary summarize(std::span<const double> samples) {
    Summary s;
    if (samples.empty()) return s;
    std::vector<double> v(samples.begin(), samples.end());
    std::sort(v.begin(), v.end());
    s.count = v.size();
    // Welford's update: stable for long runs of nearly equal samples.
    double mean = 0;
    double m2 = 0;
    uint64_t k = 0;
    for (double x : v) {
        ++k;
        const double d = x - mean;
        mean += d / static_cast<double>(k);
        m2 += d * (x - mean);
    }
    s.mean = mean;
    s.stddev = v.size() > 1 ? std::sqrt(m2 / static_cast<double>(v.size() - 1)) : 0.0;
    s.cv = mean != 0 ? s.stddev / std::fabs(mean) : 0.0;
    s.min = v.front();
    s.max = v.back();
    s.p50 = percentile_sorted(v, 0.50);
    s.p90 = percentile_sorted(v, 0.90);
    s.p95 = percentile_sorted(v, 0.95);
    s.p99 = percentile_sorted(v, 0.99);
    s.p999 = percentile_sorted(v, 0.999);
    return s;
}

}  // namespace accel::bench
