#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace accel::bench {

// Arrival times (seconds from the start, ascending) of n queries at a target rate qps, from a fixed seed.
// They are a Poisson process conditioned on exactly n arrivals in the window [0, n/qps]: n uniform times, sorted,
// which is how the arrivals of a Poisson process with that count are distributed. Inter-arrival times are
// exponential with mean 1/qps (coefficient of variation 1), and the offered load over the window equals the target
// exactly, so an achieved rate below it measures the system, not the luck of the draw. Deterministic for a seed.
// Throws Error{invalid_input} when qps is not positive and finite.
std::vector<double> poisson_arrivals(double qps, size_t n, uint64_t seed);

}  // namespace accel::bench
