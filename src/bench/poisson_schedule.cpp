#include "accel/bench/poisson_schedule.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::bench {

std::vector<double> poisson_arrivals(double qps, size_t n, uint64_t seed) {
    if (!(qps > 0) || !std::isfinite(qps)) {
        throw Error(ErrorKind::invalid_input, fmt::format("--qps {}: the target rate must be a positive number", qps));
    }
    const double window = static_cast<double>(n) / qps;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(0.0, window);
    std::vector<double> t(n);
    for (auto& x : t) x = uniform(rng);
    std::sort(t.begin(), t.end());
    return t;
}

}  // namespace accel::bench
