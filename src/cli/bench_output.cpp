// accel bench's printing: the results table, the JSON document and the lines under the table.
#include "bench_output.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "accel/bench/campaign_json.h"
#include "accel/bench/statistics.h"
#include "accel/bench/sweep.h"
#include "accel/core/units.h"
#include "accel/core/version.h"
#include "accel/engine/synthetic_model.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"
#include "commands.h"

namespace accel::cli {
namespace {


std::string params_text(uint64_t n) {
    if (n >= 1'000'000'000) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
    if (n >= 1'000'000) return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
    return fmt::format("{:.1f} K", static_cast<double>(n) / 1e3);
}

std::string opt_ms(const std::optional<double>& v) { return v ? fmt::format("{:.2f} ms", *v) : "n/a"; }

std::string model_file(const bench::PointResult& r) {
    if (!r.spec.target.empty()) return r.model_name.empty() ? r.spec.served_model : r.model_name;  // a served model
    return std::filesystem::path(r.spec.model).filename().string();
}

std::string figures_text(const char* name, const bench::LatencyFigures& f) {
    if (f.count == 0) return fmt::format("{} n/a", name);
    return fmt::format("{} p50 {:.2f} p99 {:.2f} ms", name, f.p50_ms, f.p99_ms);
}

// accel bench --target's client figures (remote_stats.h), under the table.
void print_remote_lines(const bench::PointResult& r, const std::string& name) {
    if (r.server) {
        for (const auto& e : r.server->early_stopping) {
            fmt::print("early stopping: {} {}: {}\n", name, r.spec.test_name(), e.text());
        }
    }
    if (!r.remote) return;
    const auto& s = *r.remote;
    fmt::print("remote: {} {} at {} ({}): {} requests ({} failed), concurrency {}, latencies from the {} time; {}; "
               "{}; {}; {}; {:.2f} output tokens/s (tokens from {}), {:.2f} requests/s{}{}\n",
               name, r.spec.test_name(), s.target.url,
               s.target.server_header.empty() ? "no Server header" : "Server: " + s.target.server_header, s.n_requests,
               s.n_failed, s.concurrency, s.origin, figures_text("TTFT", s.ttft), figures_text("TPOT", s.tpot),
               figures_text("ITL", s.itl), figures_text("E2E", s.e2e), s.output_tokens_per_s, token_source_text(s),
               s.requests_per_s, s.goodput_rps ? fmt::format(", goodput {:.2f} requests/s", *s.goodput_rps) : "",
               s.lateness ? fmt::format("; client lateness p99 {:.2f} ms, max {:.2f} ms, {} later than {:g} ms",
                                        s.lateness->p99_ms, s.lateness->max_ms, s.n_late, s.max_lateness_ms)
                          : "");
    fmt::print("server metrics: {} {}: {}\n", name, r.spec.test_name(),
               s.server_metrics_delta.empty()
                   ? (s.server_metrics_note.empty() ? "no series changed" : s.server_metrics_note)
                   : fmt::format("{} series changed during the run (stored under remote.server_metrics_delta)",
                                 s.server_metrics_delta.size()));
}

std::string provenance_text(const bench::CampaignOutcome& o) { return o.provenance ? o.provenance->json_text : "{}"; }

// The load scenarios' figures under the table: what llama-bench's columns cannot show.
void print_load_lines(const bench::PointResult& r, const std::string& name) {
    if (r.server) {
        const auto& s = *r.server;
        std::string slo = "no SLO given";
        if (s.slo_pass) slo = fmt::format("SLO {}: {}", s.slo, *s.slo_pass ? "pass" : "MISSED");
        fmt::print("server: {} {}: target {:g} qps, achieved {:.2f} qps over {} queries with {} slot(s); latency "
                   "(queueing included) p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms; TTFT p99 {}; TPOT p99 {}; {}\n",
                   name, r.spec.test_name(), s.target_qps, s.achieved_qps, s.n_queries, s.n_parallel, s.p50_ms,
                   s.p90_ms, s.p99_ms, opt_ms(s.ttft_p99_ms), opt_ms(s.tpot_p99_ms), slo);
        if (!s.probes.empty()) {
            std::string probes;
            for (const auto& p : s.probes) {
                probes += fmt::format("{}{:g} qps ({}, p99 {:.1f} ms)", probes.empty() ? "" : ", ", p.qps,
                                      p.pass ? "pass" : "miss", p.p99_ms);
            }
            fmt::print("find-peak: {}: {}; probes: {}\n", name,
                       s.peak_qps ? fmt::format("peak {:g} qps meets the SLO {}", *s.peak_qps, s.slo)
                                  : fmt::format("no probed QPS met the SLO {}", s.slo),
                       probes);
        }
    }
    if (r.offline) {
        const auto& s = *r.offline;
        fmt::print("offline: {} {}: {} queries at once, {} slot(s): {:.2f} samples/s, {:.2f} generated tokens/s, "
                   "{:.2f} prompt tokens/s; latency p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms; TTFT p99 {}; "
                   "TPOT p99 {}\n",
                   name, r.spec.test_name(), s.n_queries, s.n_parallel, s.samples_per_s, s.tokens_per_s,
                   s.prompt_tokens_per_s, s.p50_ms, s.p90_ms, s.p99_ms, opt_ms(s.ttft_p99_ms), opt_ms(s.tpot_p99_ms));
    }
}

Table results_table(const std::vector<bench::PointResult>& results) {
    Table t{.columns = {"model", "size", "params", "device", "threads", "test", "t/s", "p50 ms", "p99 ms", "TTFT ms",
                        "RSS MiB", "note"},
            .numeric = {false, true, true, false, true, false, true, true, true, true, true, false}};
    for (const auto& r : results) {
        if (!r.ok) {
            t.rows.push_back({model_file(r), "", "", r.spec.device, "", r.spec.test_name(), "", "", "", "", "",
                              "FAILED: " + r.failure_stage});
            continue;
        }
        std::string note = r.measurement.valid ? "" : "INVALID";
        if (r.measurement.noisy) note += std::string(note.empty() ? "" : ",") + "noisy";
        if (engine::has_random_weights(r.model_name)) note += std::string(note.empty() ? "" : ",") + "random weights";
        std::optional<std::string> ttft;
        if (!r.measurement.ttft_ns.empty()) {
            std::vector<double> tv(r.measurement.ttft_ns.begin(), r.measurement.ttft_ns.end());
            ttft = fmt::format("{:.2f}", bench::summarize(tv).mean / 1e6);
        }
        t.rows.push_back({model_file(r), mib(r.model_size), params_text(r.model_n_params), r.device,
                          std::to_string(r.n_threads), r.spec.test_name(),
                          fmt::format("{:.2f} ± {:.2f}", r.measurement.ts.mean, r.measurement.ts.stddev),
                          fmt::format("{:.2f}", r.measurement.ns.p50 / 1e6), fmt::format("{:.2f}", r.measurement.ns.p99 / 1e6), ttft,
                          fmt::format("{:.1f}", static_cast<double>(r.peak_rss_bytes) / 1048576.0), note});
    }
    return t;
}

void print_lines_under_table(const std::vector<bench::PointResult>& results) {
    if (std::any_of(results.begin(), results.end(), [](const auto& r) { return r.ok && r.remote; })) {
        fmt::print("remote {}\n", bench::remote_metric_definitions);
    }
    if (std::any_of(results.begin(), results.end(),
                    [](const auto& r) { return r.ok && r.spec.scenario == bench::Scenario::embed; })) {
        fmt::print("embed rows: t/s counts texts (of the s tokens each) per second, b texts per call\n");
    }
    for (const auto& r : results) {
        if (!r.ok) continue;
        const std::string name = model_file(r);
        if (r.verify) fmt::print("verify: {} {} on {}: {}\n", name, r.spec.test_name(), r.device, r.verify->summary);
        print_load_lines(r, name);
        print_remote_lines(r, name);
        for (const auto& why : r.measurement.reasons) fmt::print("note: {} {}: {}\n", name, r.spec.test_name(), why);
        const bench::RooflineEfficiency roof = r.roofline.value_or(bench::RooflineEfficiency{});
        // Above 100% the figure says the roof is wrong, not how efficient the point was: never a plain percentage.
        const std::string flag = roof.defect.empty() ? "" : "ROOFLINE DEFECT: ";
        if (roof.decode_bandwidth_pct) {
            fmt::print("roofline: {} {}: {}{:.1f}% of measured memory bandwidth ({}{}{})\n", name, r.spec.test_name(),
                       flag, *roof.decode_bandwidth_pct, roof.basis, flag.empty() ? "" : "; ", roof.defect);
        }
        if (roof.prefill_flops_pct) {
            fmt::print("roofline: {} {}: {}{:.1f}% of measured matmul peak ({}{}{})\n", name, r.spec.test_name(), flag,
                       *roof.prefill_flops_pct, roof.basis, flag.empty() ? "" : "; ", roof.defect);
        }
    }
    const auto& any = results.empty() ? bench::PointResult{} : results.front();
    if (any.roofline && any.roofline->basis.rfind("unavailable", 0) == 0) {
        fmt::print("roofline: {}\n", any.roofline->basis);
    }
    // Each point's own energy status and --cold outcome: one point's counter may fail where another's did not.
    for (const auto& r : results) {
        if (!r.ok) continue;
        const std::string name = model_file(r);
        std::string joules;
        for (const auto& [domain, j] : r.energy_j) {
            joules += fmt::format("{}{} {:.3f} J", joules.empty() ? "" : ", ", domain, j);
        }
        fmt::print("energy: {} {}: {}\n", name, r.spec.test_name(),
                   r.energy_j.empty() ? "unavailable: " + r.energy_unavailable : joules + " over " + r.energy_window);
        if (r.cold_cache && !*r.cold_cache) {
            fmt::print("cold: {} {}: NOT a cold load: {}\n", name, r.spec.test_name(), r.cold_cache_note);
        }
    }
}

}  // namespace

int print_dry_run(const std::vector<bench::PointSpec>& points, const bench::PointOptions& popts) {
    double total = 0;
    Table t{.columns = {"#", "model", "scenario", "test", "device", "threads", "batch", "ubatch", "ctk", "ctv", "fa", "ngl"},
            .numeric = {true, false, false, false, false, true, true, true, false, false, false, true}};
    for (size_t i = 0; i < points.size(); ++i) {
        const auto& p = points[i];
        total += bench::estimate_point_seconds(p, popts);
        t.rows.push_back({std::to_string(i + 1), std::filesystem::path(p.model).filename().string(),
                          bench::to_string(p.scenario), p.test_name(), p.device, std::to_string(p.n_threads),
                          std::to_string(p.n_batch), std::to_string(p.n_ubatch),
                          std::string(model::to_string(p.type_k)), std::string(model::to_string(p.type_v)),
                          std::string(model::to_string(p.flash_attn)), std::to_string(p.n_gpu_layers)});
    }
    fmt::print("{}", render_table(t));
    fmt::print("{} points; ETA about {:.0f} s (a rough guess from assumed speeds, not a measurement)\n", points.size(),
               total);
    return exit_ok;
}

void BenchPrinter::started(const bench::RunProvenance* prov, const std::string& /*run_id*/) {
    if (prov) provenance_ = prov->json_text;
}

void BenchPrinter::point_done(const std::string& label, const bench::PointResult& r,
                              const bench::CampaignProgress& progress) {
    CampaignPrinter::point_done(label, r, progress);
    if (jsonl_ && r.ok) {
        fmt::print("{}\n", bench::result_json_text(r, provenance_));
        std::fflush(stdout);
    }
}


void print_bench_results(const bench::CampaignOutcome& outcome, Format format) {
    const auto& results = outcome.results;
    if (format == Format::json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& r : results) {
            if (r.ok) arr.push_back(nlohmann::json::parse(bench::result_json_text(r, provenance_text(outcome))));
        }
        print_json({{"schema_version", json_schema_version},
                    {"run_id", outcome.run_id},
                    {"results", arr},
                    {"failures", outcome.counts.n_failed}});
        return;
    }
    if (format == Format::jsonl) return;
    const Table t = results_table(results);
    fmt::print("{}", render_as(t, format));
    if (format != Format::csv) print_lines_under_table(results);
}

int bench_exit_code(const bench::CampaignOutcome& out) {
    const auto& c = out.counts;
    if (c.n_failed > 0) fmt::print(stderr, "bench: {} of {} points failed\n", c.n_failed, c.n_points);
    if (c.all_failed()) return exit_runtime;
    if (c.n_slo_missed > 0) {
        fmt::print(stderr, "bench: {} server point(s) missed the SLO\n", c.n_slo_missed);
        return exit_check;
    }
    if (c.n_verify_failed > 0) {
        fmt::print(stderr,
                   "bench: --verify failed for {} point(s): the output differs from its reference (the CPU "
                   "reference; with --target, the single-stream answers)\n",
                   c.n_verify_failed);
        return exit_check;
    }
    return exit_ok;
}

}  // namespace accel::cli
