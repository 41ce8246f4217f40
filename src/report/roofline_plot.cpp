#include "accel/report/roofline_plot.h"

#include <algorithm>
#include <cctype>

#include "accel/bench/sweep.h"

namespace accel::report {
namespace {

bool same_type(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

const DeviceRoof* find_roof(const ReportData& d, const std::string& machine, const std::string& device) {
    for (const auto& info : d.rooflines) {
        if (info.machine_id != machine || !info.available) continue;
        for (const auto& r : info.roofs)
            if (r.device == device) return &r;
    }
    return nullptr;
}

void place_under(const DeviceRoof& roof, RooflinePlotPoint& p) {
    std::optional<double> slope, ceiling;
    if (roof.bandwidth_gbs) slope = *roof.bandwidth_gbs * p.at.flop_per_byte;
    for (const auto& [type, g] : roof.gflops_by_type)
        if (same_type(type, p.row->weight_type)) ceiling = g;
    if (slope && (!ceiling || *slope <= *ceiling)) {
        p.roof_gflops = slope;
        p.bound = "memory";
    } else if (ceiling) {
        p.roof_gflops = ceiling;
        p.bound = "compute";
    }
    if (p.roof_gflops && p.at.gflops > *p.roof_gflops) p.above_roof = true;
}

}  // namespace

std::optional<Placement> roofline_placement(const ResultRow& r) {
    if (!r.avg_ts || *r.avg_ts <= 0 || !r.weight_bytes || !r.n_params_blocks) return std::nullopt;
    const int64_t n_prompt = r.n_prompt.value_or(0), n_gen = r.n_gen.value_or(0);
    double tokens_per_weight_pass = 0;
    if (n_prompt == 0 && n_gen > 0) tokens_per_weight_pass = 1;
    if (n_gen == 0 && n_prompt > 0)
        tokens_per_weight_pass =
            static_cast<double>(std::min<int64_t>(n_prompt, r.n_ubatch.value_or(bench::PointSpec{}.n_ubatch)));
    if (tokens_per_weight_pass <= 0) return std::nullopt;
    const double flop_per_token = 2.0 * *r.n_params_blocks;
    const double bytes_per_token = *r.weight_bytes / tokens_per_weight_pass;
    return Placement{.flop_per_byte = flop_per_token / bytes_per_token, .gflops = flop_per_token * *r.avg_ts / 1e9};
}

std::vector<RooflinePlot> roofline_plots(const ReportData& d) {
    std::vector<RooflinePlot> out;
    for (const auto& r : d.results) {
        if (r.platform == "web" || r.scenario == "tradeoffs" || r.scenario == "server") continue;
        const auto at = roofline_placement(r);
        if (!at) continue;
        auto plot = std::find_if(out.begin(), out.end(),
                                 [&](const RooflinePlot& p) { return p.machine_id == r.machine_id && p.device == r.device; });
        if (plot == out.end()) {
            RooflinePlot p{.machine_id = r.machine_id, .device = r.device};
            if (const DeviceRoof* roof = find_roof(d, r.machine_id, r.device)) p.roof = *roof;
            out.push_back(std::move(p));
            plot = out.end() - 1;
        }
        RooflinePlotPoint p{.row = &r, .at = *at};
        if (plot->roof) place_under(*plot->roof, p);
        if (!r.roofline_defect.empty()) p.above_roof = true;
        plot->points.push_back(p);
    }
    return out;
}

}  // namespace accel::report
