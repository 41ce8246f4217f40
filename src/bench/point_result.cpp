// The one JSON form of a measured point and of each of its parts (point_result_json.h).
#include "accel/bench/point_result.h"

#include <fmt/core.h>

#include "accel/core/error.h"
#include "point_result_json.h"

namespace accel::bench {
namespace {

using nlohmann::json;

const json& not_verified() {
    static const json j = {{"verified", false}, {"verify_pass", false}, {"verify_summary", ""}};
    return j;
}

}  // namespace

void to_json(json& j, const PointSpec& s) {
    j = {{"scenario", to_string(s.scenario)},       {"model", s.model},
         {"device", s.device},                      {"n_prompt", s.n_prompt},
         {"n_gen", s.n_gen},                        {"n_depth", s.n_depth},
         {"n_batch", s.n_batch},                    {"n_ubatch", s.n_ubatch},
         {"n_threads", s.n_threads},                {"type_k", model::to_string(s.type_k)},
         {"type_v", model::to_string(s.type_v)},    {"flash_attn", model::to_string(s.flash_attn)},
         {"n_gpu_layers", s.n_gpu_layers},          {"embed_batch", s.embed_batch},
         {"n_parallel", s.n_parallel},              {"target_qps", s.target_qps},
         {"lengths", s.lengths}};
    // Remote points only, so that in-process results keep their stored form.
    if (!s.target.empty()) {
        j["target"] = s.target;
        j["served_model"] = s.served_model;
        j["workload"] = s.workload;
        if (!s.tokenizer.empty()) j["tokenizer"] = s.tokenizer;
    }
}

void from_json(const json& j, PointSpec& s) {
    s.scenario = parse_scenario(j.at("scenario"));
    j.at("model").get_to(s.model);
    j.at("device").get_to(s.device);
    j.at("n_prompt").get_to(s.n_prompt);
    j.at("n_gen").get_to(s.n_gen);
    j.at("n_depth").get_to(s.n_depth);
    j.at("n_batch").get_to(s.n_batch);
    j.at("n_ubatch").get_to(s.n_ubatch);
    j.at("n_threads").get_to(s.n_threads);
    s.type_k = model::parse_kv_type(j.at("type_k").get<std::string>());
    s.type_v = model::parse_kv_type(j.at("type_v").get<std::string>());
    s.flash_attn = model::parse_flash_attn(j.at("flash_attn").get<std::string>());
    j.at("n_gpu_layers").get_to(s.n_gpu_layers);
    j.at("embed_batch").get_to(s.embed_batch);
    // Absent from results stored before the load scenarios existed.
    s.n_parallel = j.value("n_parallel", 1);
    s.target_qps = j.value("target_qps", 0.0);
    s.lengths = j.value("lengths", std::string());
    s.target = j.value("target", std::string());
    s.served_model = j.value("served_model", std::string());
    s.workload = j.value("workload", std::string());
    s.tokenizer = j.value("tokenizer", std::string());
}

void to_json(json& j, const Measurement& m) {
    j = {{"samples_ns", m.samples_ns}, {"samples_ts", m.samples_ts}, {"samples_tokens", m.samples_tokens},
         {"ttft_ns", m.ttft_ns},       {"tpot_ns", m.tpot_ns},       {"noisy", m.noisy},
         {"valid", m.valid},           {"reasons", m.reasons},       {"wall_ns", m.wall.count()}};
}

void from_json(const json& j, Measurement& m) {
    j.at("samples_ns").get_to(m.samples_ns);
    j.at("samples_ts").get_to(m.samples_ts);
    // Absent from results stored before the counts were carried.
    m.samples_tokens = j.value("samples_tokens", std::vector<int32_t>{});
    j.at("ttft_ns").get_to(m.ttft_ns);
    j.at("tpot_ns").get_to(m.tpot_ns);
    j.at("noisy").get_to(m.noisy);
    j.at("valid").get_to(m.valid);
    j.at("reasons").get_to(m.reasons);
    m.wall = std::chrono::nanoseconds(j.at("wall_ns").get<int64_t>());
    const std::vector<double> ns(m.samples_ns.begin(), m.samples_ns.end());
    m.ns = summarize(ns);
    m.ts = summarize(m.samples_ts);
}

void to_json(json& j, const RooflineEfficiency& r) {
    j = {{"decode_bandwidth_pct", json_or_null(r.decode_bandwidth_pct)},
         {"prefill_flops_pct", json_or_null(r.prefill_flops_pct)},
         {"roofline_basis", r.basis},
         {"roofline_defect", r.defect}};
}

void to_json(json& j, const VerifyOutcome& v) {
    j = {{"verified", true}, {"verify_pass", v.pass}, {"verify_summary", v.summary}};
}

void to_json(json& j, const PeakProbe& p) {
    j = {{"qps", p.qps}, {"achieved_qps", p.achieved_qps}, {"p99_ms", p.p99_ms}, {"pass", p.pass}};
}

void from_json(const json& j, PeakProbe& p) {
    j.at("qps").get_to(p.qps);
    j.at("achieved_qps").get_to(p.achieved_qps);
    j.at("p99_ms").get_to(p.p99_ms);
    j.at("pass").get_to(p.pass);
}

void to_json(json& j, const EarlyStopping& e) {
    j = {{"metric", e.metric}, {"percentile", e.percentile}, {"limit_ms", e.limit_ms}, {"n", e.n},
         {"n_over", e.n_over}, {"n_needed", e.n_needed}, {"supported", e.supported}};
}

void from_json(const json& j, EarlyStopping& e) {
    j.at("metric").get_to(e.metric);
    j.at("percentile").get_to(e.percentile);
    j.at("limit_ms").get_to(e.limit_ms);
    j.at("n").get_to(e.n);
    j.at("n_over").get_to(e.n_over);
    j.at("n_needed").get_to(e.n_needed);
    j.at("supported").get_to(e.supported);
}

void to_json(json& j, const ServerStats& s) {
    j = {{"target_qps", s.target_qps},
         {"achieved_qps", s.achieved_qps},
         {"n_queries", s.n_queries},
         {"n_parallel", s.n_parallel},
         {"p50_ms", s.p50_ms},
         {"p90_ms", s.p90_ms},
         {"p99_ms", s.p99_ms},
         {"ttft_p99_ms", json_or_null(s.ttft_p99_ms)},
         {"tpot_p99_ms", json_or_null(s.tpot_p99_ms)},
         {"slo_pass", json_or_null(s.slo_pass)},
         {"slo", s.slo.empty() ? json(nullptr) : json(s.slo)},
         {"slo_limits", s.slo_limits.any() ? json{{"p99_ms", json_or_null(s.slo_limits.p99_ms)},
                                                  {"ttft_p99_ms", json_or_null(s.slo_limits.ttft_p99_ms)},
                                                  {"tpot_p99_ms", json_or_null(s.slo_limits.tpot_p99_ms)}}
                                            : json(nullptr)},
         {"max_issue_lag_ms", s.max_issue_lag_ms},
         {"peak_qps", json_or_null(s.peak_qps)},
         {"probes", s.probes},
         {"early_stopping", s.early_stopping}};
}

void from_json(const json& j, ServerStats& s) {
    j.at("target_qps").get_to(s.target_qps);
    j.at("achieved_qps").get_to(s.achieved_qps);
    j.at("n_queries").get_to(s.n_queries);
    j.at("n_parallel").get_to(s.n_parallel);
    j.at("p50_ms").get_to(s.p50_ms);
    j.at("p90_ms").get_to(s.p90_ms);
    j.at("p99_ms").get_to(s.p99_ms);
    s.ttft_p99_ms = get_opt<double>(j, "ttft_p99_ms");
    s.tpot_p99_ms = get_opt<double>(j, "tpot_p99_ms");
    s.slo_pass = get_opt<bool>(j, "slo_pass");
    s.slo = get_opt<std::string>(j, "slo").value_or("");
    if (const auto it = j.find("slo_limits"); it != j.end() && it->is_object()) {
        s.slo_limits = {.p99_ms = get_opt<double>(*it, "p99_ms"),
                        .ttft_p99_ms = get_opt<double>(*it, "ttft_p99_ms"),
                        .tpot_p99_ms = get_opt<double>(*it, "tpot_p99_ms")};
    }
    j.at("max_issue_lag_ms").get_to(s.max_issue_lag_ms);
    s.peak_qps = get_opt<double>(j, "peak_qps");
    j.at("probes").get_to(s.probes);
    if (j.contains("early_stopping")) j.at("early_stopping").get_to(s.early_stopping);  // absent before it existed
}

void to_json(json& j, const OfflineStats& s) {
    j = {{"n_queries", s.n_queries},
         {"n_parallel", s.n_parallel},
         {"samples_per_s", s.samples_per_s},
         {"tokens_per_s", s.tokens_per_s},
         {"prompt_tokens_per_s", s.prompt_tokens_per_s},
         {"p50_ms", s.p50_ms},
         {"p90_ms", s.p90_ms},
         {"p99_ms", s.p99_ms},
         {"ttft_p99_ms", json_or_null(s.ttft_p99_ms)},
         {"tpot_p99_ms", json_or_null(s.tpot_p99_ms)}};
}

void from_json(const json& j, OfflineStats& s) {
    j.at("n_queries").get_to(s.n_queries);
    j.at("n_parallel").get_to(s.n_parallel);
    j.at("samples_per_s").get_to(s.samples_per_s);
    j.at("tokens_per_s").get_to(s.tokens_per_s);
    j.at("prompt_tokens_per_s").get_to(s.prompt_tokens_per_s);
    j.at("p50_ms").get_to(s.p50_ms);
    j.at("p90_ms").get_to(s.p90_ms);
    j.at("p99_ms").get_to(s.p99_ms);
    s.ttft_p99_ms = get_opt<double>(j, "ttft_p99_ms");
    s.tpot_p99_ms = get_opt<double>(j, "tpot_p99_ms");
}

void to_json(json& j, const AudioStats& a) {
    j = {{"clip_seconds", a.clip_seconds},
         {"rtf", a.rtf},
         {"latency_covers", a.latency_covers},
         {"latency_p50_ms", a.latency_p50_ms},
         {"latency_p90_ms", a.latency_p90_ms},
         {"latency_p99_ms", a.latency_p99_ms},
         {"features_ms", a.features_ms},
         {"transcribe_ms", json_or_null(a.transcribe_ms)},
         {"encode_ms", a.encode_ms},
         {"decode_ms", json_or_null(a.decode_ms)},
         {"first_segment_ms_p50", json_or_null(a.first_segment_ms_p50)},
         {"segments", json_or_null(a.segments)},
         {"window_seconds", json_or_null(a.window_seconds)},
         {"flops_per_clip", json_or_null(a.flops_per_clip)},
         {"flops_unavailable", a.flops_unavailable},
         {"n_threads", a.n_threads}};
}

void from_json(const json& j, AudioStats& a) {
    j.at("clip_seconds").get_to(a.clip_seconds);
    j.at("rtf").get_to(a.rtf);
    a.latency_covers = j.value("latency_covers", "");  // absent from results stored before clap
    j.at("latency_p50_ms").get_to(a.latency_p50_ms);
    j.at("latency_p90_ms").get_to(a.latency_p90_ms);
    j.at("latency_p99_ms").get_to(a.latency_p99_ms);
    j.at("features_ms").get_to(a.features_ms);
    a.transcribe_ms = get_opt<double>(j, "transcribe_ms");
    j.at("encode_ms").get_to(a.encode_ms);
    a.decode_ms = get_opt<double>(j, "decode_ms");
    a.first_segment_ms_p50 = get_opt<double>(j, "first_segment_ms_p50");
    a.segments = get_opt<double>(j, "segments");
    a.window_seconds = get_opt<double>(j, "window_seconds");
    a.flops_per_clip = get_opt<double>(j, "flops_per_clip");
    a.flops_unavailable = j.value("flops_unavailable", "");
    if (!a.flops_per_clip && a.flops_unavailable.empty()) a.flops_unavailable = "not counted";  // stored before
    j.at("n_threads").get_to(a.n_threads);
}

void to_json(json& j, const VisionStats& s) {
    j = {{"arch", s.arch},
         {"batch", s.batch},
         {"n_frames", s.n_frames},
         {"n_source_frames", s.n_source_frames},
         {"source_width", s.source_width},
         {"source_height", s.source_height},
         {"image_size", s.image_size},
         {"input_width", s.input_width},
         {"input_height", s.input_height},
         {"images_per_s", s.images_per_s},
         {"clips_per_s", json_or_null(s.clips_per_s)},
         {"frame_ms", json_or_null(s.frame_ms)},
         {"latency_p50_ms", s.latency_p50_ms},
         {"latency_p90_ms", s.latency_p90_ms},
         {"latency_p99_ms", s.latency_p99_ms},
         {"preprocess_p50_ms", s.preprocess_p50_ms},
         {"preprocess_p90_ms", s.preprocess_p90_ms},
         {"preprocess_p99_ms", s.preprocess_p99_ms},
         {"flops_per_image", json_or_null(s.flops_per_image)},
         {"gflops_per_s", json_or_null(s.gflops_per_s)},
         {"flops_unavailable", s.flops_unavailable},
         {"compute_bytes_estimate", json_or_null(s.compute_bytes_estimate)},
         {"compute_bytes_measured", json_or_null(s.compute_bytes_measured)},
         {"compute_bytes_unavailable", s.compute_bytes_unavailable}};
}

namespace {

// Points stored before a figure could be null wrote 0 for "not counted" (detr's FLOPs and graph buffers): read as
// null, never as a figure of 0.
template <class T>
std::optional<T> positive_or_null(const json& j, const char* key) {
    const auto v = get_opt<T>(j, key);
    return v && *v > 0 ? v : std::nullopt;
}

}  // namespace

void from_json(const json& j, VisionStats& s) {
    j.at("arch").get_to(s.arch);
    j.at("batch").get_to(s.batch);
    s.n_frames = j.value("n_frames", 0);  // absent in points stored before xclip
    s.n_source_frames = j.value("n_source_frames", 0);
    j.at("source_width").get_to(s.source_width);
    j.at("source_height").get_to(s.source_height);
    j.at("image_size").get_to(s.image_size);
    s.input_width = j.value("input_width", s.image_size);  // absent in points stored before detr: the square input
    s.input_height = j.value("input_height", s.image_size);
    j.at("images_per_s").get_to(s.images_per_s);
    s.clips_per_s = get_opt<double>(j, "clips_per_s");
    s.frame_ms = get_opt<double>(j, "frame_ms");
    j.at("latency_p50_ms").get_to(s.latency_p50_ms);
    j.at("latency_p90_ms").get_to(s.latency_p90_ms);
    j.at("latency_p99_ms").get_to(s.latency_p99_ms);
    j.at("preprocess_p50_ms").get_to(s.preprocess_p50_ms);
    j.at("preprocess_p90_ms").get_to(s.preprocess_p90_ms);
    j.at("preprocess_p99_ms").get_to(s.preprocess_p99_ms);
    s.flops_per_image = positive_or_null<double>(j, "flops_per_image");
    s.gflops_per_s = s.flops_per_image ? get_opt<double>(j, "gflops_per_s") : std::nullopt;
    s.flops_unavailable = j.value("flops_unavailable", "");
    if (!s.flops_per_image && s.flops_unavailable.empty())
        s.flops_unavailable = fmt::format("not counted for {} (stored as 0 by an older accel)", s.arch);
    s.compute_bytes_estimate = positive_or_null<uint64_t>(j, "compute_bytes_estimate");
    s.compute_bytes_measured = positive_or_null<uint64_t>(j, "compute_bytes_measured");
    s.compute_bytes_unavailable = j.value("compute_bytes_unavailable", "");
    if ((!s.compute_bytes_estimate || !s.compute_bytes_measured) && s.compute_bytes_unavailable.empty())
        s.compute_bytes_unavailable = fmt::format("not reported for {} (stored as 0 by an older accel)", s.arch);
}

void to_json(json& j, const TradeoffsMeasure& m) {
    json by_dev = json::object();
    for (const auto& [dev, bytes] : m.weights_by_device) by_dev[dev] = bytes;
    j = {{"variant", m.variant},
         {"type", m.type},
         {"file_bytes", m.file_bytes},
         {"weights_bytes", json_or_null(m.weights_bytes)},
         {"weights_bytes_by_device", by_dev},
         {"peak_rss_bytes", json_or_null(m.peak_rss_bytes)},
         {"device_memory_bytes", json_or_null(m.device_memory_bytes)},
         {"device_memory_note", m.device_memory_note},
         {"kv_bytes_measured", json_or_null(m.kv_bytes_measured)},
         {"kv_bytes_estimated", json_or_null(m.kv_bytes_estimated)},
         {"compute_buffer_bytes", json_or_null(m.compute_buffer_bytes)},
         {"type_k", m.point.type_k},
         {"flash_attn", m.point.flash_attn == "on"},
         {"n_ctx", m.point.n_ctx},
         {"mmap", m.point.mmap},
         {"n_gpu_layers", m.point.n_gpu_layers},
         {"device", m.device},
         {"cold", m.cold},
         {"load_ms", json_or_null(m.load_ms)},
         {"ttft_ms", json_or_null(m.ttft_ms)},
         {"pp_ts", json_or_null(m.pp_ts)},
         {"tg_ts", json_or_null(m.tg_ts)},
         {"perplexity", json_or_null(m.perplexity)},
         {"kl_mean", json_or_null(m.kl_mean)},
         {"cosine", json_or_null(m.cosine)},
         {"quality_note", m.quality_note},
         {"random_weights", m.random_weights}};
}

void from_json(const json& j, TradeoffsMeasure& m) {
    j.at("variant").get_to(m.variant);
    j.at("type").get_to(m.type);
    j.at("file_bytes").get_to(m.file_bytes);
    m.weights_bytes = get_opt<uint64_t>(j, "weights_bytes");
    m.weights_by_device.clear();
    for (const auto& [dev, bytes] : j.at("weights_bytes_by_device").items()) {
        m.weights_by_device.emplace_back(dev, bytes.get<uint64_t>());
    }
    m.peak_rss_bytes = get_opt<uint64_t>(j, "peak_rss_bytes");
    m.device_memory_bytes = get_opt<uint64_t>(j, "device_memory_bytes");
    j.at("device_memory_note").get_to(m.device_memory_note);
    m.kv_bytes_measured = get_opt<uint64_t>(j, "kv_bytes_measured");
    m.kv_bytes_estimated = get_opt<uint64_t>(j, "kv_bytes_estimated");
    m.compute_buffer_bytes = get_opt<uint64_t>(j, "compute_buffer_bytes");
    j.at("type_k").get_to(m.point.type_k);
    m.point.flash_attn = j.at("flash_attn").get<bool>() ? "on" : "off";
    j.at("n_ctx").get_to(m.point.n_ctx);
    j.at("mmap").get_to(m.point.mmap);
    j.at("n_gpu_layers").get_to(m.point.n_gpu_layers);
    j.at("device").get_to(m.device);
    j.at("cold").get_to(m.cold);
    m.load_ms = get_opt<double>(j, "load_ms");
    m.ttft_ms = get_opt<double>(j, "ttft_ms");
    m.pp_ts = get_opt<double>(j, "pp_ts");
    m.tg_ts = get_opt<double>(j, "tg_ts");
    m.perplexity = get_opt<double>(j, "perplexity");
    m.kl_mean = get_opt<double>(j, "kl_mean");
    m.cosine = get_opt<double>(j, "cosine");
    j.at("quality_note").get_to(m.quality_note);
    m.random_weights = j.value("random_weights", false);  // absent from rows stored before it was recorded
}

void to_json(json& j, const PointResult& r) {
    j = {{"spec", r.spec},
         {"ok", r.ok},
         {"failure_stage", r.failure_stage},
         {"failure_reason", r.failure_reason},
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
         {"device_memory_bytes", json_or_null(r.device_memory_bytes)},
         {"energy_j", r.energy_j},
         {"energy_unavailable", r.energy_unavailable},
         {"energy_window", r.energy_window},
         {"cold_cache", json_or_null(r.cold_cache)},
         {"cold_cache_note", r.cold_cache_note}};
    // The measurement, the roofline and verify keep their keys at the top level, as results were always stored.
    j.update(json(r.measurement));
    j.update(json(r.roofline.value_or(RooflineEfficiency{})));
    j.update(r.verify ? json(*r.verify) : not_verified());
    if (r.tradeoffs) j["tradeoffs"] = *r.tradeoffs;
    if (r.audio) j["audio"] = *r.audio;
    if (r.vision) j["vision"] = *r.vision;
    j["server"] = json_or_null(r.server);
    j["offline"] = json_or_null(r.offline);
    if (r.remote) j["remote"] = *r.remote;  // remote points only (accel bench --target)
}

void from_json(const json& j, PointResult& r) {
    j.at("spec").get_to(r.spec);
    j.at("ok").get_to(r.ok);
    j.at("failure_stage").get_to(r.failure_stage);
    j.at("failure_reason").get_to(r.failure_reason);
    j.get_to(r.measurement);
    j.at("device").get_to(r.device);
    j.at("n_gpu_layers").get_to(r.n_gpu_layers);
    j.at("n_threads").get_to(r.n_threads);
    j.at("placement").get_to(r.placement);
    j.at("model_sha256").get_to(r.model_sha256);
    j.at("model_desc").get_to(r.model_desc);
    j.at("model_arch").get_to(r.model_arch);
    j.at("model_size").get_to(r.model_size);
    j.at("model_n_params").get_to(r.model_n_params);
    j.at("model_n_params_blocks").get_to(r.model_n_params_blocks);
    j.at("kv_cache_bytes_estimate").get_to(r.kv_cache_bytes_estimate);
    j.at("model_name").get_to(r.model_name);
    j.at("load_ns").get_to(r.load_ns);
    j.at("peak_rss_bytes").get_to(r.peak_rss_bytes);
    r.device_memory_bytes = get_opt<uint64_t>(j, "device_memory_bytes");
    j.at("energy_j").get_to(r.energy_j);
    j.at("energy_unavailable").get_to(r.energy_unavailable);
    // Absent from results stored before they were recorded.
    r.energy_window = j.value("energy_window", "");
    r.cold_cache = get_opt<bool>(j, "cold_cache");
    r.cold_cache_note = j.value("cold_cache_note", "");
    RooflineEfficiency roof{.decode_bandwidth_pct = get_opt<double>(j, "decode_bandwidth_pct"),
                            .prefill_flops_pct = get_opt<double>(j, "prefill_flops_pct"),
                            .basis = j.at("roofline_basis").get<std::string>(),
                            .defect = j.value("roofline_defect", "")};  // absent before the defect flag
    r.roofline.reset();
    if (roof.decode_bandwidth_pct || roof.prefill_flops_pct || !roof.basis.empty()) r.roofline = std::move(roof);
    r.verify.reset();
    if (j.at("verified").get<bool>()) {
        r.verify = VerifyOutcome{.pass = j.at("verify_pass").get<bool>(),
                                 .summary = j.at("verify_summary").get<std::string>()};
    }
    r.tradeoffs = get_opt<TradeoffsMeasure>(j, "tradeoffs");
    r.vision = get_opt<VisionStats>(j, "vision");
    r.server = get_opt<ServerStats>(j, "server");
    r.offline = get_opt<OfflineStats>(j, "offline");
    r.remote = get_opt<RemoteStats>(j, "remote");
    r.audio = get_opt<AudioStats>(j, "audio");
}

std::string to_json_text(const PointResult& r) { return json(r).dump(); }

PointResult point_result_from_json(const std::string& text) {
    try {
        return json::parse(text).get<PointResult>();
    } catch (const json::exception& e) {
        throw Error(ErrorKind::internal, std::string("malformed point result from the measuring process: ") + e.what());
    }
}

std::string to_json_text(const TradeoffsMeasure& m) { return json(m).dump(); }

TradeoffsMeasure tradeoffs_from_json(const std::string& text) {
    try {
        return json::parse(text).get<TradeoffsMeasure>();
    } catch (const json::exception& e) {
        throw Error(ErrorKind::internal, std::string("malformed tradeoffs measure: ") + e.what());
    }
}

}  // namespace accel::bench
