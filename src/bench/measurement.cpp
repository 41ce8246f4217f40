#include "accel/bench/measurement.h"

#include <fmt/core.h>

namespace accel::bench {

void finish_measurement(Measurement& m, const RunRules& rules) {
    std::vector<double> ns(m.samples_ns.begin(), m.samples_ns.end());
    m.ns = summarize(ns);
    m.ts = summarize(m.samples_ts);
    if (static_cast<int32_t>(m.samples_ns.size()) < rules.n_min_reps) {
        m.valid = false;
        m.reasons.push_back(fmt::format("min count not met: {} of {} repetitions", m.samples_ns.size(), rules.n_min_reps));
    }
    if (m.wall < rules.min_duration) {
        m.valid = false;
        m.reasons.push_back(fmt::format("min duration not met: {:.3f} s of {:.3f} s", m.wall.count() / 1e9,
                                        std::chrono::duration<double>(rules.min_duration).count()));
    }
    if (m.ns.count > 1 && m.ns.cv > rules.max_cv) {
        m.noisy = true;
        m.reasons.push_back(fmt::format("noisy: coefficient of variation {:.1f}% > {:.1f}%", 100 * m.ns.cv, 100 * rules.max_cv));
    }
}

}  // namespace accel::bench
