#include "prometheus.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

namespace accel::serve {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    const auto bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    std::lock_guard lock(mutex_);
    ++counts_[bucket];
    sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
    std::lock_guard lock(mutex_);
    Snapshot s{.bounds = bounds_, .sum = sum_};
    uint64_t acc = 0;
    for (uint64_t c : counts_) {
        acc += c;
        s.cumulative.push_back(acc);
    }
    s.count = acc;
    return s;
}

std::vector<double> latency_bounds() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

std::vector<double> token_time_bounds() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

namespace {

std::string escape(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
    return fmt::format("{:.9g}", v);
}

std::string label_text(const MetricsText::Labels& labels, std::string_view le = {}) {
    if (labels.empty() && le.empty()) return {};
    std::string out = "{";
    for (const auto& [k, v] : labels) out += fmt::format("{}{}=\"{}\"", out.size() > 1 ? "," : "", k, escape(v));
    if (!le.empty()) out += fmt::format("{}le=\"{}\"", out.size() > 1 ? "," : "", le);
    return out + "}";
}

}  // namespace

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void MetricsText::sample(std::string_view name, const Labels& labels, double value) {
    out_ += fmt::format("{}{} {}\n", name, label_text(labels), number(value));
}

void MetricsText::histogram(std::string_view name, const Labels& labels, const Histogram::Snapshot& h) {
    for (size_t i = 0; i < h.bounds.size(); ++i) {
        out_ += fmt::format("{}_bucket{} {}\n", name, label_text(labels, number(h.bounds[i])), h.cumulative[i]);
    }
    out_ += fmt::format("{}_bucket{} {}\n", name, label_text(labels, "+Inf"), h.count);
    out_ += fmt::format("{}_sum{} {}\n", name, label_text(labels), number(h.sum));
    out_ += fmt::format("{}_count{} {}\n", name, label_text(labels), h.count);
}

}  // namespace accel::serve
