#pragma once
// Private to serve/: the pieces of /metrics (Prometheus text exposition format 0.0.4).

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace accel::serve {

// A latency histogram in seconds with fixed upper bounds (Prometheus' cumulative buckets, sum and count).
// Thread-safe.
class Histogram {
public:
    struct Snapshot {
        std::vector<double> bounds;
        std::vector<uint64_t> cumulative;  // per bound, then +Inf (= count)
        double sum = 0;
        uint64_t count = 0;
    };
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    Snapshot snapshot() const;

private:
    mutable std::mutex mutex_;
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket (not cumulative), the last one past every bound
    double sum_ = 0;
};

// Bounds for request latencies (1 ms .. 2 min) and per-token times (0.5 ms .. 5 s).
std::vector<double> latency_bounds();
std::vector<double> token_time_bounds();

// Accumulates one text exposition: a family's HELP and TYPE once, then its samples. Label values are escaped.
class MetricsText {
public:
    using Labels = std::vector<std::pair<std::string, std::string>>;
    // type: "counter", "gauge" or "histogram".
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, double value);
    void histogram(std::string_view name, const Labels& labels, const Histogram::Snapshot& h);
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

}  // namespace accel::serve
