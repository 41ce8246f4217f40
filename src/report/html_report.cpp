#include "accel/report/html_report.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/report/report_analysis.h"
#include "accel/report/report_sections.h"
#include "accel/report/report_summary.h"
#include "accel/report/roofline_plot.h"
#include "accel/report/svg_chart.h"

namespace accel::report {
namespace {

// The latency histograms are one per point: past this many, the table carries the rest.
constexpr size_t max_histograms = 24;

constexpr const char* css = R"css(
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --accent: #0072b2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1180px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.meta, p.note, .src { color: var(--muted); }
nav { font-size: 13px; margin: 8px 0 16px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { white-space: nowrap; }
.summary { border: 2px solid var(--accent); border-radius: 6px; padding: 4px 14px 8px; margin: 10px 0 18px; }
.summary h2 { border-top: 0; margin-top: 6px; }
.sb ul { margin: 4px 0 10px; padding-left: 20px; }
.sb li { margin: 2px 0; overflow-wrap: anywhere; }
.sb.alert { border-left: 5px solid #b42318; background: #fef3f2; padding: 2px 10px; }
.sb.alert h3 { color: #b42318; }
.sb p { margin: 4px 0 10px; color: var(--muted); }
a { color: var(--accent); }
.nodata { background: #f6f8fa; border-left: 4px solid var(--line); padding: 6px 10px; }
.tw { overflow-x: auto; margin: 6px 0 12px; }
table { border-collapse: collapse; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 3px 7px; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
td { font-variant-numeric: tabular-nums; word-break: break-word; max-width: 460px; }
tr:target { background: #fff8c5; }
figure { margin: 10px 0 18px; break-inside: avoid; }
details { margin: 6px 0 12px; }
details > summary { cursor: pointer; font-weight: 600; }
figcaption { font-size: 12px; color: var(--muted); }
figcaption code, .src code { word-break: break-all; }
svg.chart { max-width: 100%; height: auto; font-size: 11px; background: #fff; }
svg .ct { font-size: 13px; font-weight: 600; }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .tick, svg .axis, svg .lbl, svg .cv { fill: #333; }
svg .cv { fill: #fff; font-weight: 600; }
svg .err { stroke: #000; stroke-width: 1.2; fill: none; }
svg .line { fill: none; stroke-width: 2; }
svg .mark { stroke: #d55e00; stroke-dasharray: 4 3; }
svg .nd { fill: var(--muted); }
svg .pt.flag { stroke-width: 2; }
table.sortable th[data-sort] { cursor: pointer; }
table.sortable th[data-sort="asc"]::after { content: " \25B2"; }
table.sortable th[data-sort="desc"]::after { content: " \25BC"; }
@media print {
  table.sortable th::after { content: none; }
  body { max-width: none; padding: 0; font-size: 11px; }
  nav { display: none; }
  .summary { border-width: 1px; }
  .sb.alert { background: none; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .tw { overflow: visible; }
  table { font-size: 9.5px; }
  td { max-width: none; }
  @page { margin: 14mm; }
}
)css";

// Marks the body with the outcome, for people and for the headless-browser test: every chart must carry as many
// data marks as it says it has, and at least one; every in-page link of the summary must have its target; and the
// page's width against the window's (data-layout="<scrollWidth> <clientWidth>": no horizontal scrolling).
constexpr const char* self_check = R"js(
(function () {
  var charts = document.querySelectorAll('svg.chart'), bad = [];
  for (var i = 0; i < charts.length; i++) {
    var n = charts[i].querySelectorAll('.pt').length;
    if (n === 0 || String(n) !== charts[i].getAttribute('data-points')) bad.push(charts[i].getAttribute('aria-label'));
  }
  var links = document.querySelectorAll('#summary a[href^="#"]'), missing = [];
  for (var j = 0; j < links.length; j++) {
    var id = decodeURIComponent(links[j].getAttribute('href').slice(1));
    if (!document.getElementById(id)) missing.push(id);
  }
  if (missing.length) bad.push('summary links without a target: ' + missing.join(', '));
  document.body.setAttribute('data-selfcheck', bad.length ? 'fail: ' + bad.join('; ') : 'ok ' + charts.length);
  document.body.setAttribute('data-summary-links', String(links.length));
  var root = document.documentElement;
  document.body.setAttribute('data-layout', root.scrollWidth + ' ' + root.clientWidth);
})();
)js";

// Optional: a click (or Enter) on a column heading sorts that table's rows by it, numbers as numbers; a second click
// reverses. Every row is in the HTML in its stored order, so the page reads the same with JavaScript off and in print.
// Sets data-sortable="<tables>" on the body, for the headless-browser test.
constexpr const char* sort_tables = R"js(
(function () {
  function key(row, i) {
    var c = row.cells[i], t = c ? c.textContent.trim() : '', n = parseFloat(t);
    return /^[-+]?[0-9.]/.test(t) && !isNaN(n) ? [0, n] : [1, t.toLowerCase()];
  }
  function sort(table, i, th) {
    var desc = th.getAttribute('data-sort') === 'asc', body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i), r = x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
      return desc ? -r : r;
    });
    var ths = table.tHead.rows[0].cells;
    for (var k = 0; k < ths.length; k++) ths[k].setAttribute('data-sort', '');
    th.setAttribute('data-sort', desc ? 'desc' : 'asc');
    for (var j = 0; j < rows.length; j++) body.appendChild(rows[j]);
  }
  var tables = document.querySelectorAll('table.sortable');
  for (var t = 0; t < tables.length; t++) {
    var ths = tables[t].tHead.rows[0].cells;
    for (var i = 0; i < ths.length; i++) {
      ths[i].setAttribute('data-sort', '');
      ths[i].setAttribute('tabindex', '0');
      ths[i].title = 'Sort by this column';
      (function (table, i, th) {
        th.addEventListener('click', function () { sort(table, i, th); });
        th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(table, i, th); });
      })(tables[t], i, ths[i]);
    }
  }
  document.body.setAttribute('data-sortable', String(tables.length));
})();
)js";

std::string linked_ids(const std::string& cell, const std::string& prefix) {
    std::string out;
    size_t start = 0;
    while (start < cell.size()) {
        size_t comma = cell.find(',', start);
        if (comma == std::string::npos) comma = cell.size();
        const std::string id = cell.substr(start, comma - start);
        out += fmt::format("{}<a href=\"#{}\">{}</a>", out.empty() ? "" : ", ", anchor_id(prefix, id), html_escape(id));
        start = comma + 1;
    }
    return out;
}

std::string table_html(const TextTable& t) {
    std::string out = t.collapsed ? "<details><summary>" + html_escape(t.caption) + "</summary>" : "";
    // Sortable with JavaScript on (sort_tables below); the rows are all in the HTML, so nothing needs it.
    out += t.rows.size() > 1 ? "<div class=\"tw\"><table class=\"sortable\">" : "<div class=\"tw\"><table>";
    if (!t.caption.empty() && !t.collapsed) out += "<caption>" + html_escape(t.caption) + "</caption>";
    out += "<thead><tr>";
    for (const auto& c : t.columns) out += "<th>" + html_escape(c) + "</th>";
    out += "</tr></thead><tbody>\n";
    for (const auto& row : t.rows) {
        out += t.anchor_col >= 0 && static_cast<size_t>(t.anchor_col) < row.size()
                   ? fmt::format("<tr id=\"{}\">", anchor_id(t.anchor_prefix, row[static_cast<size_t>(t.anchor_col)]))
                   : std::string("<tr>");
        for (size_t i = 0; i < row.size(); ++i) {
            out += "<td>";
            out += static_cast<int>(i) == t.link_col ? linked_ids(row[i], t.link_prefix) : html_escape(row[i]);
            out += "</td>";
        }
        out += "</tr>\n";
    }
    return out + "</tbody></table></div>" + (t.collapsed ? "</details>" : "") + "\n";
}

std::string source_html(const Source& s) {
    std::string out = "Source: ";
    bool first = true;
    for (const auto& [id, cmd] : s.runs) {
        out += fmt::format("{}run <code>{}</code>, reproduce with <code>{}</code>", first ? "" : "; ", html_escape(id),
                           html_escape(cmd.empty() ? "(no command recorded)" : cmd));
        first = false;
    }
    if (first) out += "no run";
    return out + ".";
}

std::string summary_html(const Summary& sum) {
    std::string out = "<section id=\"summary\" class=\"summary\">\n<h2>Summary</h2>\n";
    for (const auto& b : sum.blocks) {
        const bool alert = b.alert && !b.lines.empty();
        out += fmt::format("<div class=\"sb{}\" id=\"{}\">\n<h3>{}</h3>\n", alert ? " alert" : "", html_escape(b.id),
                           html_escape(b.title));
        if (b.lines.empty()) out += "<p>" + html_escape(b.empty) + ".</p>\n";
        if (!b.lines.empty()) out += "<ul>\n";
        for (const auto& l : b.lines) {
            out += fmt::format("<li>{} <a href=\"#{}\">{}</a></li>\n", html_escape(l.text), html_escape(l.anchor),
                               html_escape(l.evidence.empty() ? "evidence" : l.evidence));
        }
        if (!b.lines.empty()) out += "</ul>\n";
        if (!b.lines.empty() && !b.note.empty()) out += "<p>" + html_escape(b.note) + "</p>\n";
        out += "</div>\n";
    }
    return out + "</section>\n";
}

std::string figure(const std::string& svg, const std::string& caption_html) {
    return "<figure>\n" + svg + "<figcaption>" + caption_html + "</figcaption>\n</figure>\n";
}

std::string ms_of(double ns) {
    return format_number(ns / 1e6);
}

// "<group> <scenario> <shape>": a bar's label.
std::string row_label(const ResultRow& r) { return group_label(r) + " " + r.scenario + " " + point_shape(r); }

// A section's charts, each with its own caption where its source is not the section's runs (empty: the section's
// source).
using Charts = std::vector<std::pair<std::string, std::string>>;

Charts machine_charts(const ReportData& d) {
    Charts out;
    for (const auto& r : d.rooflines) {
        if (!r.available) continue;
        for (const char* unit : {"GB/s", "GFLOP/s"}) {
            BarChart c{.title = fmt::format("Roofline of {}: median, min-max bars ({})", r.machine_id, unit),
                       .value_label = unit};
            for (const auto& f : r.figures) {
                if (f.unit != unit) continue;
                c.bars.push_back({.label = f.what,
                                  .value = f.median,
                                  .err_low = f.min,
                                  .err_high = f.max,
                                  .tooltip = fmt::format("{}: median {} {} (min {}, max {}, n={})", f.what,
                                                         format_number(f.median), unit, format_number(f.min),
                                                         format_number(f.max), f.n)});
            }
            if (!c.bars.empty()) {
                out.emplace_back(render_bar_chart(c),
                                 fmt::format("Source: the roofline of machine <code>{}</code>, {}; reproduce with "
                                             "<code>accel detect --measure</code> on that machine.",
                                             html_escape(r.machine_id), html_escape(r.note)));
            }
        }
    }
    return out;
}

Charts perf_charts(const ReportData& d) {
    Charts out;
    std::map<std::string, BarChart> groups;
    std::vector<std::string> order;
    for (const ResultRow* r : perf_rows(d)) {
        if (!r->avg_ts) continue;
        const std::string g = group_label(*r);
        if (!groups.count(g)) {
            order.push_back(g);
            groups[g] = BarChart{.title = fmt::format("{}: {}, mean ± sd", g, throughput_unit(*r)),
                                 .value_label = throughput_unit(*r)};
        }
        const double sd = r->stddev_ts.value_or(0);
        groups[g].bars.push_back(
            {.label = r->scenario + " " + point_shape(*r) + (r->valid ? "" : " INVALID"),
             .value = *r->avg_ts,
             .err_low = *r->avg_ts - sd,
             .err_high = *r->avg_ts + sd,
             .tooltip = fmt::format("{} {}: {} ± {} {}, p99 {} ms", r->scenario, point_shape(*r),
                                    format_number(*r->avg_ts), format_number(sd), throughput_unit(*r),
                                    ms_of(r->p99_ns.value_or(0)))});
    }
    for (const auto& g : order) out.emplace_back(render_bar_chart(groups[g]), "");
    return out;
}

Charts latency_charts(const ReportData& d) {
    Charts out;
    size_t n = 0;
    for (const ResultRow* r : perf_rows(d)) {
        if (r->samples_ns.empty() || n++ >= max_histograms) continue;
        Distribution h{.title = fmt::format("{}: {} {}", group_label(*r), r->scenario, point_shape(*r)),
                       .x_label = "ms per repetition"};
        for (int64_t v : r->samples_ns) h.values.push_back(static_cast<double>(v) / 1e6);
        out.emplace_back(render_distribution(h), "");
    }
    return out;
}

// The SLO line of a limit stored with the server points (extra.server.slo_limits), once per distinct limit.
void add_slo_line(XyChart& c, const std::optional<double>& limit, const char* what) {
    if (!limit) return;
    for (const RefLine& l : c.ref_lines)
        if (l.y == *limit) return;
    c.ref_lines.push_back({.y = *limit, .label = fmt::format("SLO {} <= {:g} ms", what, *limit)});
}

std::string server_chart_desc(const XyChart& c, const std::string& what) {
    std::string slo;
    for (const RefLine& l : c.ref_lines) slo += (slo.empty() ? "" : "; ") + l.label;
    return fmt::format("Each point is one server run: x its achieved queries per second, y its {}. {}. Every figure "
                       "is in the table above.",
                       what, slo.empty() ? "No SLO was stored with these runs" : "Dashed: the stored " + slo);
}

// Throughput-latency curves of the server sweeps: one line per model, device and shape over its loads, with the
// SLO each run was held to drawn as a dashed line.
Charts server_charts(const ReportData& d) {
    Charts out;
    XyChart lat{.title = "Latency p50 and p99 versus achieved throughput",
                .x_label = "achieved queries/s",
                .y_label = "ms, queueing included"};
    XyChart ttft{
        .title = "TTFT p99 versus achieved throughput", .x_label = "achieved queries/s", .y_label = "TTFT p99 ms"};
    XyChart tpot{
        .title = "TPOT p99 versus achieved throughput", .x_label = "achieved queries/s", .y_label = "TPOT p99 ms"};
    std::map<std::string, size_t> idx;
    for (const ResultRow* r : server_rows(d)) {
        const ServerPoint& p = *r->server;
        const auto x = p.achieved_qps ? p.achieved_qps : p.target_qps;
        const std::string g = group_label(*r) + " " + point_shape(*r);
        if (!idx.count(g)) {
            idx[g] = ttft.series.size();
            lat.series.push_back({.name = "p50 · " + g});  // the percentile first: the legend shortens long names
            lat.series.push_back({.name = "p99 · " + g});
            ttft.series.push_back({.name = g});
            tpot.series.push_back({.name = g});
        }
        const size_t i = idx[g];
        const auto add = [&](Series& se, const std::optional<double>& y, const char* what) {
            if (!x || !y) return;
            se.points.push_back({.x = *x, .y = *y,
                                 .tooltip = fmt::format("{}: {} {} ms at {} queries/s achieved (target {})", g, what,
                                                        format_number(*y), format_number(*x),
                                                        p.target_qps ? format_number(*p.target_qps) : "-")});
        };
        add(lat.series[2 * i], p.p50_ms, "p50");
        add(lat.series[2 * i + 1], p.p99_ms, "p99");
        add(ttft.series[i], p.ttft_p99_ms, "TTFT p99");
        add(tpot.series[i], p.tpot_p99_ms, "TPOT p99");
        add_slo_line(lat, p.slo_p99_ms, "p99");
        add_slo_line(ttft, p.slo_ttft_p99_ms, "TTFT p99");
        add_slo_line(tpot, p.slo_tpot_p99_ms, "TPOT p99");
    }
    lat.desc = server_chart_desc(lat, "p50 and p99 latency from the scheduled arrival");
    ttft.desc = server_chart_desc(ttft, "p99 time to first token");
    tpot.desc = server_chart_desc(tpot, "p99 time per output token");
    for (const XyChart* ch : {&lat, &ttft, &tpot}) {
        const bool any =
            std::any_of(ch->series.begin(), ch->series.end(), [](const Series& s) { return !s.points.empty(); });
        if (any) out.emplace_back(render_xy_chart(*ch), "");
    }
    return out;
}

Charts llm_charts(const ReportData& d) {
    Charts out;
    BarChart ttft{.title = "Time to first token (mean)", .value_label = "ms"};
    BarChart tpot{.title = "Per-token latency after the first (mean)", .value_label = "ms"};
    for (const ResultRow* r : llm_latency_rows(d)) {
        const std::string l = row_label(*r);
        if (r->ttft_ns) ttft.bars.push_back({.label = l, .value = *r->ttft_ns / 1e6});
        if (r->tpot_ns) tpot.bars.push_back({.label = l, .value = *r->tpot_ns / 1e6});
    }
    if (!ttft.bars.empty()) out.emplace_back(render_bar_chart(ttft), "");
    if (!tpot.bars.empty()) out.emplace_back(render_bar_chart(tpot), "");
    return out;
}

Charts memory_charts(const ReportData& d) {
    Charts out;
    BarChart c{.title = "Memory: estimate (weights + KV) and measured peak RSS", .value_label = "MiB"};
    for (const ResultRow* r : memory_rows(d)) {
        const std::string l = row_label(*r);
        if (r->memory_estimate_bytes)
            c.bars.push_back({.label = l + " (estimate)", .value = *r->memory_estimate_bytes / 1048576.0});
        c.bars.push_back({.label = l + " (measured)", .value = *r->peak_rss_bytes / 1048576.0});
    }
    out.emplace_back(render_bar_chart(c), "");
    return out;
}

Charts roofline_charts(const ReportData& d) {
    Charts out;
    for (const auto& plot : roofline_plots(d)) {
        RooflineChart c{.title = fmt::format("Roofline of {} on machine {}", plot.device, plot.machine_id)};
        if (plot.roof) {
            c.bandwidth_gbs = plot.roof->bandwidth_gbs;
            for (const auto& [type, g] : plot.roof->gflops_by_type) c.ceilings.push_back({.label = type, .gflops = g});
        } else {
            c.title += " (no roof measured: accel detect --measure)";
        }
        for (const auto& p : plot.points) {
            const ResultRow& r = *p.row;
            c.points.push_back(
                {.intensity = p.at.flop_per_byte,
                 .gflops = p.at.gflops,
                 .label = r.scenario + " " + point_shape(r),
                 .tooltip = fmt::format("{} {} {}: {} FLOP/byte, {} GFLOP/s{}{}", group_label(r), r.scenario,
                                        point_shape(r), format_number(p.at.flop_per_byte), format_number(p.at.gflops),
                                        p.roof_gflops ? fmt::format(", {:.1f}% of its {} roof",
                                                                    100 * p.at.gflops / *p.roof_gflops, p.bound)
                                                      : "",
                                        p.above_roof ? "; ABOVE ITS ROOF: the roof was not measured right" : ""),
                 .flagged = p.above_roof});
        }
        out.emplace_back(render_roofline_chart(c), "");
    }
    return out;
}

Charts compat_charts(const ReportData& d) {
    Charts out;
    Heatmap h{.title = "Compatibility: share of ok evidence per cell (click a cell for its evidence)"};
    for (const auto& c : compat_cells(d)) {
        if (std::find(h.rows.begin(), h.rows.end(), c.row) == h.rows.end()) h.rows.push_back(c.row);
        if (std::find(h.cols.begin(), h.cols.end(), c.col) == h.cols.end()) h.cols.push_back(c.col);
        const int64_t n = c.n_ok + c.n_invalid + c.n_failed;
        std::string text = c.n_ok == n                 ? fmt::format("{} ok", n)
                           : c.n_ok > 0                ? fmt::format("{}/{} ok", c.n_ok, n)
                           : c.n_failed >= c.n_invalid ? fmt::format("{} failed", c.n_failed)
                                                       : fmt::format("{} invalid", c.n_invalid);
        h.cells.push_back({.row = c.row,
                           .col = c.col,
                           .value = n ? static_cast<double>(c.n_ok) / static_cast<double>(n) : 0,
                           .text = text,
                           .href = c.evidence.empty() ? "" : "#" + anchor_id("ev-", c.evidence.front()),
                           .tooltip = fmt::format("{} × {}: {} ok, {} invalid, {} failed", c.row, c.col, c.n_ok,
                                                  c.n_invalid, c.n_failed)});
    }
    out.emplace_back(render_heatmap(h), "");
    return out;
}

Charts regression_charts(const ReportData& d) {
    Charts out;
    if (d.regressions && d.regressions->compare) {
        BarChart c{.title = "Change of the median latency, candidate versus baseline", .value_label = "%"};
        for (const auto& p : d.regressions->compare->points) {
            if (!p.change) continue;
            c.bars.push_back({.label = fmt::format("{} {} {}", p.scenario, p.device, p.params),
                              .value = *p.change * 100,
                              .tooltip = fmt::format("{} {} {}: {} ({})", p.model, p.scenario, p.params,
                                                     format_change(*p.change), store::to_string(p.verdict))});
        }
        if (!c.bars.empty()) out.emplace_back(render_bar_chart(c), "");
    }
    return out;
}

Charts web_charts(const ReportData& d) {
    Charts out;
    BarChart c{.title = "Browser tokens/s over native tokens/s (1 = native speed)", .value_label = "ratio"};
    for (const auto& w : web_ratios(d)) {
        if (!w.ratio) continue;
        c.bars.push_back({.label = fmt::format("{} {} {} {}", w.web->model_name, w.web->scenario, w.web->browser,
                                               w.web->backend),
                          .value = *w.ratio});
    }
    if (!c.bars.empty()) out.emplace_back(render_bar_chart(c), "");
    return out;
}

Charts tradeoff_charts(const ReportData& d) {
    Charts out;
    const auto rows = tradeoff_rows(d);
    const auto pareto = pareto_optimal(rows);
    double ppl_lo = 0, ppl_hi = 0;
    bool have_ppl = false;
    for (const ResultRow* r : rows) {
        if (!r->tradeoffs->perplexity) continue;
        ppl_lo = have_ppl ? std::min(ppl_lo, *r->tradeoffs->perplexity) : *r->tradeoffs->perplexity;
        ppl_hi = have_ppl ? std::max(ppl_hi, *r->tradeoffs->perplexity) : *r->tradeoffs->perplexity;
        have_ppl = true;
    }
    XyChart c{.title = "Pareto: memory versus speed; larger dot = lower perplexity, ringed = Pareto-optimal",
              .x_label = "peak RSS MiB (weights when unmeasured)",
              .y_label = "tg tokens/s",
              .lines = false};
    std::map<std::string, size_t> idx;
    for (size_t i = 0; i < rows.size(); ++i) {
        const TradeoffPoint& p = *rows[i]->tradeoffs;
        const auto mem = p.peak_rss_bytes ? p.peak_rss_bytes : p.weights_bytes;
        if (!mem || !p.tg_ts) continue;
        if (!idx.count(rows[i]->model_name)) {
            idx[rows[i]->model_name] = c.series.size();
            c.series.push_back({.name = rows[i]->model_name});
        }
        ChartPoint pt{.x = *mem / 1048576.0,
                      .y = *p.tg_ts,
                      .tooltip = fmt::format("{}: {} MiB, {} tokens/s, perplexity {}", p.variant,
                                             format_number(*mem / 1048576.0), format_number(*p.tg_ts),
                                             format_optional(p.perplexity, "unmeasured")),
                      .highlight = pareto[i]};
        if (p.perplexity && ppl_hi > ppl_lo) pt.size = (ppl_hi - *p.perplexity) / (ppl_hi - ppl_lo);
        c.series[idx[rows[i]->model_name]].points.push_back(pt);
    }
    if (!c.series.empty()) out.emplace_back(render_xy_chart(c), "");
    return out;
}

// The headline figure side by side: one group per model and test, one bar per machine and device (its colour).
Charts machines_charts(const ReportData& d) {
    const MachineMatrix m = machine_matrix(d);
    if (m.columns.size() < 2) return {};
    BarChart c{.title = "Best mean throughput per machine and device", .value_label = "tokens/s (texts/s for embed)"};
    for (const auto& row : m.rows) {
        for (size_t k = 0; k < m.columns.size(); ++k) {
            const auto it = m.best.at(row).find(m.columns[k]);
            if (it == m.best.at(row).end()) continue;
            const ResultRow& r = *it->second;
            c.bars.push_back({.label = m.columns[k],
                              .value = *r.avg_ts,
                              .tooltip = fmt::format("{} {} on {}: {} {} (result {})", row.first, row.second,
                                                     m.columns[k], format_number(*r.avg_ts), throughput_unit(r), r.id),
                              .group = row.first + " · " + row.second,
                              .series = k});
        }
    }
    return {{render_bar_chart(c), ""}};
}

Charts charts_for(const std::string& id, const ReportData& d) {
    static const std::map<std::string, Charts (*)(const ReportData&)> by_section = {
        {"machine", machine_charts},
        {"machines", machines_charts},
        {"perf", perf_charts},
        {"latency", latency_charts},
        {"server", server_charts},
        {"llm", llm_charts},
        {"memory", memory_charts},
        {"roofline", roofline_charts},
        {"compat", compat_charts},
        {"regressions", regression_charts},
        {"web", web_charts},
        {"tradeoffs", tradeoff_charts},
    };
    const auto it = by_section.find(id);
    return it == by_section.end() ? Charts{} : it->second(d);
}

}  // namespace

std::string render_html(const ReportData& d) {
    const auto sections = build_sections(d);
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>accel report</title>\n<style>";
    out += css;
    out += "</style>\n</head>\n<body>\n<h1>accel report</h1>\n";
    out += fmt::format(
        "<p class=\"meta\">Scope: {}. Data up to {} (UTC). {} result(s) shown (the newest of each "
        "point), {} older result(s) of the same points left out, {} failure(s). Every number was "
        "measured on the machine named; estimates say so.</p>\n",
        html_escape(d.scope), d.data_until.empty() ? "-" : html_escape(d.data_until), d.results.size(), d.n_superseded,
        d.failures.size());
    out += "<nav><a href=\"#summary\">Summary</a>";
    for (const Section& s : sections)
        out += fmt::format("<a href=\"#{}\">{}</a>", html_escape(s.id), html_escape(s.title));
    out += "</nav>\n";
    out += summary_html(build_summary(d, sections));
    for (const Section& s : sections) {
        out += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n", html_escape(s.id), html_escape(s.title));
        if (!s.no_data.empty()) {
            out += "<p class=\"nodata\">No data: " + html_escape(s.no_data) + ".</p>\n</section>\n";
            continue;
        }
        for (const auto& n : s.notes) out += "<p class=\"note\">" + html_escape(n) + "</p>\n";
        for (const auto& [svg, caption] : charts_for(s.id, d))
            out += figure(svg, caption.empty() ? source_html(s.source) : caption);
        if (s.id == "latency") {
            size_t n = 0;
            for (const ResultRow* r : perf_rows(d)) n += !r->samples_ns.empty();
            if (n > max_histograms)
                out += fmt::format(
                    "<p class=\"note\">Histograms of the first {} of {} points; the table has every "
                    "point.</p>\n",
                    max_histograms, n);
        }
        for (const auto& t : s.tables) out += table_html(t);
        if (!s.source.runs.empty()) out += "<p class=\"src\">" + source_html(s.source) + "</p>\n";
        out += "</section>\n";
    }
    out += "<script>";
    out += sort_tables;
    out += self_check;
    out += "</script>\n</body>\n</html>\n";
    return out;
}

}  // namespace accel::report
