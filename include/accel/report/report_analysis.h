#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "accel/report/report_data.h"

// Figures derived from ReportData that both renderers show: the same numbers in HTML and Markdown.
// Pure functions over the data; nothing is measured or assumed here.
namespace accel::report {

// A chart's or table's source: the runs its numbers come from, and the commands that reproduce them.
struct Source {
    std::vector<std::pair<std::string, std::string>> runs{};  // run id, command (ordered by run start)
};
Source source_of(const ReportData& d, const std::set<std::string>& run_ids);
template <class Rows>
Source source_of_rows(const ReportData& d, const Rows& rows) {
    std::set<std::string> ids;
    for (const auto* r : rows) ids.insert(r->run_id);
    return source_of(d, ids);
}

// The result rows of one section, in ReportData's order.
std::vector<const ResultRow*> perf_rows(const ReportData& d);         // throughput/latency (not web, server, ...)
std::vector<const ResultRow*> server_rows(const ReportData& d);       // scenario server with extra.server
std::vector<const ResultRow*> llm_latency_rows(const ReportData& d);  // TTFT or per-token latency known
std::vector<const ResultRow*> memory_rows(const ReportData& d);       // peak RSS measured
std::vector<const ResultRow*> roofline_rows(const ReportData& d);     // decode or prefill efficiency known
std::vector<const ResultRow*> tradeoff_rows(const ReportData& d);     // scenario tradeoffs with extra.tradeoffs

// "model · device": the group label of a row (platform and browser added for web rows).
std::string group_label(const ResultRow& r);

// Raw-sample percentiles, in ns: type 7 (bench::percentile_sorted), the one method accel uses everywhere.
struct SampleStats {
    size_t n = 0;
    double min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
std::optional<SampleStats> sample_stats(const std::vector<int64_t>& samples_ns);

// A browser result next to the native result of the same model (sha256) and test.
struct WebRatio {
    const ResultRow* web = nullptr;
    const ResultRow* native = nullptr;  // nullptr: no native result of that model and test in scope
    std::optional<double> ratio{};      // web tokens/s over native tokens/s
};
std::vector<WebRatio> web_ratios(const ReportData& d);

// A measured reduction next to the claim the old framework made for it.
struct Reduction {
    std::string claim;  // "4-bit weights: 75% less memory"
    std::string model, metric;
    std::string base_variant, variant;
    std::optional<double> base_value{}, value{}, reduction{};  // reduction: 1 - value / base_value
    bool estimate = false;                                     // the figure is the estimator's, not a measurement
    std::string note{};                                        // why there is no figure
};
std::vector<Reduction> tradeoff_reductions(const ReportData& d);

// For each trade-off row: not dominated in (memory lower, tokens/s higher, perplexity lower) by another row of
// the same model; dimensions missing on either side are not compared.
std::vector<bool> pareto_optimal(const std::vector<const ResultRow*>& rows);

// Compatibility cells: one per (architecture/family, device, type), over every status.
struct CompatCell {
    std::string row, col;  // "architecture / family", "device · type"
    int64_t n_ok = 0, n_invalid = 0, n_failed = 0;
    std::vector<std::string> evidence{};  // every id, ok first
};
std::vector<CompatCell> compat_cells(const ReportData& d);

}  // namespace accel::report
