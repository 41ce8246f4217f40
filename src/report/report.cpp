#include "accel/report/report.h"

#include <cmath>

#include <fmt/core.h>

namespace accel::report {

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string md_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            out += ' ';
        } else if (c == '|' || c == '\\' || c == '`') {
            out += '\\';
            out += c;
        } else if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else {
            out += c;
        }
    }
    return out;
}

std::string anchor_id(std::string_view prefix, std::string_view id) {
    std::string out(prefix);
    for (char c : id) {
        const auto u = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
            out += c;
        } else {
            out += fmt::format("_{:02x}", u);
        }
    }
    return out;
}

std::string format_number(double v) {
    if (!std::isfinite(v)) return "-";
    const double a = std::fabs(v);
    if (a >= 100 || a == 0) return fmt::format("{:.0f}", v);
    if (a >= 10) return fmt::format("{:.1f}", v);
    if (a >= 1) return fmt::format("{:.2f}", v);
    // Three significant digits below 1.
    const int digits = static_cast<int>(std::ceil(-std::log10(a))) + 2;
    return fmt::format("{:.{}f}", v, std::min(digits, 12));
}

std::string format_optional(const std::optional<double>& v, std::string_view unavailable) {
    return v ? format_number(*v) : std::string(unavailable);
}

std::string format_bytes(double bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (std::fabs(v) >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{:.0f} B", v) : fmt::format("{:.2f} {}", v, units[u]);
}

std::string format_change(double fraction) {
    return fmt::format("{:+.1f}%", fraction * 100);
}

}  // namespace accel::report
