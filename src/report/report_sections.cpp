#include "accel/report/report_sections.h"

#include <algorithm>
#include <map>
#include <regex>

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/report/roofline_plot.h"

namespace accel::report {

std::string ms(std::optional<double> ns) {
    return ns ? format_number(*ns / 1e6) : "-";
}
std::string pct(std::optional<double> p) {
    return p ? fmt::format("{:.1f}%", *p) : "-";
}

std::vector<std::string> source_lines(const Source& s) {
    std::vector<std::string> out;
    for (const auto& [id, cmd] : s.runs)
        out.push_back(fmt::format("run {}: {}", id, cmd.empty() ? "(no command recorded)" : cmd));
    if (out.empty()) out.emplace_back("no run");
    return out;
}

namespace {

std::string opt_bytes(std::optional<double> b) {
    return b ? format_bytes(*b) : "-";
}
std::string opt_num(std::optional<double> v) {
    return format_optional(v);
}
// The cost of a point: the number alone when the column names the unit, else "0.12 per thousand images".
std::string cost_cell(const ResultRow& r, const bench::PriceTable& prices, bool unit_in_column) {
    const auto c = cost_per_unit(r, prices);
    if (!c) return "-";
    return unit_in_column ? format_number(*c) : fmt::format("{} per {}", format_number(*c), cost_unit(r).name);
}
std::string opt_bool(std::optional<bool> b) {
    return b ? (*b ? "on" : "off") : "-";
}
std::string ts_cell(const ResultRow& r) {
    if (!r.avg_ts) return "-";
    return r.stddev_ts ? fmt::format("{} ± {}", format_number(*r.avg_ts), format_number(*r.stddev_ts))
                       : format_number(*r.avg_ts);
}
std::string shape_or_dash(const ResultRow& r) {
    const std::string s = point_shape(r);
    return s.empty() ? "-" : s;
}

Section runs_section(const ReportData& d) {
    Section s{.id = "runs", .title = "Runs"};
    if (d.runs.empty()) {
        s.no_data = "no runs in scope: run `accel bench` (or widen --run/--since)";
        return s;
    }
    TextTable t{.columns = {"run", "command", "started (UTC)", "status", "tags"}};
    for (const auto& r : d.runs) t.rows.push_back({r.id, r.command, r.started_at, r.status, r.tags});
    s.tables.push_back(std::move(t));
    return s;
}

// An inventory value for people: "*_bytes" figures (alone or as key=value parts) in binary units.
std::string humanize(const std::string& key, const std::string& value) {
    static const std::regex part("([A-Za-z_]*_bytes)=([0-9]+)");
    const auto ends_bytes = [](const std::string& k) { return k.size() > 6 && k.ends_with("_bytes"); };
    if (ends_bytes(key) && !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return format_bytes(std::stod(value));
    std::string out;
    auto it = std::sregex_iterator(value.begin(), value.end(), part);
    size_t last = 0;
    for (; it != std::sregex_iterator(); ++it) {
        out += value.substr(last, static_cast<size_t>(it->position()) - last);
        out += (*it)[1].str() + "=" + format_bytes(std::stod((*it)[2].str()));
        last = static_cast<size_t>(it->position() + it->length());
    }
    return out + value.substr(last);
}

TextTable machine_card(const MachineInfo& m) {
    TextTable t{.caption = fmt::format("Machine {}", m.id), .columns = {"component", "value"}};
    std::string cores = m.n_logical_cores ? fmt::format("{} logical", *m.n_logical_cores) : "-";
    if (m.n_physical_cores) cores += fmt::format(" ({} physical)", *m.n_physical_cores);
    t.rows.push_back({"CPU", m.cpu_model.empty() ? "-" : m.cpu_model});
    t.rows.push_back({"cores", cores});
    t.rows.push_back({"memory", m.memory_total_bytes ? format_bytes(static_cast<double>(*m.memory_total_bytes)) : "-"});
    if (!m.os.empty()) t.rows.push_back({"operating system", m.os});
    if (!m.hostname.empty()) t.rows.push_back({"host", m.hostname});
    return t;
}

// One row per device: its memory and, from the measured roofline, its bandwidth and matmul peaks.
TextTable device_table(const MachineInfo& m, const RooflineInfo& roof) {
    TextTable t{.caption = fmt::format("Devices of machine {}", m.id),
                .columns = {"device", "description", "type", "memory", "measured read bandwidth",
                            "measured matmul peaks"}};
    std::vector<std::string> ids;
    for (const auto& dev : m.devices) ids.push_back(dev.id);
    for (const auto& r : roof.roofs)
        if (std::find(ids.begin(), ids.end(), r.device) == ids.end()) ids.push_back(r.device);
    for (const auto& id : ids) {
        const auto dev = std::find_if(m.devices.begin(), m.devices.end(), [&](const auto& x) { return x.id == id; });
        const auto r = std::find_if(roof.roofs.begin(), roof.roofs.end(), [&](const auto& x) { return x.device == id; });
        std::string mem = "-", bw = roof.available ? "not measured" : "no roofline", peaks = bw;
        if (dev != m.devices.end() && dev->memory_total_bytes && *dev->memory_total_bytes > 0) {
            mem = format_bytes(*dev->memory_total_bytes);
            if (dev->memory_free_bytes) mem += fmt::format(" ({} free)", format_bytes(*dev->memory_free_bytes));
        }
        if (r != roof.roofs.end()) {
            if (r->bandwidth_gbs) bw = format_number(*r->bandwidth_gbs) + " GB/s";
            if (!r->gflops_by_type.empty()) peaks.clear();
            for (const auto& [type, g] : r->gflops_by_type)
                peaks += fmt::format("{}{} {} GFLOP/s", peaks.empty() ? "" : ", ", type, format_number(g));
        }
        std::string desc = dev != m.devices.end() ? dev->description : "";
        if (dev != m.devices.end() && !dev->usable) desc += " (unusable: " + dev->reason + ")";
        t.rows.push_back({id, desc.empty() ? "-" : desc, dev != m.devices.end() ? dev->type : "-", mem, bw, peaks});
    }
    return t;
}

Section machine_section(const ReportData& d) {
    Section s{.id = "machine", .title = "Machine and measured roofline"};
    if (d.machines.empty()) {
        s.no_data = "no machine recorded: run `accel detect --measure` and `accel bench`";
        return s;
    }
    for (size_t i = 0; i < d.machines.size(); ++i) {
        const MachineInfo& m = d.machines[i];
        const RooflineInfo& r = d.rooflines.at(i);
        s.tables.push_back(machine_card(m));
        s.tables.push_back(device_table(m, r));
        TextTable inv{.caption = fmt::format("Full inventory of machine {}", m.id), .columns = {"inventory", "value"},
                      .collapsed = true};
        for (const auto& [k, v] : m.inventory) inv.rows.push_back({k, humanize(k, v)});
        s.tables.push_back(std::move(inv));
        if (!r.available) {
            s.notes.push_back(fmt::format("Roofline of machine {}: {}", m.id, r.note));
            continue;
        }
        TextTable rt{.caption = fmt::format("Roofline of machine {} ({})", m.id, r.note),
                     .columns = {"figure", "median", "min", "max", "unit", "repetitions"},
                     .collapsed = true};
        for (const auto& f : r.figures) {
            rt.rows.push_back({f.what, format_number(f.median), format_number(f.min), format_number(f.max), f.unit,
                               std::to_string(f.n)});
        }
        for (const auto& [what, why] : r.unavailable) rt.rows.push_back({what, "unavailable: " + why, "", "", "", ""});
        s.tables.push_back(std::move(rt));
    }
    std::set<std::string> ids;
    for (const auto& r : d.runs) ids.insert(r.id);
    s.source = source_of(d, ids);
    return s;
}

Section perf_section(const ReportData& d) {
    Section s{.id = "perf", .title = "Throughput and latency per model and device"};
    const auto rows = perf_rows(d);
    if (rows.empty()) {
        s.no_data = "no benchmark results: run `accel bench`";
        return s;
    }
    s.notes.push_back(
        "throughput: tokens/s (texts/s for embed points), mean ± standard deviation over the repetitions; "
        "p50/p90/p99: per-repetition wall "
        "time. Points marked INVALID failed their check and are kept for the record.");
    TextTable t{.columns = {"model", "device", "scenario", "shape", "throughput", "p50 ms", "p90 ms", "p99 ms", "samples",
                            "valid", "result"},
                .anchor_col = 10,
                .anchor_prefix = "pt-"};
    // Token and text points share the column's unit; with image or audio points each cell names its own.
    const bool tokens_only = std::all_of(rows.begin(), rows.end(), [](const ResultRow* r) {
        return std::string_view(cost_unit(*r).name).rfind("million", 0) == 0;
    });
    for (const ResultRow* r : rows) {
        t.rows.push_back({r->model_name, r->device, r->scenario, shape_or_dash(*r), ts_cell(*r), ms(r->p50_ns),
                          ms(r->p90_ns), ms(r->p99_ns), std::to_string(r->samples_ns.size()),
                          r->valid ? "yes" : "INVALID", r->id});
        if (!d.prices.empty()) t.rows.back().insert(t.rows.back().begin() + 5, cost_cell(*r, d.prices, tokens_only));
    }
    if (!d.prices.empty()) {
        t.columns.insert(t.columns.begin() + 5, tokens_only ? "cost per 1M tokens" : "cost");
        t.anchor_col = 11;
        const bool one = d.prices.by_machine.empty() && d.prices.by_device.empty();
        s.notes.push_back(
            one ? fmt::format("Cost: the given price of {} per machine-hour over the measured throughput (per million "
                              "tokens; texts for embed points, a thousand images for vision, an audio hour for audio).",
                              format_number(*d.prices.any))
                : "Cost: the configuration file's price per machine-hour of the machine (by fingerprint), else of the "
                  "device, else [price] per_hour, over the measured throughput (per million tokens; texts for embed "
                  "points, a thousand images for vision, an audio hour for audio); - where no price applies.");
    }
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, rows);
    return s;
}

Section latency_section(const ReportData& d) {
    Section s{.id = "latency", .title = "Latency distributions (raw samples)"};
    std::vector<const ResultRow*> used;
    TextTable t{.columns = {"model · device", "scenario", "shape", "samples", "min ms", "p50 ms", "p90 ms", "p99 ms",
                            "max ms"}};
    for (const ResultRow* r : perf_rows(d)) {
        const auto st = sample_stats(r->samples_ns);
        if (!st) continue;
        used.push_back(r);
        t.rows.push_back({group_label(*r), r->scenario, shape_or_dash(*r), std::to_string(st->n), ms(st->min),
                          ms(st->p50), ms(st->p90), ms(st->p99), ms(st->max)});
    }
    if (used.empty()) {
        s.no_data = "no raw samples: run `accel bench` (it stores every repetition)";
        return s;
    }
    s.notes.push_back("Percentiles of the stored samples of each point by linear interpolation (type 7), as everywhere in accel.");
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, used);
    return s;
}

Section server_section(const ReportData& d) {
    Section s{.id = "server", .title = "Throughput versus latency (server sweeps)"};
    const auto rows = server_rows(d);
    if (rows.empty()) {
        s.no_data = "no server sweeps: run `accel bench --scenario server`";
        return s;
    }
    TextTable t{.columns = {"model · device", "shape", "target qps", "achieved qps", "p50 ms", "p99 ms", "TTFT p99 ms",
                            "TPOT p99 ms", "SLO"}};
    for (const ResultRow* r : rows) {
        const ServerPoint& p = *r->server;
        t.rows.push_back({group_label(*r), shape_or_dash(*r), opt_num(p.target_qps), opt_num(p.achieved_qps),
                          opt_num(p.p50_ms), opt_num(p.p99_ms), opt_num(p.ttft_p99_ms), opt_num(p.tpot_p99_ms),
                          p.slo_pass ? fmt::format("{}: {}", p.slo.empty() ? "SLO" : p.slo,
                                                   *p.slo_pass ? "pass" : "MISS")
                                     : "-"});
    }
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, rows);
    return s;
}

Section llm_section(const ReportData& d) {
    Section s{.id = "llm", .title = "Time to first token and per-token latency (LLMs)"};
    const auto rows = llm_latency_rows(d);
    if (rows.empty()) {
        s.no_data = "no TTFT or per-token figures: run `accel bench -p 512 -n 128` (or a server sweep)";
        return s;
    }
    TextTable t{.columns = {"model · device", "scenario", "shape", "TTFT ms (mean)", "per-token ms (mean)",
                            "TTFT p99 ms (server)", "TPOT p99 ms (server)"}};
    for (const ResultRow* r : rows) {
        t.rows.push_back({group_label(*r), r->scenario, shape_or_dash(*r), ms(r->ttft_ns), ms(r->tpot_ns),
                          r->server ? opt_num(r->server->ttft_p99_ms) : "-",
                          r->server ? opt_num(r->server->tpot_p99_ms) : "-"});
    }
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, rows);
    return s;
}

Section memory_section(const ReportData& d) {
    Section s{.id = "memory", .title = "Memory: estimated versus measured"};
    const auto rows = memory_rows(d);
    if (rows.empty()) {
        s.no_data = "no measured memory: run `accel bench` (it records the peak RSS of each point)";
        return s;
    }
    s.notes.push_back(
        "Estimate: the model's weight bytes plus the memory estimator's KV-cache bytes for the point's own "
        "context, sequences and KV type (results stored before 2026-12-02: a 4096-cell f16 cache; compute buffers "
        "not included), labelled as an estimate. Measured: the peak resident set size of the "
        "measuring process, which also holds the program and the runtime.");
    TextTable t{.columns = {"model · device", "scenario", "shape", "estimate (weights + KV)", "measured peak RSS",
                            "measured / estimate"}};
    for (const ResultRow* r : rows) {
        const std::string ratio = r->memory_estimate_bytes && *r->memory_estimate_bytes > 0
                                      ? format_number(*r->peak_rss_bytes / *r->memory_estimate_bytes) + "x"
                                      : "-";
        t.rows.push_back(
            {group_label(*r), r->scenario, shape_or_dash(*r),
             r->memory_estimate_bytes ? "estimate " + format_bytes(*r->memory_estimate_bytes) : "unavailable",
             opt_bytes(r->peak_rss_bytes), ratio});
    }
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, rows);
    return s;
}

// Each placed point with its roof: the roofline chart's text alternative.
TextTable roofline_points_table(const std::vector<RooflinePlot>& plots) {
    TextTable t{.caption = "Points on the measured roofline",
                .columns = {"model · device", "scenario", "shape", "FLOP per byte", "achieved GFLOP/s",
                            "roof GFLOP/s", "of the roof", "bound by", "flag", "result"}};
    for (const auto& plot : plots) {
        for (const auto& p : plot.points) {
            const ResultRow& r = *p.row;
            t.rows.push_back({group_label(r), r.scenario, shape_or_dash(r), format_number(p.at.flop_per_byte),
                              format_number(p.at.gflops), opt_num(p.roof_gflops),
                              p.roof_gflops ? pct(100 * p.at.gflops / *p.roof_gflops) : "-",
                              p.bound.empty() ? "no roof measured" : p.bound,
                              p.above_roof ? "ABOVE ROOF: the roof was not measured right" : "", r.id});
        }
    }
    return t;
}

Section roofline_section(const ReportData& d) {
    Section s{.id = "roofline", .title = "Roofline: measured points under the measured roofs"};
    const auto rows = roofline_rows(d);
    const auto plots = roofline_plots(d);
    if (rows.empty() && plots.empty()) {
        s.no_data = "no roofline efficiency: run `accel detect --measure`, then `accel bench`";
        return s;
    }
    std::vector<const ResultRow*> used = rows;
    if (!plots.empty()) {
        s.notes.push_back(
            "Intensity: 2 FLOPs per weight of the repeating blocks per token over the weight bytes read per token "
            "(once per token in decode, once per micro-batch in prefill; KV-cache traffic left out). Achieved: those "
            "FLOPs times the mean tokens/s. Roof: the device's measured read bandwidth times the intensity, capped "
            "by the matmul peak measured for the model's weight type. A point above its roof means the roof was not "
            "measured right; it is flagged, never hidden.");
        s.tables.push_back(roofline_points_table(plots));
        for (const auto& plot : plots)
            for (const auto& p : plot.points) used.push_back(p.row);
    }
    TextTable t{.caption = "Efficiency stored with each point",
                .columns = {"model · device", "scenario", "shape", "decode: % of memory bandwidth",
                            "prefill: % of matmul peak", "basis"}};
    for (const ResultRow* r : rows) {
        // Above 100% the figure measures the roof's error, not the point: flagged, never a plain percentage.
        const std::string flag = r->roofline_defect.empty() ? "" : "DEFECT ";
        t.rows.push_back({group_label(*r), r->scenario, shape_or_dash(*r),
                          r->decode_bandwidth_pct ? flag + pct(r->decode_bandwidth_pct) : "-",
                          r->prefill_flops_pct ? flag + pct(r->prefill_flops_pct) : "-",
                          r->roofline_defect.empty() ? r->roofline_basis : r->roofline_basis + "; " + r->roofline_defect});
    }
    if (!rows.empty()) s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, used);
    return s;
}

Section compat_section(const ReportData& d) {
    Section s{.id = "compat", .title = "Compatibility matrix"};
    const auto cells = compat_cells(d);
    if (cells.empty()) {
        s.no_data = "no compatibility evidence: run `accel conform` or `accel bench`";
        return s;
    }
    s.notes.push_back(
        "From the compatibility view: architecture / family × device × type. ok: a valid result; "
        "invalid: measured but failed its check; failed: could not run (the reason is in the evidence).");
    TextTable t{.columns = {"architecture / family", "device · type", "ok", "invalid", "failed", "evidence"},
                .link_col = 5};
    for (const auto& c : cells) {
        std::string ev;
        for (const auto& id : c.evidence) ev += (ev.empty() ? "" : ",") + id;
        t.rows.push_back(
            {c.row, c.col, std::to_string(c.n_ok), std::to_string(c.n_invalid), std::to_string(c.n_failed), ev});
    }
    s.tables.push_back(std::move(t));
    std::map<std::string, const ResultRow*> results;
    for (const auto& r : d.results) results[r.id] = &r;
    std::map<std::string, const FailureRow*> failures;
    for (const auto& f : d.failures) failures[f.id] = &f;
    TextTable ev{
        .caption = "Evidence", .columns = {"id", "status", "model", "scenario", "device", "details"}, .anchor_col = 0};
    std::set<std::string> seen, runs;
    for (const auto& c : cells) {
        for (const auto& id : c.evidence) {
            if (!seen.insert(id).second) continue;
            if (auto it = results.find(id); it != results.end()) {
                const ResultRow& r = *it->second;
                runs.insert(r.run_id);
                ev.rows.push_back({id, r.valid ? "ok" : "invalid", r.model_name, r.scenario, r.device,
                                   fmt::format("{}{}", shape_or_dash(r),
                                               r.avg_ts ? fmt::format(", {} {}", format_number(*r.avg_ts),
                                                                      throughput_unit(r))
                                                        : "")});
            } else if (auto f = failures.find(id); f != failures.end()) {
                runs.insert(f->second->run_id);
                ev.rows.push_back({id, "failed: " + f->second->stage, f->second->model, f->second->scenario,
                                   f->second->device, f->second->reason});
            } else {
                ev.rows.push_back({id, "ok", "", "", "", "an older result of a point shown above"});
            }
        }
    }
    s.tables.push_back(std::move(ev));
    s.source = source_of(d, runs);
    return s;
}

Section regression_section(const ReportData& d) {
    Section s{.id = "regressions", .title = "Regressions against the baseline"};
    if (!d.regressions) {
        s.no_data = "no baseline given: run `accel report --baseline RUN` (a run id or tag)";
        return s;
    }
    const Regressions& g = *d.regressions;
    if (!g.compare) {
        s.no_data = fmt::format("baseline {}: {}", g.baseline, g.note);
        return s;
    }
    const store::CompareReport& c = *g.compare;
    s.notes.push_back(fmt::format("Baseline {}, candidate {}: {} regression(s), {} improvement(s) in {} point(s).",
                                  g.baseline, g.candidate, c.n_regressions, c.n_improvements, c.points.size()));
    s.notes.push_back("Statistic: " + c.statistic + ".");
    TextTable t{.columns = {"model", "scenario", "device", "params", "baseline median ms", "candidate median ms",
                            "change", "p", "verdict"}};
    std::map<std::string, std::string> names;  // compare names models by sha256: show the name
    for (const auto& r : d.results) names.emplace(r.model, r.model_name);
    for (const auto& p : c.points) {
        const auto name = names.find(p.model);
        t.rows.push_back({name != names.end() ? name->second : p.model, p.scenario, p.device, p.params,
                          ms(p.median_baseline), ms(p.median_candidate), p.change ? format_change(*p.change) : "-",
                          p.p_value ? fmt::format("{:.3g}", *p.p_value) : "-",
                          std::string(store::to_string(p.verdict)) + (p.note.empty() ? "" : " (" + p.note + ")")});
    }
    s.tables.push_back(std::move(t));
    for (const auto& r : g.baseline_runs) s.source.runs.emplace_back(r.id, r.command);
    for (const auto& r : d.runs) {
        const bool is_candidate =
            r.id == g.candidate || ("," + r.tags + ",").find("," + g.candidate + ",") != std::string::npos;
        if (is_candidate) s.source.runs.emplace_back(r.id, r.command);
    }
    return s;
}

std::string threads_cell(const std::optional<int64_t>& n) { return n ? std::to_string(*n) : "?"; }

Section web_section(const ReportData& d) {
    Section s{.id = "web", .title = "Native versus browser"};
    const auto ratios = web_ratios(d);
    if (ratios.empty()) {
        s.no_data = "no browser results: run `accel web-bench --model M --browser chromium,firefox`";
        return s;
    }
    s.notes.push_back(
        "Ratio: the browser's tokens/s over the native tokens/s of the same model file (sha256) and test, "
        "native measured at the browser's thread count preferred, then the figure of the same run. Generation "
        "tokens/s count the tokens after the first on both sides (the first comes from the prompt's logits).");
    TextTable t{.columns = {"model", "test", "browser", "backend", "threads (browser / native)", "browser tokens/s",
                            "native tokens/s", "browser / native", "native result"}};
    std::vector<const ResultRow*> used;
    for (const auto& w : ratios) {
        used.push_back(w.web);
        if (w.native) used.push_back(w.native);
        t.rows.push_back({w.web->model_name, w.web->scenario,
                          fmt::format("{} {}", w.web->browser, w.web->browser_version), w.web->backend,
                          fmt::format("{} / {}", threads_cell(w.web->n_threads),
                                      w.native ? threads_cell(w.native->n_threads) : "-"),
                          ts_cell(*w.web),
                          w.native ? ts_cell(*w.native) : "unavailable: no native result",
                          w.ratio ? fmt::format("{:.2f}x", *w.ratio) : "-", w.native ? w.native->id : "-"});
    }
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, used);
    return s;
}

Section tradeoff_section(const ReportData& d) {
    Section s{.id = "tradeoffs", .title = "Trade-offs: quality, memory and speed"};
    const auto rows = tradeoff_rows(d);
    if (rows.empty()) {
        s.no_data = "no trade-off results: run `accel tradeoffs --model M`";
        return s;
    }
    const auto pareto = pareto_optimal(rows);
    TextTable t{.columns = {"model", "variant", "type", "ctk", "fa", "n_ctx", "weights", "peak RSS", "KV measured",
                            "KV estimate", "pp tokens/s", "tg tokens/s", "perplexity", "KL mean", "Pareto"}};
    for (size_t i = 0; i < rows.size(); ++i) {
        const TradeoffPoint& p = *rows[i]->tradeoffs;
        t.rows.push_back(
            {rows[i]->model_name, p.random_weights ? p.variant + " (random weights)" : p.variant, p.type, p.type_k.empty() ? "-" : p.type_k, opt_bool(p.flash_attn),
             opt_num(p.n_ctx), opt_bytes(p.weights_bytes), opt_bytes(p.peak_rss_bytes), opt_bytes(p.kv_bytes_measured),
             p.kv_bytes_estimated ? "estimate " + format_bytes(*p.kv_bytes_estimated) : "-", opt_num(p.pp_ts),
             opt_num(p.tg_ts), opt_num(p.perplexity), opt_num(p.kl_mean), pareto[i] ? "yes" : "no"});
    }
    s.notes.push_back(
        "Pareto: no other variant of the same model has less memory, more tokens/s and lower "
        "perplexity at once (unmeasured figures are not compared; a random-weight model's perplexity is shown but "
        "never compared). '-': not measured.");
    s.tables.push_back(std::move(t));
    TextTable r{.caption = "Measured reductions next to the old framework's claims",
                .columns = {"claim", "model", "metric", "from", "to", "before", "after", "measured reduction"}};
    for (const auto& x : tradeoff_reductions(d)) {
        r.rows.push_back({x.claim, x.model.empty() ? "-" : x.model, x.metric.empty() ? "-" : x.metric,
                          x.base_variant.empty() ? "-" : x.base_variant, x.variant.empty() ? "-" : x.variant,
                          (x.estimate && x.base_value ? "estimate " : "") + opt_bytes(x.base_value),
                          (x.estimate && x.value ? "estimate " : "") + opt_bytes(x.value),
                          x.reduction ? fmt::format("{:.1f}%", *x.reduction * 100) : x.note});
    }
    s.tables.push_back(std::move(r));
    s.source = source_of_rows(d, rows);
    return s;
}

}  // namespace

std::vector<Section> build_sections(const ReportData& d) {
    std::vector<Section> out = {runs_section(d),   machine_section(d),     perf_section(d),     latency_section(d),
                                server_section(d), llm_section(d),         memory_section(d),   roofline_section(d),
                                compat_section(d), key_classes_section(d), machines_section(d), regression_section(d),
                                web_section(d),    tradeoff_section(d)};
    // Only where the scope has image, video or audio points: most reports have none, and say so nowhere else.
    if (Section media = media_section(d); media.no_data.empty()) out.insert(out.begin() + 4, std::move(media));
    return out;
}

}  // namespace accel::report
