#include "accel/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include <fmt/core.h>

#include "accel/bench/statistics.h"
#include "accel/report/report.h"
#include "svg_common.h"

namespace accel::report {
namespace {

using namespace svg;

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int n) {
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
    const double raw = (hi - lo) / std::max(n, 1);
    const double mag = std::pow(10, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        step = m * mag;
        if (step >= raw) break;
    }
    std::vector<double> t;
    // From the last step at or below lo to the first at or above hi, so the axis covers every value.
    const double first = std::floor(lo / step + 1e-9);
    for (double i = first; t.size() <= 50; i += 1) {
        const double v = i * step;
        t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
        if (v >= hi - step * 1e-9) break;
    }
    return t;
}

std::string render_bar_chart(const BarChart& c) {
    if (c.bars.empty()) return no_data(c.title);
    const double label_w = 260, plot_w = 340, left = label_w + 8, row_h = 22, top = 30;
    // The row of each bar: a new group's heading takes a row above its first bar.
    std::vector<double> row_of(c.bars.size());
    size_t n_rows = 0;
    std::vector<std::pair<size_t, std::string>> headings;
    for (size_t i = 0; i < c.bars.size(); ++i) {
        if (!c.bars[i].group.empty() && (i == 0 || c.bars[i].group != c.bars[i - 1].group))
            headings.emplace_back(n_rows++, c.bars[i].group);
        row_of[i] = static_cast<double>(n_rows++);
    }
    const double h = top + row_h * static_cast<double>(n_rows) + 40;
    double hi = 0, lo = 0;
    for (const auto& b : c.bars) {
        hi = std::max({hi, b.value, b.err_high.value_or(b.value)});
        lo = std::min({lo, b.value, b.err_low.value_or(b.value)});
    }
    auto [d0, d1] = padded(lo, hi, true);
    const auto ticks = nice_ticks(d0, d1);
    d0 = std::min(d0, ticks.front());
    d1 = std::max(d1, ticks.back());
    const Scale x{d0, d1, left, left + plot_w};
    std::string s = open_svg(left + plot_w + 20, h, c.title, c.bars.size());
    const double axis_y = top + row_h * static_cast<double>(n_rows);
    for (double t : ticks) {
        s += fmt::format(
            "<line class=\"grid\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>"
            "<text class=\"tick\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
            num(x(t)), num(top), num(axis_y), num(axis_y + 14), format_number(t));
    }
    s += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     num(left + plot_w / 2), num(axis_y + 32), html_escape(c.value_label));
    for (const auto& [row, text] : headings) {
        s += fmt::format("<text class=\"lbl grp\" x=\"8\" y=\"{}\" font-weight=\"600\">{}</text>\n",
                         num(top + row_h * static_cast<double>(row) + 15), html_escape(short_label(text, 80)));
    }
    for (size_t i = 0; i < c.bars.size(); ++i) {
        const BarItem& b = c.bars[i];
        const double y = top + row_h * row_of[i];
        const double x0 = x(std::min(0.0, b.value)), x1 = x(std::max(0.0, b.value));
        const std::string tip = b.tooltip.empty() ? b.label + ": " + format_number(b.value) : b.tooltip;
        s += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(label_w),
                         num(y + 15), html_escape(short_label(b.label)));
        s += fmt::format(
            "<rect class=\"pt bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
            "data-value=\"{}\"><title>{}</title></rect>\n",
            num(x0), num(y + 4), num(std::max(x1 - x0, 0.5)), num(row_h - 8), color(b.series),
            fmt::format("{:.6g}", b.value),
            html_escape(tip));
        if (b.err_low && b.err_high) {
            const double e0 = x(*b.err_low), e1 = x(*b.err_high), ym = y + row_h / 2;
            s += fmt::format("<path class=\"err\" d=\"M{0} {2}H{1}M{0} {3}V{4}M{1} {3}V{4}\"/>\n", num(e0), num(e1),
                             num(ym), num(ym - 5), num(ym + 5));
        }
    }
    return s + "</svg>\n";
}

std::string render_xy_chart(const XyChart& c) {
    size_t n = 0;
    double xl = std::numeric_limits<double>::infinity(), xh = -xl, yl = xl, yh = -xl;
    for (const auto& se : c.series) {
        for (const auto& p : se.points) {
            if (!std::isfinite(p.x) || !std::isfinite(p.y) || (c.log_x && p.x <= 0)) continue;
            ++n;
            xl = std::min(xl, p.x);
            xh = std::max(xh, p.x);
            yl = std::min(yl, p.y);
            yh = std::max(yh, p.y);
        }
    }
    if (n == 0) return no_data(c.title);
    for (const RefLine& l : c.ref_lines) {
        if (!std::isfinite(l.y)) continue;
        yl = std::min(yl, l.y);
        yh = std::max(yh, l.y);
    }
    const double left = 64, top = 30, pw = 440, ph = 220, legend_x = left + pw + 16;
    const double w = legend_x + 170, h = top + ph + 48;
    auto [y0, y1] = padded(yl, yh, true);
    const auto yt = nice_ticks(y0, y1);
    y0 = std::min(y0, yt.front());
    y1 = std::max(y1, yt.back());
    std::vector<double> xt;
    double x0 = xl, x1 = xh;
    if (c.log_x) {
        if (x1 == x0) {
            x0 /= 2;
            x1 *= 2;
        }
        xt = log_ticks(x0, x1);
    } else {
        std::tie(x0, x1) = padded(xl, xh, false);
        xt = nice_ticks(x0, x1);
        x0 = std::min(x0, xt.front());
        x1 = std::max(x1, xt.back());
    }
    const Scale sx{x0, x1, left, left + pw, c.log_x}, sy{y0, y1, top + ph, top};
    std::string s = open_svg(w, h, c.title, n);
    if (!c.desc.empty()) s += fmt::format("<desc>{}</desc>\n", html_escape(c.desc));
    for (double t : yt) {
        s += fmt::format(
            "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>"
            "<text class=\"tick\" x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
            num(left), num(left + pw), num(sy(t)), num(left - 4), num(sy(t) + 4), format_number(t));
    }
    for (double t : xt) {
        if (t < x0 * 0.9999 || t > x1 * 1.0001 + 1e-12) continue;
        s += fmt::format(
            "<line class=\"grid\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>"
            "<text class=\"tick\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
            num(sx(t)), num(top), num(top + ph), num(top + ph + 14), format_number(t));
    }
    s += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(left + pw / 2),
                     num(top + ph + 34), html_escape(c.x_label));
    s += fmt::format(
        "<text class=\"axis\" transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
        num(top + ph / 2), html_escape(c.y_label));
    for (const RefLine& l : c.ref_lines) {
        if (!std::isfinite(l.y)) continue;
        s += fmt::format(
            "<line class=\"ref\" data-y=\"{0}\" x1=\"{1}\" x2=\"{2}\" y1=\"{3}\" y2=\"{3}\" stroke=\"#d55e00\" "
            "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>{4}</title></line>"
            "<text class=\"lbl\" x=\"{2}\" y=\"{5}\" text-anchor=\"end\">{4}</text>\n",
            l.y, num(left), num(left + pw), num(sy(l.y)), html_escape(l.label), num(sy(l.y) - 4));
    }
    for (size_t i = 0; i < c.series.size(); ++i) {
        const Series& se = c.series[i];
        std::vector<ChartPoint> pts;
        for (const auto& p : se.points) {
            if (std::isfinite(p.x) && std::isfinite(p.y) && !(c.log_x && p.x <= 0)) pts.push_back(p);
        }
        if (c.lines && pts.size() > 1) {
            std::sort(pts.begin(), pts.end(), [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
            std::string d;
            for (size_t k = 0; k < pts.size(); ++k)
                d += fmt::format("{}{} {}", k == 0 ? "M" : "L", num(sx(pts[k].x)), num(sy(pts[k].y)));
            s += fmt::format("<path class=\"line\" d=\"{}\" stroke=\"{}\"{}/>\n", d, color(i),
                             *dashes[i % 8] ? fmt::format(" stroke-dasharray=\"{}\"", dashes[i % 8]) : "");
        }
        for (const auto& p : pts) {
            const double r = p.size ? 3 + 7 * std::clamp(*p.size, 0.0, 1.0) : 3.5;
            const std::string tip = p.tooltip.empty()
                                        ? fmt::format("{}: {}, {}", se.name, format_number(p.x), format_number(p.y))
                                        : p.tooltip;
            s += fmt::format(
                "<circle class=\"pt{}\" cx=\"{}\" cy=\"{}\" r=\"{}\" data-x=\"{}\" data-y=\"{}\" fill=\"{}\"{}>"
                "<title>{}</title></circle>\n",
                p.highlight ? " hl" : "", num(sx(p.x)), num(sy(p.y)), num(r), p.x, p.y, color(i),
                p.highlight ? " stroke=\"#000\" stroke-width=\"2\"" : " fill-opacity=\"0.55\"", html_escape(tip));
        }
        const double ly = top + 6 + 16 * static_cast<double>(i);
        s += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
            "<text class=\"lbl\" x=\"{}\" y=\"{}\">{}</text>\n",
            num(legend_x), num(ly), color(i), num(legend_x + 14), num(ly + 9), html_escape(short_label(se.name, 28)));
    }
    return s + "</svg>\n";
}

std::string render_histogram(const Histogram& c) {
    std::vector<double> v;
    for (double x : c.values)
        if (std::isfinite(x)) v.push_back(x);
    if (v.empty()) return no_data(c.title);
    std::sort(v.begin(), v.end());
    const double lo = v.front(), hi = v.back();
    const int nb = std::max(1, lo == hi ? 1 : c.n_bins);
    const double width = lo == hi ? 1 : (hi - lo) / nb;
    std::vector<size_t> bins(static_cast<size_t>(nb), 0);
    for (double x : v) {
        auto b = static_cast<size_t>(lo == hi ? 0 : std::floor((x - lo) / width));
        ++bins[std::min(b, bins.size() - 1)];
    }
    const size_t peak = *std::max_element(bins.begin(), bins.end());
    const double left = 56, top = 30, pw = 520, ph = 160, w = left + pw + 20, h = top + ph + 48;
    const Scale sx{lo, lo == hi ? lo + 1 : hi, left, left + pw}, sy{0, static_cast<double>(peak), top + ph, top};
    size_t n_marks = 0;
    for (size_t b : bins) n_marks += b > 0;
    std::string s = open_svg(w, h, c.title, n_marks);
    for (double t : nice_ticks(0, static_cast<double>(peak), 4)) {
        if (t != std::floor(t)) continue;
        s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(left - 4),
                         num(sy(t) + 4), format_number(t));
    }
    const double bar_w = pw / nb;
    for (size_t i = 0; i < bins.size(); ++i) {
        if (bins[i] == 0) continue;
        const double b0 = lo + width * static_cast<double>(i);
        s += fmt::format(
            "<rect class=\"pt bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
            "<title>{} to {}: {} sample(s)</title></rect>\n",
            num(left + bar_w * static_cast<double>(i)), num(sy(static_cast<double>(bins[i]))),
            num(std::max(bar_w - 1, 0.5)), num(top + ph - sy(static_cast<double>(bins[i]))), color(0),
            format_number(b0), format_number(b0 + width), bins[i]);
    }
    auto pct = [&](double q) { return bench::percentile_sorted(v, q); };  // type 7, as the tables
    for (auto [q, name] : {std::pair{0.5, "p50"}, std::pair{0.99, "p99"}}) {
        const double xv = sx(pct(q));
        s += fmt::format(
            "<line class=\"mark\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>"
            "<text class=\"tick\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
            num(xv), num(top), num(top + ph), num(top - 2), name);
    }
    for (double t : nice_ticks(lo, lo == hi ? lo + 1 : hi, 6)) {
        if (t < lo || t > hi) continue;
        s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(sx(t)),
                         num(top + ph + 14), format_number(t));
    }
    s += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{} ({} samples)</text>\n",
                     num(left + pw / 2), num(top + ph + 34), html_escape(c.x_label), v.size());
    return s + "</svg>\n";
}

std::string render_heatmap(const Heatmap& c) {
    if (c.cells.empty() || c.rows.empty() || c.cols.empty()) return no_data(c.title);
    const double label_w = 220, cell_w = 110, cell_h = 26, top = 70;
    const double w = label_w + cell_w * static_cast<double>(c.cols.size()) + 10;
    const double h = top + cell_h * static_cast<double>(c.rows.size()) + 10;
    std::string s = open_svg(w, h, c.title, c.cells.size());
    for (size_t j = 0; j < c.cols.size(); ++j) {
        s += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                         num(label_w + cell_w * (static_cast<double>(j) + 0.5)), num(top - 8), html_escape(c.cols[j]));
    }
    for (size_t i = 0; i < c.rows.size(); ++i) {
        s += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(label_w - 6),
                         num(top + cell_h * static_cast<double>(i) + 17), html_escape(short_label(c.rows[i], 36)));
    }
    for (const HeatCell& cell : c.cells) {
        const auto ri = std::find(c.rows.begin(), c.rows.end(), cell.row) - c.rows.begin();
        const auto ci = std::find(c.cols.begin(), c.cols.end(), cell.col) - c.cols.begin();
        if (ri >= static_cast<long>(c.rows.size()) || ci >= static_cast<long>(c.cols.size())) continue;
        const double v = std::clamp(cell.value, 0.0, 1.0);
        // Linear from the palette's vermillion (all failed) to its green (all ok); the cell text says the same.
        const int r = static_cast<int>(213 * (1 - v));
        const int g = static_cast<int>(94 + (158 - 94) * v);
        const int b = static_cast<int>(115 * v);
        const double x = label_w + cell_w * static_cast<double>(ci), y = top + cell_h * static_cast<double>(ri);
        std::string rect = fmt::format(
            "<rect class=\"pt cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#{:02x}{:02x}{:02x}\">"
            "<title>{}</title></rect><text class=\"cv\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            num(x + 1), num(y + 1), num(cell_w - 2), num(cell_h - 2), r, g, b, html_escape(cell.tooltip),
            num(x + cell_w / 2), num(y + 17), html_escape(cell.text));
        if (!cell.href.empty()) rect = fmt::format("<a href=\"{}\">{}</a>", html_escape(cell.href), rect);
        s += rect + "\n";
    }
    return s + "</svg>\n";
}

}  // namespace accel::report
