#pragma once

// Private to report/: the pieces every SVG chart shares (palette, scales, axes' ticks, the <svg> element).
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "accel/report/report.h"

namespace accel::report::svg {

// Colour-blind-safe (Okabe-Ito) and distinguishable in greyscale print by their dash patterns on lines.
inline constexpr const char* palette[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                   "#56b4e9", "#d55e00", "#f0e442", "#000000"};
inline constexpr const char* dashes[] = {"", "6 3", "2 2", "8 3 2 3", "", "6 3", "2 2", "8 3 2 3"};

inline std::string color(size_t i) {
    return palette[i % 8];
}

inline std::string num(double v) {
    return fmt::format("{:.1f}", v);
}

// Long labels would run off the chart's left edge: shorten them (the tooltip keeps the whole text). Cuts on a
// UTF-8 character boundary.
inline std::string short_label(const std::string& s, size_t max_bytes = 44) {
    if (s.size() <= max_bytes) return s;
    size_t cut = max_bytes - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return s.substr(0, cut) + "...";
}

inline std::string open_svg(double w, double h, const std::string& title, size_t n_points) {
    return fmt::format(
        "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" "
        "role=\"img\" aria-label=\"{}\" data-points=\"{}\">\n<title>{}</title>\n"
        "<text class=\"ct\" x=\"8\" y=\"18\">{}</text>\n",
        num(w), num(h), num(w), html_escape(title), n_points, html_escape(title), html_escape(title));
}

inline std::string no_data(const std::string& title) {
    return open_svg(640, 60, title, 0) + "<text class=\"nd\" x=\"8\" y=\"44\">no data</text>\n</svg>\n";
}

struct Scale {
    double d0, d1, r0, r1;
    bool log = false;
    double operator()(double v) const {
        const double a = log ? std::log10(std::max(v, 1e-300)) : v;
        const double b0 = log ? std::log10(d0) : d0, b1 = log ? std::log10(d1) : d1;
        if (b1 == b0) return (r0 + r1) / 2;
        return r0 + (a - b0) / (b1 - b0) * (r1 - r0);
    }
};

inline std::pair<double, double> padded(double lo, double hi, bool from_zero) {
    if (from_zero) lo = std::min(lo, 0.0);
    if (hi == lo) {
        const double d = hi == 0 ? 1 : std::fabs(hi) * 0.1;
        return {lo - (from_zero && lo == 0 ? 0 : d), hi + d};
    }
    return {lo, hi};
}

inline std::vector<double> log_ticks(double lo, double hi) {
    std::vector<double> t;
    for (double p = std::pow(10, std::floor(std::log10(lo))); p <= hi * 1.0001; p *= 10) {
        if (p >= lo * 0.9999) t.push_back(p);
    }
    if (t.size() < 2) t = {lo, hi};
    return t;
}


}  // namespace accel::report::svg
