// accel recommend's pipeline: evidence, the quick search through a bench campaign, the recommendation.
#include "accel/tune/recommend_run.h"

#include <filesystem>

#include <fmt/core.h>

#include "accel/bench/point_runner.h"
#include "accel/bench/provenance.h"
#include "accel/hw/device.h"

namespace accel::tune {
namespace {

RecommendInput input(const RecommendRequest& r, const Evidence& ev) {
    return {.model_sha256 = ev.model.sha256,
            .observations = ev.observations,
            .weights = r.weights,
            .constraints = r.constraints};
}

// The search starts at the best stored configuration whose file is still here, else at the default.
Config search_start(const RecommendRequest& r, const Evidence& ev) {
    const Recommendation before = recommend(input(r, ev));
    if (!before.ranked.empty() && std::filesystem::exists(before.ranked.front().config.model_path)) {
        return before.ranked.front().config;
    }
    Config start = default_config(ev.model.sha256);
    start.model_path = r.model;
    start.variant = ev.model.file_type;
    return start;
}

// The devices here and the variants whose files are here; the cores come from the run's provenance.
SearchSpace search_space(const Evidence& ev) {
    SearchSpace space;
    space.devices.clear();
    // Listed in a child: the measuring children are forked, and CUDA does not survive fork().
    for (const auto& d : bench::probe_devices()) {
        if (d.type == hw::DeviceType::cpu || d.type == hw::DeviceType::gpu || d.type == hw::DeviceType::igpu) {
            space.devices.push_back(d.id);
        }
    }
    for (const auto& v : ev.variants) {
        if (std::filesystem::exists(v.path)) {
            space.variants.push_back({.model_sha256 = v.sha256, .variant = v.file_type, .model_path = v.path});
        }
    }
    return space;
}

// Runs the quick search; the points it measures go to one campaign, opened at the first of them.
void quick_search_into(const RecommendRequest& r, bench::CampaignObserver& observer, RecommendOutcome& out) {
    Evidence& ev = out.evidence;
    const Config start = search_start(r, ev);
    SearchSpace space = search_space(ev);
    const bench::RunProvenance prov = bench::read_run_provenance();
    space.n_logical_cores = prov.machine.n_logical_cores;
    std::optional<bench::Campaign> campaign;
    const auto measure = [&](const bench::PointSpec& spec, const Config& c) -> Measured {
        if (!campaign) {
            campaign.emplace(bench::CampaignOptions{.point = {.rules = {.n_warmup = 1, .n_min_reps = r.reps},
                                                              .timeout = r.timeout},
                                                    .db = r.db,
                                                    .command = "accel recommend --search quick --model " + r.model,
                                                    .tags = {"recommend"}},
                             observer, 0, prov);
        }
        const bench::PointResult p =
            campaign->run(spec, fmt::format("{} {} {}", std::filesystem::path(spec.model).filename().string(),
                                            spec.test_name(), describe(c)));
        if (!p.ok) return {.failure = p.failure_stage + ": " + p.failure_reason};
        return {.observation = observation_from_point(p, "", campaign->run_id(), c.variant)};
    };
    out.search = quick_search(ev.observations, start, space,
                              {.weights = r.weights, .constraints = r.constraints, .n_gen = r.n_gen,
                               .max_points = r.max_points},
                              measure);
    Config def = default_config(ev.model.sha256);
    def.model_path = r.model;
    def.variant = ev.model.file_type;
    if (r.confirm_rounds > 0 && config_key(out.search->best) != config_key(def)) {
        out.gain_check = check_gain(def, out.search->best, r.n_gen, r.confirm_rounds, measure);
        for (const auto& o : out.gain_check->measured) out.search->measured.push_back(o);
    }
    if (!campaign) return;
    const bench::CampaignOutcome done = campaign->finish();
    out.run_id = done.run_id;
    out.stored_in = done.stored_in.string();
    out.spooling = done.spooling;
    if (done.spooling) {
        for (auto obs : out.search->measured) {
            obs.result_id = "spooled:" + out.run_id;
            ev.observations.push_back(std::move(obs));
        }
    } else {
        ev = load_evidence(r.db, r.model);  // the fresh results, now with their ids
    }
}

// The interleaved re-measurement qualifies what the ranking says of the search's best against the default: with no
// measurable difference, no gain is claimed for it.
void qualify(Recommendation& rec, const GainCheck& g) {
    const std::string key = config_key(g.candidate);
    for (auto* list : {&rec.ranked, &rec.unranked, &rec.infeasible}) {
        for (Candidate& c : *list) {
            if (config_key(c.config) != key) continue;
            if (!g.measurable) c.vs_default.clear();
            c.vs_default.insert(c.vs_default.begin(), describe(g));
        }
    }
    rec.notes.insert(rec.notes.begin(), describe(g));
}

}  // namespace

RecommendOutcome run_recommend(const RecommendRequest& request, bench::CampaignObserver& observer) {
    RecommendOutcome out{.evidence = load_evidence(request.db, request.model)};
    if (request.search) quick_search_into(request, observer, out);
    out.recommendation = recommend(input(request, out.evidence));
    if (out.gain_check) qualify(out.recommendation, *out.gain_check);
    apply_prices(out.recommendation, request.prices);
    auto& notes = out.recommendation.notes;
    notes.insert(notes.begin(), out.evidence.notes.begin(), out.evidence.notes.end());
    return out;
}

}  // namespace accel::tune
