#include "accel/bench/peak_search.h"

namespace accel::bench {

PeakSearch find_peak(const std::function<PeakProbe(double)>& probe, double start_qps, double rel_tol, int max_probes) {
    PeakSearch s;
    const auto run = [&](double qps) {
        PeakProbe p = probe(qps);
        p.qps = qps;
        s.probes.push_back(p);
        return p.pass;
    };
    std::optional<double> lo;  // passes
    std::optional<double> hi;  // fails
    double q = start_qps;
    while (static_cast<int>(s.probes.size()) < max_probes && !(lo && hi)) {
        if (run(q)) {
            lo = q;
            q *= 2;
        } else {
            hi = q;
            q /= 2;
        }
    }
    while (lo && hi && static_cast<int>(s.probes.size()) < max_probes && (*hi - *lo) > rel_tol * *lo) {
        const double mid = (*lo + *hi) / 2;
        if (run(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    s.peak_qps = lo;
    return s;
}

}  // namespace accel::bench
