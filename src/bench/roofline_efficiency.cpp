#include "accel/bench/roofline_efficiency.h"

#include <fmt/core.h>

namespace accel::bench {
namespace {

constexpr const char* above_roof =
    "above 100% of the measured roof: the roof was not measured on the path this point ran (another kernel, "
    "layout or shape); run accel detect --measure --remeasure, and report it if it stays";

void decode_figure(const hw::Roofline& roof, const RooflinePoint& p, RooflineEfficiency& e) {
    const auto bw = hw::read_bandwidth_gbs(roof, p.device);
    if (!bw || *bw <= 0) {
        e.basis += fmt::format("; decode: unavailable, no memory bandwidth measured for {}", p.device);
        return;
    }
    const double ctx = p.n_depth + p.n_gen / 2.0;
    const double kv = p.kv_cells > 0 ? static_cast<double>(p.kv_bytes) * ctx / p.kv_cells : 0.0;
    const double bytes_per_s = (static_cast<double>(p.weight_bytes) + kv) * p.tokens_per_s;
    e.decode_bandwidth_pct = 100.0 * bytes_per_s / (*bw * 1e9);
    e.basis += fmt::format("; {} read bandwidth {:.1f} GB/s; KV bytes per token from the memory estimator", p.device,
                           *bw);
}

void prefill_figure(const hw::Roofline& roof, const RooflinePoint& p, RooflineEfficiency& e) {
    const std::string type = hw::weight_type_of(p.model_description);
    if (type.empty()) {
        e.basis += fmt::format("; prefill: unavailable, no weight type in the model description '{}'",
                               p.model_description);
        return;
    }
    const hw::MatmulResult* peak = hw::matmul_peak(roof, p.device, type);
    if (peak == nullptr || peak->gflops.median <= 0) {
        e.basis += fmt::format("; prefill: unavailable, no {} matmul peak measured for {}", type, p.device);
        return;
    }
    const double flops = 2.0 * static_cast<double>(p.n_params_blocks) * p.tokens_per_s;
    e.prefill_flops_pct = 100.0 * flops / (peak->gflops.median * 1e9);
    e.basis += fmt::format("; {} {} matmul peak {:.1f} GFLOP/s ({}x{}x{}, {})", p.device, type, peak->gflops.median,
                           peak->m, peak->n, peak->k, peak->layout);
}

}  // namespace

RooflineEfficiency roofline_efficiency(const hw::Roofline* roofline, const RooflinePoint& point) {
    RooflineEfficiency e;
    if (roofline == nullptr) {
        e.basis = "unavailable: no roofline measured on this machine yet (run accel detect --measure)";
        return e;
    }
    e.basis = fmt::format("roofline measured {} ({})", roofline->measured_at, roofline->fingerprint);
    if (point.tokens_per_s <= 0) return e;
    if (point.n_gen > 0 && point.n_prompt == 0) decode_figure(*roofline, point, e);
    if (point.n_prompt > 0 && point.n_gen == 0) prefill_figure(*roofline, point, e);
    if (e.decode_bandwidth_pct.value_or(0) > 100 || e.prefill_flops_pct.value_or(0) > 100) e.defect = above_roof;
    return e;
}

}  // namespace accel::bench
