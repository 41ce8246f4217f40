#include "accel/bench/early_stopping.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

namespace accel::bench {

std::string EarlyStopping::text() const {
    return fmt::format("{} p{:g} <= {:g} ms: {} ({} over the limit in {} queries; {} needed at LoadGen's 99% "
                       "confidence)",
                       metric, percentile * 100, limit_ms, supported ? "statistically supported" : "NOT supported",
                       n_over, n, n_needed);
}

double binomial_cdf(int64_t k, int64_t n, double q) {
    if (k < 0) return 0;
    if (k >= n) return 1;
    if (q <= 0) return 1;
    if (q >= 1) return 0;
    const double lq = std::log(q), lp = std::log1p(-q);
    const double lgn = std::lgamma(static_cast<double>(n) + 1);
    double sum = 0;
    for (int64_t x = 0; x <= k; ++x) {
        const double lc = lgn - std::lgamma(static_cast<double>(x) + 1) - std::lgamma(static_cast<double>(n - x) + 1);
        sum += std::exp(lc + static_cast<double>(x) * lq + static_cast<double>(n - x) * lp);
    }
    return std::min(1.0, sum);
}

int64_t early_stopping_min_passing(int64_t t, double percentile, double confidence) {
    const double q = 1 - percentile;
    const auto passes = [&](int64_t h) { return binomial_cdf(t, h + t, q) < 1 - confidence; };
    // The probability falls as h grows: double an upper bound, then bisect for the smallest passing h.
    int64_t hi = 1;
    while (!passes(hi)) hi *= 2;
    int64_t lo = 0;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (passes(mid)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

EarlyStopping early_stopping(const std::string& metric, std::span<const int64_t> latencies_ns, double limit_ms,
                             double percentile) {
    EarlyStopping e{.metric = metric, .percentile = percentile, .limit_ms = limit_ms};
    e.n = static_cast<int64_t>(latencies_ns.size());
    const double limit_ns = limit_ms * 1e6;
    e.n_over = std::count_if(latencies_ns.begin(), latencies_ns.end(),
                             [&](int64_t v) { return static_cast<double>(v) > limit_ns; });
    e.n_needed = early_stopping_min_passing(e.n_over, percentile) + e.n_over;
    e.supported = e.n >= e.n_needed;
    return e;
}

}  // namespace accel::bench
