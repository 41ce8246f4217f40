// Distributions of raw samples: a strip plot for few samples, an empirical CDF for many (svg_chart.h).
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "accel/bench/statistics.h"
#include "accel/report/report.h"
#include "accel/report/svg_chart.h"
#include "svg_common.h"

namespace accel::report {
namespace {

using namespace svg;

constexpr double left = 56, top = 30, plot_w = 520;

std::string x_axis(const Scale& sx, double lo, double hi, double y, const std::string& label, size_t n) {
    std::string s;
    for (double t : nice_ticks(lo, hi, 6)) {
        if (t < lo || t > hi) continue;
        s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(sx(t)),
                         num(y + 14), format_number(t));
    }
    return s + fmt::format("<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{} ({} samples)</text>\n",
                           num(left + plot_w / 2), num(y + 34), html_escape(label), n);
}

std::string mark(double x, double y0, double y1, const std::string& name) {
    return fmt::format(
        "<line class=\"mark\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>"
        "<text class=\"tick\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        num(x), num(y0), num(y1), num(y0 - 2), name);
}

// The chart's text alternative: what a reader would take from it.
std::string desc(const std::vector<double>& v, const std::string& unit) {
    const auto q = [&](double p) { return format_number(bench::percentile_sorted(v, p)); };
    return fmt::format("<desc>{} samples in {}: min {}, median {}, p90 {}, p99 {}, max {}</desc>\n", v.size(),
                       html_escape(unit), format_number(v.front()), q(0.5), q(0.9), q(0.99),
                       format_number(v.back()));
}

std::string strip_plot(const Distribution& c, const std::vector<double>& v, const Scale& sx) {
    const double ph = 60, h = top + ph + 48;
    std::string s = open_svg(left + plot_w + 20, h, c.title, v.size()) + desc(v, c.x_label);
    s += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n", num(left), num(left + plot_w),
                     num(top + ph), num(top + ph));
    // Every sample in its recorded order, spread over five rows so that equal values stay visible.
    for (size_t i = 0; i < c.values.size(); ++i) {
        const double x = c.values[i];
        if (!std::isfinite(x)) continue;
        const double y = top + ph / 2 + (static_cast<double>(i % 5) - 2) * 8;
        s += fmt::format(
            "<circle class=\"pt\" cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\" fill-opacity=\"0.7\"><title>sample {}: "
            "{} {}</title></circle>\n",
            num(sx(x)), num(y), color(0), i + 1, format_number(x), html_escape(c.x_label));
    }
    s += mark(sx(bench::percentile_sorted(v, 0.5)), top + 6, top + ph, "median");
    return s + x_axis(sx, v.front(), v.back(), top + ph, c.x_label, v.size()) + "</svg>\n";
}

std::string ecdf(const Distribution& c, const std::vector<double>& v, const Scale& sx) {
    const double ph = 160, h = top + ph + 48;
    const Scale sy{0, 1, top + ph, top};
    std::string s = open_svg(left + plot_w + 20, h, c.title, v.size()) + desc(v, c.x_label);
    for (double t : {0.0, 0.5, 1.0}) {
        s += fmt::format(
            "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>"
            "<text class=\"tick\" x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
            num(left), num(left + plot_w), num(sy(t)), num(left - 4), num(sy(t) + 4), format_number(t));
    }
    std::string d = fmt::format("M{} {}", num(sx(v.front())), num(sy(0)));
    const double n = static_cast<double>(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        d += fmt::format("L{} {}L{} {}", num(sx(v[i])), num(sy(static_cast<double>(i) / n)), num(sx(v[i])),
                         num(sy(static_cast<double>(i + 1) / n)));
    }
    s += fmt::format("<path class=\"line\" d=\"{}\" stroke=\"{}\"/>\n", d, color(0));
    for (size_t i = 0; i < v.size(); ++i) {
        s += fmt::format("<circle class=\"pt\" cx=\"{}\" cy=\"{}\" r=\"1.8\" fill=\"{}\"><title>{} {}: {} of {} at "
                         "or below</title></circle>\n",
                         num(sx(v[i])), num(sy(static_cast<double>(i + 1) / n)), color(0), format_number(v[i]),
                         html_escape(c.x_label), i + 1, v.size());
    }
    for (auto [q, name] : {std::pair{0.5, "p50"}, std::pair{0.9, "p90"}, std::pair{0.99, "p99"}})
        s += mark(sx(bench::percentile_sorted(v, q)), top, top + ph, name);
    s += fmt::format("<text class=\"axis\" transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">share "
                     "at or below</text>\n",
                     num(top + ph / 2));
    return s + x_axis(sx, v.front(), v.back(), top + ph, c.x_label, v.size()) + "</svg>\n";
}

}  // namespace

std::string render_distribution(const Distribution& c) {
    std::vector<double> v;
    for (double x : c.values)
        if (std::isfinite(x)) v.push_back(x);
    if (v.empty()) return no_data(c.title);
    std::sort(v.begin(), v.end());
    const double pad = v.front() == v.back() ? std::max(std::fabs(v.front()) * 0.05, 1e-9) : 0;
    const Scale sx{v.front() - pad, v.back() + pad, left + 6, left + plot_w - 6};
    return v.size() < strip_plot_max ? strip_plot(c, v, sx) : ecdf(c, v, sx);
}

}  // namespace accel::report
