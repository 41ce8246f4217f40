// The roofline chart (svg_chart.h): measured roofs and measured points on log-log axes.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/report/svg_chart.h"
#include "svg_common.h"

namespace accel::report {
namespace {

using namespace svg;

constexpr double left = 70, top = 30, plot_w = 480, plot_h = 260;

double decade_below(double v) { return std::pow(10, std::floor(std::log10(v))); }
double decade_above(double v) { return std::pow(10, std::ceil(std::log10(v))); }

struct Frame {
    double x0, x1, y0, y1;
};

// Decades that hold every point, every ceiling and the ridge points, with room around them.
Frame frame_of(const RooflineChart& c) {
    double xl = INFINITY, xh = 0, yl = INFINITY, yh = 0;
    const auto add = [&](double x, double y) {
        xl = std::min(xl, x), xh = std::max(xh, x), yl = std::min(yl, y), yh = std::max(yh, y);
    };
    for (const auto& p : c.points) add(p.intensity, p.gflops);
    for (const auto& k : c.ceilings)
        if (c.bandwidth_gbs) add(k.gflops / *c.bandwidth_gbs, k.gflops);
    Frame f{decade_below(xl / 2), decade_above(xh * 2), 0, 0};
    if (c.bandwidth_gbs) yl = std::min(yl, *c.bandwidth_gbs * f.x0);
    for (const auto& k : c.ceilings) yh = std::max(yh, k.gflops);
    f.y0 = decade_below(yl / 2);
    f.y1 = decade_above(yh * 2);
    return f;
}

std::string axes(const Frame& f, const Scale& sx, const Scale& sy) {
    std::string s;
    for (double t = f.x0; t <= f.x1 * 1.0001; t *= 10) {
        s += fmt::format(
            "<line class=\"grid\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>"
            "<text class=\"tick\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
            num(sx(t)), num(top), num(top + plot_h), num(top + plot_h + 14), format_number(t));
    }
    for (double t = f.y0; t <= f.y1 * 1.0001; t *= 10) {
        s += fmt::format(
            "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>"
            "<text class=\"tick\" x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>\n",
            num(left), num(left + plot_w), num(sy(t)), num(left - 4), num(sy(t) + 4), format_number(t));
    }
    s += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">arithmetic intensity, FLOP per "
                     "byte (log)</text>\n",
                     num(left + plot_w / 2), num(top + plot_h + 34));
    return s + fmt::format("<text class=\"axis\" transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\">"
                           "achieved GFLOP/s (log)</text>\n",
                           num(top + plot_h / 2));
}

// The memory slope up to the highest ceiling, and each ceiling from where it meets the slope.
std::string roofs(const RooflineChart& c, const Frame& f, const Scale& sx, const Scale& sy) {
    std::string s;
    double top_ceiling = 0;
    for (const auto& k : c.ceilings) top_ceiling = std::max(top_ceiling, k.gflops);
    if (c.bandwidth_gbs) {
        const double bw = *c.bandwidth_gbs;
        const double x_end = top_ceiling > 0 ? std::min(f.x1, top_ceiling / bw) : f.x1;
        const double x_start = std::max(f.x0, f.y0 / bw);
        s += fmt::format(
            "<line class=\"roof\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\" stroke-width=\"2\"/>"
            "<text class=\"lbl\" x=\"{}\" y=\"{}\">memory {} GB/s</text>\n",
            num(sx(x_start)), num(sy(bw * x_start)), num(sx(x_end)), num(sy(bw * x_end)), num(sx(x_start) + 6),
            num(sy(bw * x_start) - 14), format_number(bw));
    }
    for (size_t i = 0; i < c.ceilings.size(); ++i) {
        const auto& k = c.ceilings[i];
        const double x_start = c.bandwidth_gbs ? std::max(f.x0, k.gflops / *c.bandwidth_gbs) : f.x0;
        s += fmt::format(
            "<line class=\"roof\" x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"{4}/>"
            "<text class=\"lbl\" x=\"{1}\" y=\"{5}\" text-anchor=\"end\">{6} {7} GFLOP/s</text>\n",
            num(sx(x_start)), num(left + plot_w), num(sy(k.gflops)), color(i + 1),
            *dashes[(i + 1) % 8] ? fmt::format(" stroke-dasharray=\"{}\"", dashes[(i + 1) % 8]) : "",
            num(sy(k.gflops) - 4), html_escape(k.label), format_number(k.gflops));
    }
    return s;
}

}  // namespace

std::string render_roofline_chart(const RooflineChart& c) {
    std::vector<RoofPoint> pts;
    for (const auto& p : c.points)
        if (p.intensity > 0 && p.gflops > 0 && std::isfinite(p.intensity) && std::isfinite(p.gflops)) pts.push_back(p);
    if (pts.empty()) return no_data(c.title);
    RooflineChart shown = c;
    shown.points = pts;
    const Frame f = frame_of(shown);
    const Scale sx{f.x0, f.x1, left, left + plot_w, true}, sy{f.y0, f.y1, top + plot_h, top, true};
    std::string s = open_svg(left + plot_w + 170, top + plot_h + 48, c.title, pts.size());  // room for flag labels
    size_t n_flagged = 0;
    for (const auto& p : pts) n_flagged += p.flagged;
    s += fmt::format("<desc>{} measured point(s), {} above their roof; memory roof {}; compute ceilings: {}</desc>\n",
                     pts.size(), n_flagged,
                     c.bandwidth_gbs ? format_number(*c.bandwidth_gbs) + " GB/s" : std::string("not measured"),
                     c.ceilings.empty() ? std::string("not measured") : [&] {
                         std::string t;
                         for (const auto& k : c.ceilings)
                             t += (t.empty() ? "" : ", ") + k.label + " " + format_number(k.gflops) + " GFLOP/s";
                         return html_escape(t);
                     }());
    s += axes(f, sx, sy) + roofs(c, f, sx, sy);
    for (const auto& p : pts) {
        s += fmt::format(
            "<circle class=\"pt{}\" cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\" stroke=\"#000\" stroke-width=\"0.8\" "
            "data-x=\"{}\" data-y=\"{}\"><title>{}</title></circle>\n",
            p.flagged ? " flag" : "", num(sx(p.intensity)), num(sy(p.gflops)), p.flagged ? "#d7263d" : color(0),
            fmt::format("{:.6g}", p.intensity), fmt::format("{:.6g}", p.gflops),
            html_escape(p.tooltip.empty() ? p.label : p.tooltip));
        if (p.flagged) {
            s += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" fill=\"#d7263d\">above roof: {}</text>\n",
                             num(sx(p.intensity) + 7), num(sy(p.gflops) + 4), html_escape(short_label(p.label, 32)));
        }
    }
    return s + "</svg>\n";
}

}  // namespace accel::report
