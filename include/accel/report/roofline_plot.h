#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accel/report/report_data.h"

// Where each measured llm point sits on its device's measured roofline. Pure functions over ReportData.
namespace accel::report {

// A point's arithmetic intensity and achieved rate. FLOPs per token: 2 per weight of the repeating blocks
// (extra.model_n_params_blocks), as bench/roofline_efficiency.h counts them. Bytes per token: the weights
// (extra.model_size) once per token in decode (tg: n_prompt 0), once per micro-batch in prefill (pp: n_gen 0, so
// weights / min(n_prompt, n_ubatch)); the KV cache's traffic is left out. Achieved: FLOPs per token times the mean
// tokens/s (avg_ts). nullopt for other shapes or when a figure is missing.
struct Placement {
    double flop_per_byte = 0;
    double gflops = 0;  // achieved, 1e9 FLOP/s
};
std::optional<Placement> roofline_placement(const ResultRow& r);

struct RooflinePlotPoint {
    const ResultRow* row = nullptr;
    Placement at{};
    std::optional<double> roof_gflops{};  // the roof at that intensity: min(bandwidth x intensity, type's ceiling)
    std::string bound{};                  // "memory", "compute" or "" (no roof measured)
    bool above_roof = false;              // above roof_gflops, or flagged by the bench (roofline_defect)
};

struct RooflinePlot {
    std::string machine_id;
    std::string device;
    std::optional<DeviceRoof> roof{};  // unset: no roofline measured for this machine and device
    std::vector<RooflinePlotPoint> points{};
};

// One plot per machine and device that has a placeable point, in the results' order.
std::vector<RooflinePlot> roofline_plots(const ReportData& d);

}  // namespace accel::report
