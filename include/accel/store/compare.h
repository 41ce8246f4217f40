#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accel/store/database.h"

namespace accel::store {

// The statistic: a two-sided Mann-Whitney U test on the raw samples (normal approximation with tie correction),
// and the relative change of the sample medians. A point is flagged when p < alpha and |change| >= threshold.
struct CompareOptions {
    std::string baseline;       // a run id, or a tag (every run carrying it)
    std::string candidate{};    // likewise
    std::string metric = "ts";  // "ts": tokens/s per sample (higher is better); "latency": ns per sample (lower)
    double alpha = 0.05;
    double threshold = 0.05;  // relative change, 0.05 = 5%
};

enum class Verdict : uint8_t { same, regression, improvement, untested };
std::string_view to_string(Verdict v);

struct ComparePoint {
    std::string model{}, scenario{}, device{}, params{};  // params: "p=512 n=0 b=2048 ub=512 t=8 ..."
    size_t n_baseline = 0, n_candidate = 0;
    std::optional<double> median_baseline{}, median_candidate{}, change{}, p_value{};
    Verdict verdict = Verdict::untested;
    std::string note{};  // why untested
};

struct CompareReport {
    std::string statistic{};  // stated in every output
    std::vector<ComparePoint> points{};
    size_t n_regressions = 0, n_improvements = 0;
    size_t n_tested = 0;            // points with a verdict other than untested
    size_t n_unusable_samples = 0;  // valid results' samples the metric could not use (ts: no n_tokens)
};

// Matches points by model, scenario, device and parameters. Throws Error{invalid_input} when a side matches no
// run, or for an unknown metric.
CompareReport compare_runs(Database& db, const CompareOptions& opts);

// Why the report compared nothing (no point got a verdict), naming both sides and the samples the metric could not
// use; "" when at least one point was tested. A regression gate must treat a non-empty reason as an error.
std::string nothing_compared_reason(const CompareReport& rep, const CompareOptions& opts);

// Two-sided p-value of the Mann-Whitney U test (normal approximation, tie-corrected, continuity-corrected).
double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace accel::store
