#include "accel/bench/point_result.h"

#include <nlohmann/json.hpp>

#include "accel/core/error.h"

namespace accel::bench {
namespace {

using nlohmann::json;

json spec_json(const PointSpec& s) {
    return {{"scenario", to_string(s.scenario)}, {"model", s.model},         {"device", s.device},
            {"n_prompt", s.n_prompt},            {"n_gen", s.n_gen},         {"n_depth", s.n_depth},
            {"n_batch", s.n_batch},              {"n_ubatch", s.n_ubatch},   {"n_threads", s.n_threads},
            {"type_k", model::to_string(s.type_k)}, {"type_v", model::to_string(s.type_v)},
            {"flash_attn", model::to_string(s.flash_attn)},
            {"n_gpu_layers", s.n_gpu_layers},    {"embed_batch", s.embed_batch},
            {"n_parallel", s.n_parallel},        {"target_qps", s.target_qps},
            {"lengths", s.lengths}};
}

PointSpec spec_from(const json& j) {
    PointSpec s;
    s.scenario = parse_scenario(j.at("scenario"));
    s.model = j.at("model");
    s.device = j.at("device");
    s.n_prompt = j.at("n_prompt");
    s.n_gen = j.at("n_gen");
    s.n_depth = j.at("n_depth");
    s.n_batch = j.at("n_batch");
    s.n_ubatch = j.at("n_ubatch");
    s.n_threads = j.at("n_threads");
    s.type_k = model::parse_kv_type(j.at("type_k").get<std::string>());
    s.type_v = model::parse_kv_type(j.at("type_v").get<std::string>());
    s.flash_attn = model::parse_flash_attn(j.at("flash_attn").get<std::string>());
    s.n_gpu_layers = j.at("n_gpu_layers");
    s.embed_batch = j.at("embed_batch");
    // Absent from results stored before the load scenarios existed.
    s.n_parallel = j.value("n_parallel", 1);
    s.target_qps = j.value("target_qps", 0.0);
    s.lengths = j.value("lengths", std::string());
    return s;
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<double> opt_double(const json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return j.at(key).get<double>();
}

json server_json(const ServerStats& s) {
    json probes = json::array();
    for (const auto& p : s.probes) {
        probes.push_back({{"qps", p.qps}, {"achieved_qps", p.achieved_qps}, {"p99_ms", p.p99_ms}, {"pass", p.pass}});
    }
    return {{"target_qps", s.target_qps},
            {"achieved_qps", s.achieved_qps},
            {"n_queries", s.n_queries},
            {"n_parallel", s.n_parallel},
            {"p50_ms", s.p50_ms},
            {"p90_ms", s.p90_ms},
            {"p99_ms", s.p99_ms},
            {"ttft_p99_ms", opt(s.ttft_p99_ms)},
            {"tpot_p99_ms", opt(s.tpot_p99_ms)},
            {"slo_pass", s.slo_pass ? json(*s.slo_pass) : json(nullptr)},
            {"slo", s.slo.empty() ? json(nullptr) : json(s.slo)},
            {"max_issue_lag_ms", s.max_issue_lag_ms},
            {"peak_qps", opt(s.peak_qps)},
            {"probes", probes}};
}

ServerStats server_from(const json& j) {
    ServerStats s;
    s.target_qps = j.at("target_qps");
    s.achieved_qps = j.at("achieved_qps");
    s.n_queries = j.at("n_queries");
    s.n_parallel = j.at("n_parallel");
    s.p50_ms = j.at("p50_ms");
    s.p90_ms = j.at("p90_ms");
    s.p99_ms = j.at("p99_ms");
    s.ttft_p99_ms = opt_double(j, "ttft_p99_ms");
    s.tpot_p99_ms = opt_double(j, "tpot_p99_ms");
    if (!j.at("slo_pass").is_null()) s.slo_pass = j.at("slo_pass").get<bool>();
    if (!j.at("slo").is_null()) s.slo = j.at("slo");
    s.max_issue_lag_ms = j.at("max_issue_lag_ms");
    s.peak_qps = opt_double(j, "peak_qps");
    for (const auto& p : j.at("probes")) {
        s.probes.push_back({.qps = p.at("qps"), .achieved_qps = p.at("achieved_qps"), .p99_ms = p.at("p99_ms"),
                            .pass = p.at("pass")});
    }
    return s;
}

json offline_json(const OfflineStats& s) {
    return {{"n_queries", s.n_queries},
            {"n_parallel", s.n_parallel},
            {"samples_per_s", s.samples_per_s},
            {"tokens_per_s", s.tokens_per_s},
            {"prompt_tokens_per_s", s.prompt_tokens_per_s},
            {"p50_ms", s.p50_ms},
            {"p90_ms", s.p90_ms},
            {"p99_ms", s.p99_ms},
            {"ttft_p99_ms", opt(s.ttft_p99_ms)},
            {"tpot_p99_ms", opt(s.tpot_p99_ms)}};
}

OfflineStats offline_from(const json& j) {
    OfflineStats s;
    s.n_queries = j.at("n_queries");
    s.n_parallel = j.at("n_parallel");
    s.samples_per_s = j.at("samples_per_s");
    s.tokens_per_s = j.at("tokens_per_s");
    s.prompt_tokens_per_s = j.at("prompt_tokens_per_s");
    s.p50_ms = j.at("p50_ms");
    s.p90_ms = j.at("p90_ms");
    s.p99_ms = j.at("p99_ms");
    s.ttft_p99_ms = opt_double(j, "ttft_p99_ms");
    s.tpot_p99_ms = opt_double(j, "tpot_p99_ms");
    return s;
}

}  // namespace

std::string to_json_text(const PointResult& r) {
    json j = {{"spec", spec_json(r.spec)},
              {"ok", r.ok},
              {"failure_stage", r.failure_stage},
              {"failure_reason", r.failure_reason},
              {"samples_ns", r.measurement.samples_ns},
              {"samples_ts", r.measurement.samples_ts},
              {"ttft_ns", r.measurement.ttft_ns},
              {"tpot_ns", r.measurement.tpot_ns},
              {"noisy", r.measurement.noisy},
              {"valid", r.measurement.valid},
              {"reasons", r.measurement.reasons},
              {"wall_ns", r.measurement.wall.count()},
              {"device", r.device},
              {"n_gpu_layers", r.n_gpu_layers},
              {"n_threads", r.n_threads},
              {"placement", r.placement},
              {"model_sha256", r.model_sha256},
              {"model_desc", r.model_desc},
              {"model_arch", r.model_arch},
              {"model_size", r.model_size},
              {"model_n_params", r.model_n_params},
              {"model_n_params_blocks", r.model_n_params_blocks},
              {"kv_cache_bytes_estimate", r.kv_cache_bytes_estimate},
              {"model_name", r.model_name},
              {"load_ns", r.load_ns},
              {"peak_rss_bytes", r.peak_rss_bytes},
              {"device_memory_bytes", r.device_memory_bytes ? json(*r.device_memory_bytes) : json(nullptr)},
              {"energy_j", r.energy_j},
              {"energy_unavailable", r.energy_unavailable},
              {"energy_window", r.energy_window},
              {"cold_cache", r.cold_cache ? json(*r.cold_cache) : json(nullptr)},
              {"cold_cache_note", r.cold_cache_note},
              {"decode_bandwidth_pct", r.decode_bandwidth_pct ? json(*r.decode_bandwidth_pct) : json(nullptr)},
              {"prefill_flops_pct", r.prefill_flops_pct ? json(*r.prefill_flops_pct) : json(nullptr)},
              {"roofline_basis", r.roofline_basis},
              {"verified", r.verified},
              {"verify_pass", r.verify_pass},
              {"verify_summary", r.verify_summary}};
    if (r.tradeoffs_json) j["tradeoffs"] = json::parse(*r.tradeoffs_json);
    j["server"] = r.server ? server_json(*r.server) : json(nullptr);
    j["offline"] = r.offline ? offline_json(*r.offline) : json(nullptr);
    return j.dump();
}

PointResult point_result_from_json(const std::string& text) {
    try {
        const json j = json::parse(text);
        PointResult r;
        r.spec = spec_from(j.at("spec"));
        r.ok = j.at("ok");
        r.failure_stage = j.at("failure_stage");
        r.failure_reason = j.at("failure_reason");
        r.measurement.samples_ns = j.at("samples_ns").get<std::vector<int64_t>>();
        r.measurement.samples_ts = j.at("samples_ts").get<std::vector<double>>();
        r.measurement.ttft_ns = j.at("ttft_ns").get<std::vector<int64_t>>();
        r.measurement.tpot_ns = j.at("tpot_ns").get<std::vector<int64_t>>();
        r.measurement.noisy = j.at("noisy");
        r.measurement.valid = j.at("valid");
        r.measurement.reasons = j.at("reasons").get<std::vector<std::string>>();
        r.measurement.wall = std::chrono::nanoseconds(j.at("wall_ns").get<int64_t>());
        std::vector<double> ns(r.measurement.samples_ns.begin(), r.measurement.samples_ns.end());
        r.measurement.ns = summarize(ns);
        r.measurement.ts = summarize(r.measurement.samples_ts);
        r.device = j.at("device");
        r.n_gpu_layers = j.at("n_gpu_layers");
        r.n_threads = j.at("n_threads");
        r.placement = j.at("placement").get<std::vector<std::string>>();
        r.model_sha256 = j.at("model_sha256");
        r.model_desc = j.at("model_desc");
        r.model_arch = j.at("model_arch");
        r.model_size = j.at("model_size");
        r.model_n_params = j.at("model_n_params");
        r.model_n_params_blocks = j.at("model_n_params_blocks");
        r.kv_cache_bytes_estimate = j.at("kv_cache_bytes_estimate");
        r.model_name = j.at("model_name");
        r.load_ns = j.at("load_ns");
        r.peak_rss_bytes = j.at("peak_rss_bytes");
        if (!j.at("device_memory_bytes").is_null()) r.device_memory_bytes = j.at("device_memory_bytes").get<uint64_t>();
        r.energy_j = j.at("energy_j").get<std::vector<std::pair<std::string, double>>>();
        r.energy_unavailable = j.at("energy_unavailable");
        // Absent from results stored before they were recorded.
        r.energy_window = j.value("energy_window", "");
        if (j.contains("cold_cache") && !j.at("cold_cache").is_null()) r.cold_cache = j.at("cold_cache").get<bool>();
        r.cold_cache_note = j.value("cold_cache_note", "");
        if (!j.at("decode_bandwidth_pct").is_null()) r.decode_bandwidth_pct = j.at("decode_bandwidth_pct").get<double>();
        if (!j.at("prefill_flops_pct").is_null()) r.prefill_flops_pct = j.at("prefill_flops_pct").get<double>();
        r.roofline_basis = j.at("roofline_basis");
        r.verified = j.at("verified");
        r.verify_pass = j.at("verify_pass");
        r.verify_summary = j.at("verify_summary");
        if (j.contains("tradeoffs")) r.tradeoffs_json = j.at("tradeoffs").dump();
        if (j.contains("server") && !j.at("server").is_null()) r.server = server_from(j.at("server"));
        if (j.contains("offline") && !j.at("offline").is_null()) r.offline = offline_from(j.at("offline"));
        return r;
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::internal, std::string("malformed point result from the measuring process: ") + e.what());
    }
}

}  // namespace accel::bench
