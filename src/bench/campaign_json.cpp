#include "accel/bench/campaign_json.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "accel/core/version.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"

namespace accel::bench {

std::string result_json_text(const PointResult& r, const std::string& provenance_json) {
    const BuildInfo& b = build_info();
    nlohmann::json j = nlohmann::json::parse(to_json_text(r));
    j["schema_version"] = json_schema_version;
    j["build_commit"] = b.llama_cpp_commit.substr(0, 7);
    j["accel_version"] = b.accel_version;
    j["model_filename"] = r.spec.model;
    j["model_type"] = r.model_desc;
    j["test"] = r.spec.test_name();
    j["n_prompt"] = r.spec.n_prompt;
    j["n_gen"] = r.spec.n_gen;
    j["n_depth"] = r.spec.n_depth;
    j["n_batch"] = r.spec.n_batch;
    j["n_ubatch"] = r.spec.n_ubatch;
    j["n_threads"] = r.n_threads;
    j["type_k"] = std::string(model::to_string(r.spec.type_k));
    j["type_v"] = std::string(model::to_string(r.spec.type_v));
    j["flash_attn"] = std::string(model::to_string(r.spec.flash_attn));
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

}  // namespace accel::bench
