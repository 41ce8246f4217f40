#pragma once

#include <optional>
#include <string>
#include <vector>

// Inline SVG charts, generated as text: the report works offline and from file:// with no chart library.
// Every chart is one <svg class="chart" data-points="N"> element whose N data marks carry class "pt" (and a
// <title> tooltip with the exact figure; an xy chart's marks also carry data-x and data-y, the exact values).
// Text from the caller is HTML-escaped here. Charts with no data render
// a short "no data" figure with data-points="0". Pure functions; thread-safe.
namespace accel::report {

struct BarItem {
    std::string label;
    double value = 0;
    std::optional<double> err_low{}, err_high{};  // absolute ends of the error bar (e.g. mean -/+ stddev)
    std::string tooltip{};                        // empty: label and value
    // Grouped bars: consecutive bars of one group are drawn together under its heading (a row of its own, not a
    // data mark), each in the colour of its series, so devices, machines or configurations stand side by side.
    std::string group{};
    size_t series = 0;
};

struct BarChart {
    std::string title;
    std::string value_label;  // the axis, with its unit
    std::vector<BarItem> bars{};
};

struct ChartPoint {
    double x = 0;
    double y = 0;
    std::string tooltip{};
    std::optional<double> size{};  // scatter: 0..1, drawn as the radius
    bool highlight = false;        // scatter: drawn filled and ringed (e.g. a Pareto-optimal point)
};

struct Series {
    std::string name;
    std::vector<ChartPoint> points{};
};

// A horizontal reference line across the plot (an SLO limit): drawn dashed with its label, class "ref" and
// data-y = its value; never a data mark. The y axis always reaches it.
struct RefLine {
    double y = 0;
    std::string label;  // "SLO p99 <= 500 ms"
};

struct XyChart {
    std::string title;
    std::string x_label, y_label;
    std::vector<Series> series{};
    bool lines = true;  // false: a scatter plot
    bool log_x = false;
    std::vector<RefLine> ref_lines{};
    std::string desc{};  // the text alternative (<desc>), when the chart has one beyond its table
};

struct Histogram {
    std::string title;
    std::string x_label;           // the unit of the values
    std::vector<double> values{};  // raw samples
    int n_bins = 20;
};

struct HeatCell {
    std::string row, col;
    double value = 0;    // 0..1: 0 red (failed), 1 green (all ok)
    std::string text{};  // shown in the cell
    std::string href{};  // link target, e.g. "#ev-..."
    std::string tooltip{};
};

struct Heatmap {
    std::string title;
    std::vector<std::string> rows{}, cols{};
    std::vector<HeatCell> cells{};
};

// Every sample of one point. Fewer than strip_plot_max samples: a strip (dot) plot of each sample with the median
// marked; more: the empirical CDF with p50, p90 and p99 marked (type 7, as every table). Each sample is one data
// mark. The <desc> states n, median, p90 and p99 as text.
struct Distribution {
    std::string title;
    std::string x_label;           // the unit of the values
    std::vector<double> values{};  // raw samples
};
inline constexpr size_t strip_plot_max = 20;

// A roofline: log-log, x arithmetic intensity (FLOP per byte), y achieved GFLOP/s. The memory roof is the line
// y = bandwidth * x (GB/s), each compute ceiling a horizontal line (GFLOP/s) from where it meets the slope; each
// point is a data mark, flagged ones (above their roof) drawn red and labelled.
struct RoofCeiling {
    std::string label;  // "q4_0"
    double gflops = 0;
};
struct RoofPoint {
    double intensity = 0;  // FLOP per byte
    double gflops = 0;     // achieved
    std::string label;     // short, drawn next to flagged points
    std::string tooltip{};
    bool flagged = false;
};
struct RooflineChart {
    std::string title;
    std::optional<double> bandwidth_gbs{};
    std::vector<RoofCeiling> ceilings{};
    std::vector<RoofPoint> points{};
};

std::string render_bar_chart(const BarChart& chart);
std::string render_xy_chart(const XyChart& chart);
std::string render_histogram(const Histogram& chart);
std::string render_heatmap(const Heatmap& chart);
std::string render_distribution(const Distribution& chart);  // svg_distribution.cpp
std::string render_roofline_chart(const RooflineChart& chart);  // svg_roofline.cpp

// Axis ticks: "nice" round values covering [lo, hi] (at most about n + 2 of them).
std::vector<double> nice_ticks(double lo, double hi, int n = 5);

}  // namespace accel::report
