// accel tradeoffs' run over the variants and points: quality first, then the points through one Campaign.
#include "accel/bench/tradeoffs_campaign.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "accel/bench/point_runner.h"
#include "accel/core/error.h"
#include "accel/hw/device.h"

namespace accel::bench {
namespace {

std::string point_label(const TradeoffsVariant& v, const TradeoffsPoint& p) {
    return fmt::format("{} ctk {} fa {} ctx {} mmap {} ngl {}", v.name, p.type_k, p.flash_attn, p.n_ctx,
                       p.mmap ? "on" : "off", p.n_gpu_layers);
}

// Quality once per variant (it does not depend on the point's memory settings), before the points.
std::vector<QualityFigures> measure_qualities(const std::vector<TradeoffsVariant>& variants,
                                              const TradeoffsVariant& reference, const TradeoffsOptions& options,
                                              CampaignObserver& observer) {
    std::vector<QualityFigures> quality(variants.size());
    for (size_t i = 0; i < variants.size(); ++i) {
        if (!options.quality) {
            quality[i].note = "unavailable: --no-quality";
            continue;
        }
        observer.note(fmt::format("quality of {} against {}", variants[i].name, reference.name));
        quality[i] = measure_quality(reference, variants[i], options);
        if (quality[i].note.rfind("unavailable", 0) == 0) {
            observer.note(fmt::format("{}: quality {}", variants[i].name, quality[i].note));
        }
    }
    return quality;
}

}  // namespace

std::string tradeoffs_device(const std::string& asked) {
    // No ggml backend is touched in this process before the measuring children are forked (see probe_devices).
    std::vector<std::string> gpus;
    for (const auto& d : probe_devices()) {
        if (d.type == hw::DeviceType::gpu || d.type == hw::DeviceType::igpu) gpus.push_back(d.id);
    }
    const std::string device = asked == "auto" ? (gpus.empty() ? "cpu" : gpus.front()) : asked;
    if (device != "cpu" && std::find(gpus.begin(), gpus.end(), device) == gpus.end()) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("--device {}: no such GPU here ({})", device,
                                gpus.empty() ? "no GPU" : fmt::format("GPUs: {}", fmt::join(gpus, ", "))));
    }
    return device;
}

TradeoffsRun run_tradeoffs(const std::vector<TradeoffsVariant>& variants, const TradeoffsVariant& reference,
                           const std::vector<TradeoffsPoint>& points, const TradeoffsOptions& options,
                           const CampaignOptions& campaign_options, CampaignObserver& observer) {
    const std::vector<QualityFigures> quality = measure_qualities(variants, reference, options, observer);
    Campaign campaign(campaign_options, observer, variants.size() * points.size());
    TradeoffsRun run;
    for (size_t i = 0; i < variants.size(); ++i) {
        for (const auto& p : points) {
            const PointResult r = campaign.run(point_label(variants[i], p), [&] {
                PointResult m = measure_point(variants[i], p, options);
                attach_quality(m, quality[i]);
                return m;
            });
            if (!r.ok) {
                run.failures.push_back({.variant = variants[i].name,
                                        .stage = r.failure_stage,
                                        .reason = r.failure_reason,
                                        // a crashed worker sent no figures
                                        .point_json = r.tradeoffs ? to_json_text(*r.tradeoffs) : "null"});
                continue;
            }
            if (r.tradeoffs) run.measures.push_back(*r.tradeoffs);
        }
    }
    run.claims = check_claims(run.measures);
    run.outcome = campaign.finish();
    return run;
}

}  // namespace accel::bench
