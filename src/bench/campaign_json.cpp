#include "accel/bench/campaign_json.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "point_result_json.h"

namespace accel::bench {

std::string result_json_text(const PointResult& r, const std::string& provenance_json) {
    const BuildInfo& b = build_info();
    nlohmann::json j = r;
    j["schema_version"] = json_schema_version;
    j["build_commit"] = b.llama_cpp_commit.substr(0, 7);
    j["accel_version"] = b.accel_version;
    j["model_filename"] = r.spec.model;
    j["model_type"] = r.model_desc;
    j["test"] = r.spec.test_name();
    // llama-bench's names at the top level, as the spec's serializer spells them; n_threads is the effective count.
    for (const char* k : {"n_prompt", "n_gen", "n_depth", "n_batch", "n_ubatch", "type_k", "type_v", "flash_attn"}) {
        j[k] = j.at("spec").at(k);
    }
    j["avg_ts"] = r.measurement.ts.mean;
    j["stddev_ts"] = r.measurement.ts.stddev;
    j["avg_ns"] = r.measurement.ns.mean;
    j["stddev_ns"] = r.measurement.ns.stddev;
    j["p50_ns"] = r.measurement.ns.p50;
    j["p90_ns"] = r.measurement.ns.p90;
    j["p95_ns"] = r.measurement.ns.p95;
    j["p99_ns"] = r.measurement.ns.p99;
    j["p999_ns"] = r.measurement.ns.p999;
    j["cv"] = r.measurement.ns.cv;
    j["provenance"] = nlohmann::json::parse(provenance_json.empty() ? "{}" : provenance_json);
    return j.dump();
}

double estimate_point_seconds(const PointSpec& p, const PointOptions& options) {
    const RunRules& rules = options.rules;
    double per_rep = p.n_prompt / 200.0 + p.n_gen / 20.0 + p.n_depth / 200.0;
    if (p.scenario == Scenario::server) return 1.0 + options.n_queries / p.target_qps;
    if (p.scenario == Scenario::offline) per_rep *= static_cast<double>(options.n_queries) / p.n_parallel;
    const double min_s = std::chrono::duration<double>(rules.min_duration).count();
    return 1.0 + (rules.n_warmup + rules.n_min_reps) * std::max(per_rep, min_s / std::max(1, rules.n_min_reps));
}

std::string point_spec_json_text(const PointSpec& p) {
    return nlohmann::json(p).dump();
}

PointSpec point_spec_from_json_text(const std::string& text, const std::string& origin) {
    try {
        return nlohmann::json::parse(text).get<PointSpec>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::invalid_input, origin + ": not a point spec: " + e.what());
    }
}

}  // namespace accel::bench
