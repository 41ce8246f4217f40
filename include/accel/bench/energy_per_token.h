#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

// Joules per timed token of a measured point, from the energy counters it stored (PointResult::energy_j), for
// accel recommend and accel report alike. Never an estimate: without a counter that advanced it is unavailable, with
// the reason. The counters' window covers the warm-up too, so the figure is an upper bound
// (energy_upper_bound_note in point_result.h).
namespace accel::bench {

struct EnergyPerToken {
    std::optional<double> joules_per_token;
    std::string unavailable;  // why joules_per_token is unset ("" when set)
};

// The RAPL package domains summed (sub-domains such as core or dram lie inside a package and would count twice;
// without package domains the top-level zones are summed), plus any other counter (a GPU's, "gpu:cuda0"), over
// `n_tokens` (the timed repetitions' prompt and generated tokens). `energy_unavailable` is the stored reason when
// `energy_j` is empty. Pure; thread-safe.
EnergyPerToken energy_per_token(const std::vector<std::pair<std::string, double>>& energy_j,
                                const std::string& energy_unavailable, double n_tokens);

}  // namespace accel::bench
