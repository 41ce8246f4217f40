#include "accel/tune/gain_check.h"

#include <algorithm>

#include <fmt/core.h>

#include "accel/bench/statistics.h"
#include "accel/store/compare.h"

namespace accel::tune {
namespace {

double median_of(const std::vector<int64_t>& ns) {
    std::vector<double> v(ns.begin(), ns.end());
    std::sort(v.begin(), v.end());
    return bench::percentile_sorted(v, 0.5);
}

}  // namespace

GainCheck check_gain(const Config& reference, const Config& candidate, int32_t n_gen, int32_t n_rounds,
                     const MeasureFn& measure) {
    GainCheck g{.reference = reference, .candidate = candidate};
    for (int32_t round = 0; round < n_rounds && g.failure.empty(); ++round) {
        const bool reference_first = round % 2 == 0;
        for (const bool is_reference : {reference_first, !reference_first}) {
            const Config& c = is_reference ? reference : candidate;
            Measured m = measure(tg_spec(c, n_gen), c);
            if (!m.observation) {
                g.failure = fmt::format("{}: {}", describe(c), m.failure);
                break;
            }
            m.observation->config.model_sha256 = c.model_sha256;
            m.observation->config.variant = c.variant;
            auto& into = is_reference ? g.reference_ns : g.candidate_ns;
            into.insert(into.end(), m.observation->samples_ns.begin(), m.observation->samples_ns.end());
            g.measured.push_back(std::move(*m.observation));
        }
        if (g.failure.empty()) g.n_rounds = round + 1;
    }
    if (!g.failure.empty() || g.reference_ns.empty() || g.candidate_ns.empty()) return g;
    const double cand = median_of(g.candidate_ns);
    if (cand > 0) g.speedup = median_of(g.reference_ns) / cand;
    g.p_value = store::mann_whitney_p(std::vector<double>(g.reference_ns.begin(), g.reference_ns.end()),
                                      std::vector<double>(g.candidate_ns.begin(), g.candidate_ns.end()));
    g.measurable = *g.p_value < 0.05 && g.speedup.has_value();
    return g;
}

std::string describe(const GainCheck& g) {
    const std::string how =
        fmt::format("{} re-measured interleaved with the default (A B / B A, {} round(s), {} and {} repetitions)",
                    describe(g.candidate), g.n_rounds, g.candidate_ns.size(), g.reference_ns.size());
    if (!g.failure.empty()) return fmt::format("{}: no claim, a measurement failed ({})", how, g.failure);
    if (!g.speedup || !g.p_value) return how + ": no claim, no samples to compare";
    if (!g.measurable)
        return fmt::format("{}: no measurable difference from the default ({:.2f}x, Mann-Whitney p = {:.2g})", how,
                           *g.speedup, *g.p_value);
    return fmt::format("{}: {:.2f}x the default's tokens/s (median time per repetition), Mann-Whitney p = {:.2g}",
                       how, *g.speedup, *g.p_value);
}

}  // namespace accel::tune
