// The one path from a measured point to the warehouse, shared by every command that measures.
#include "accel/bench/run_recorder.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_runner.h"
#include "accel/bench/run_hygiene.h"
#include "accel/bench/statistics.h"
#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/core/log.h"
#include "accel/core/version.h"
#include "accel/hw/inventory.h"
#include "accel/model/classifier.h"
#include "accel/model/gguf_file.h"
#include "accel/store/database.h"

namespace accel::bench {

namespace {

RunProvenance read_run_provenance_here(const std::string& cpu_mask, bool cold) {
    const hw::Inventory inv = hw::detect({.browsers = false});
    const MachineFingerprint fp = hw::machine_fingerprint(inv);
    const Hygiene hyg = read_hygiene();
    const BuildInfo& b = build_info();
    std::string backends;
    for (const auto& name : inv.compiled_backends) backends += (backends.empty() ? "" : ",") + name;
    RunProvenance p;
    p.machine_id = fingerprint_id(fp);
    p.other_cpu_percent = hyg.other_cpu_percent;
    p.json_text = nlohmann::json{{"machine_fingerprint", p.machine_id},
                                 {"cpu_model", inv.cpu.model},
                                 {"accel_version", b.accel_version},
                                 {"accel_commit", b.git_commit},
                                 {"llama_cpp_commit", b.llama_cpp_commit},
                                 {"build_flags", b.cxx_flags},
                                 {"compiler", b.compiler},
                                 {"backends", backends},
                                 {"governor", hyg.governor},
                                 {"energy_performance_preference", hyg.energy_perf_bias},
                                 {"loadavg_1m", hyg.loadavg_1m},
                                 {"other_cpu_percent_at_start", hyg.other_cpu_percent},
                                 {"affinity", hyg.affinity},
                                 {"cpu_mask", cpu_mask},
                                 {"cold_cache", cold}}
                      .dump();
    std::string devices;
    for (const auto& d : fp.device_names) devices += (devices.empty() ? "" : ",") + d;
    p.machine = {.id = p.machine_id, .cpu_model = inv.cpu.model, .n_logical_cores = inv.cpu.logical_cores,
                 .memory_total_bytes = inv.memory.total_bytes, .device_names = devices,
                 .inventory_json = hw::inventory_json(inv)};
    p.build = {.accel_version = std::string(b.accel_version), .git_commit = std::string(b.git_commit),
               .llama_cpp_commit = std::string(b.llama_cpp_commit), .compiler = std::string(b.compiler),
               .build_type = std::string(b.build_type), .cxx_flags = std::string(b.cxx_flags), .backends = backends};
    return p;
}

nlohmann::json to_json(const RunProvenance& p) {
    const auto& m = p.machine;
    const auto& b = p.build;
    return {{"machine_id", p.machine_id},
            {"json_text", p.json_text},
            {"other_cpu_percent", p.other_cpu_percent},
            {"machine", {{"id", m.id}, {"cpu_model", m.cpu_model}, {"n_logical_cores", m.n_logical_cores},
                         {"memory_total_bytes", m.memory_total_bytes}, {"device_names", m.device_names},
                         {"inventory_json", m.inventory_json}}},
            {"build", {{"accel_version", b.accel_version}, {"git_commit", b.git_commit},
                       {"llama_cpp_commit", b.llama_cpp_commit}, {"compiler", b.compiler},
                       {"build_type", b.build_type}, {"cxx_flags", b.cxx_flags}, {"backends", b.backends}}}};
}

RunProvenance provenance_from_json(const nlohmann::json& j) {
    RunProvenance p;
    p.machine_id = j.at("machine_id").get<std::string>();
    p.json_text = j.at("json_text").get<std::string>();
    p.other_cpu_percent = j.at("other_cpu_percent").get<double>();
    const auto& m = j.at("machine");
    p.machine = {.id = m.at("id"), .cpu_model = m.at("cpu_model"), .n_logical_cores = m.at("n_logical_cores"),
                 .memory_total_bytes = m.at("memory_total_bytes"), .device_names = m.at("device_names"),
                 .inventory_json = m.at("inventory_json")};
    const auto& b = j.at("build");
    p.build = {.accel_version = b.at("accel_version"), .git_commit = b.at("git_commit"),
               .llama_cpp_commit = b.at("llama_cpp_commit"), .compiler = b.at("compiler"),
               .build_type = b.at("build_type"), .cxx_flags = b.at("cxx_flags"), .backends = b.at("backends")};
    return p;
}

}  // namespace

// hw::detect enumerates the ggml devices, which initialises CUDA, and CUDA does not survive fork(): read it in a
// child so that the measuring children forked later can still use the GPU (see probe_device_ids).
RunProvenance read_run_provenance(const std::string& cpu_mask, bool cold) {
    const IsolatedOutcome o = run_isolated([&] { return to_json(read_run_provenance_here(cpu_mask, cold)).dump(); },
                                           std::chrono::seconds(120));
    if (!o.ok) throw Error(ErrorKind::backend, "reading the machine's inventory failed: " + o.failure_reason);
    return provenance_from_json(nlohmann::json::parse(o.text));
}

std::string spec_key(const PointSpec& p) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{:g}|{}", to_string(p.scenario), p.model,
                       p.device, p.n_prompt, p.n_gen, p.n_depth, p.n_batch, p.n_ubatch, p.n_threads,
                       model::to_string(p.type_k), model::to_string(p.type_v), model::to_string(p.flash_attn),
                       p.n_gpu_layers, p.embed_batch, p.n_parallel, p.target_qps, p.lengths);
}

std::set<std::string> stored_point_keys(const std::filesystem::path& db_path, const std::string& run_id) {
    if (run_id.find('\'') != std::string::npos) {
        throw Error(ErrorKind::invalid_input, fmt::format("run id '{}' is not a valid run id", run_id));
    }
    store::Database db = store::Database::open(db_path);
    const auto q = db.query("SELECT extra FROM results WHERE run_id = '" + run_id + "'");
    std::set<std::string> keys;
    for (const auto& row : q.rows) {
        if (!row[0]) continue;
        const auto j = nlohmann::json::parse(*row[0], nullptr, false);
        if (j.is_discarded() || !j.contains("spec")) continue;
        keys.insert(spec_key(point_result_from_json(j.dump()).spec));
    }
    if (keys.empty()) ACCEL_LOG_WARN("run {}: no stored results found", run_id);
    return keys;
}

store::ResultRecord to_result_record(const PointResult& r) {
    store::ResultRecord rec;
    rec.model_id = r.model_sha256;
    rec.model_sha256 = r.model_sha256;
    rec.model_name = std::filesystem::path(r.spec.model).filename().string();
    rec.scenario = r.tradeoffs_json ? "tradeoffs"
                   : r.spec.scenario == Scenario::llm
                       ? (r.spec.n_prompt > 0 && r.spec.n_gen > 0 ? "pg" : (r.spec.n_gen > 0 ? "tg" : "pp"))
                       : to_string(r.spec.scenario);
    rec.device = r.device;
    rec.n_prompt = r.spec.n_prompt;
    rec.n_gen = r.spec.n_gen;
    rec.n_batch = r.spec.n_batch;
    rec.n_ubatch = r.spec.n_ubatch;
    rec.n_threads = r.n_threads;
    rec.n_gpu_layers = r.n_gpu_layers;
    rec.n_depth = r.spec.n_depth;
    rec.type_k = model::to_string(r.spec.type_k);
    rec.type_v = model::to_string(r.spec.type_v);
    // auto: llama.cpp decided, and the result does not say how (model/flash_attn.h), so it is stored as unknown.
    rec.flash_attn = r.spec.flash_attn == model::FlashAttn::auto_
                         ? std::nullopt
                         : std::optional(r.spec.flash_attn == model::FlashAttn::on);
    rec.avg_ts = r.m.ts.mean;
    rec.stddev_ts = r.m.ts.stddev;
    rec.avg_ns = r.m.ns.mean;
    rec.p50_ns = r.m.ns.p50;
    rec.p90_ns = r.m.ns.p90;
    rec.p99_ns = r.m.ns.p99;
    if (!r.m.ttft_ns.empty()) {
        std::vector<double> t(r.m.ttft_ns.begin(), r.m.ttft_ns.end());
        rec.ttft_ns = summarize(t).mean;
    }
    rec.valid = r.m.valid;
    rec.extra_json = to_json_text(r);
    for (size_t i = 0; i < r.m.samples_ns.size(); ++i) {
        rec.samples.push_back({.seq = static_cast<int32_t>(i), .duration_ns = r.m.samples_ns[i]});
    }
    return rec;
}

RunRecorder RunRecorder::begin(const std::filesystem::path& db, const std::string& command,
                               const std::vector<std::string>& tags, const RunProvenance& prov,
                               const std::string& run_extra_json) {
    nlohmann::json extra = nlohmann::json::parse(run_extra_json.empty() ? "{}" : run_extra_json);
    extra["provenance"] = nlohmann::json::parse(prov.json_text);
    const BuildInfo& b = build_info();
    return RunRecorder(store::ResultWriter::begin({.db = db},
                                                  {.command = command, .tags = tags,
                                                   .git_commit = std::string(b.git_commit),
                                                   .extra_json = extra.dump()},
                                                  prov.machine, prov.build),
                       db);
}

void RunRecorder::add(const PointResult& r) {
    if (!r.ok) {
        writer_.add_failures({{.model_id = r.model_sha256.empty() ? "path:" + r.spec.model : r.model_sha256,
                               .scenario = r.tradeoffs_json ? "tradeoffs" : to_string(r.spec.scenario),
                               .device = r.spec.device,
                               .stage = r.failure_stage, .reason = r.failure_reason, .params_json = to_json_text(r)}});
        return;
    }
    if (models_stored_.insert(r.model_sha256).second) {
        store::ModelRecord mr{.id = r.model_sha256, .sha256 = r.model_sha256, .path = r.spec.model,
                              .name = r.model_name, .architecture = r.model_arch,
                              .n_params = static_cast<int64_t>(r.model_n_params), .file_type = r.model_desc,
                              .size_bytes = 0};
        std::error_code ec;
        const auto file_bytes = std::filesystem::file_size(r.spec.model, ec);
        mr.size_bytes = static_cast<int64_t>(ec ? r.model_size : file_bytes);
        try {
            model::ModelEvidence ev;
            model::add_gguf_evidence(ev, model::read_gguf(r.spec.model));
            const auto c = model::classify(ev);
            mr.family = c.family;
            mr.subfamily = c.subfamily;
        } catch (const Error& e) {
            ACCEL_LOG_INFO("could not classify {}: {}", r.spec.model, e.what());
        }
        writer_.add_model(mr);
    }
    writer_.add_results({to_result_record(r)});
}

void RunRecorder::finish(store::RunStatus status) { writer_.finish(status); }

std::filesystem::path RunRecorder::location() const { return writer_.spooling() ? writer_.spool_file() : db_; }

}  // namespace accel::bench
