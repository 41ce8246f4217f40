#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "accel/bench/load_stats.h"

namespace accel::bench {

struct PeakSearch {
    std::optional<double> peak_qps;  // the highest probed QPS that passed; nullopt when none did
    std::vector<PeakProbe> probes;   // in the order they ran
};

// --find-peak: the highest QPS whose run meets the SLO, assuming that passing is monotonic in QPS. From start_qps
// it doubles while probes pass (or halves while they fail) to bracket the edge, then bisects until the bracket is
// within rel_tol of the passing end, using at most max_probes probes. probe(qps) runs one server scenario.
PeakSearch find_peak(const std::function<PeakProbe(double)>& probe, double start_qps, double rel_tol = 0.05,
                     int max_probes = 12);

}  // namespace accel::bench
