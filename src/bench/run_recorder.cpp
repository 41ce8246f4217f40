// The one path from a measured point to the warehouse, shared by every command that measures.
#include "accel/bench/run_recorder.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_runner.h"
#include "accel/bench/statistics.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/model/classifier.h"
#include "accel/model/gguf_file.h"
#include "accel/store/database.h"
#include "point_result_json.h"

namespace accel::bench {

std::string spec_key(const PointSpec& p) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{:g}|{}", to_string(p.scenario), p.model,
                       p.device, p.n_prompt, p.n_gen, p.n_depth, p.n_batch, p.n_ubatch, p.n_threads,
                       model::to_string(p.type_k), model::to_string(p.type_v), model::to_string(p.flash_attn),
                       p.n_gpu_layers, p.embed_batch, p.n_parallel, p.target_qps, p.lengths) +
           (p.target.empty() ? "" : fmt::format("|{}|{}|{}", p.target, p.served_model, p.workload));
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
        try {
            keys.insert(spec_key(j.at("spec").get<PointSpec>()));
        } catch (const nlohmann::json::exception& e) {
            throw Error(ErrorKind::internal, fmt::format("run {}: malformed stored point: {}", run_id, e.what()));
        }
    }
    if (keys.empty()) ACCEL_LOG_WARN("run {}: no stored results found", run_id);
    return keys;
}

namespace {

// The stored scenario: llama-bench's test kinds for llm points, "tradeoffs" for accel tradeoffs' points.
std::string stored_scenario(const PointResult& r) {
    if (r.tradeoffs) return "tradeoffs";
    if (r.spec.scenario != Scenario::llm) return to_string(r.spec.scenario);
    if (r.spec.n_prompt > 0 && r.spec.n_gen > 0) return "pg";
    return r.spec.n_gen > 0 ? "tg" : "pp";
}

// One sample per timed repetition, with the tokens (embed: texts) it processed as the scenario counted them. Where
// a scenario has no per-repetition count (server: per-query latencies) n_tokens is unknown and left out.
std::vector<store::SampleRecord> sample_records(const Measurement& m) {
    const bool counted = m.samples_tokens.size() == m.samples_ns.size();
    std::vector<store::SampleRecord> out;
    out.reserve(m.samples_ns.size());
    for (size_t i = 0; i < m.samples_ns.size(); ++i) {
        out.push_back({.seq = static_cast<int32_t>(i),
                       .duration_ns = m.samples_ns[i],
                       .n_tokens = counted ? std::optional(m.samples_tokens[i]) : std::nullopt});
    }
    return out;
}

}  // namespace

store::ResultRecord to_result_record(const PointResult& r) {
    const Measurement& m = r.measurement;
    store::ResultRecord rec{
        .model_id = r.model_sha256,
        .model_sha256 = r.spec.target.empty() ? std::optional(r.model_sha256) : std::nullopt,  // served: no file
        // A remote point has no file: the served model's id.
        .model_name = r.spec.target.empty() ? std::filesystem::path(r.spec.model).filename().string() : r.model_name,
        .scenario = stored_scenario(r),
        .device = r.device,
        .n_prompt = r.spec.n_prompt,
        .n_gen = r.spec.n_gen,
        .n_batch = r.spec.n_batch,
        .n_ubatch = r.spec.n_ubatch,
        .n_threads = r.n_threads,
        .n_gpu_layers = r.n_gpu_layers,
        .n_depth = r.spec.n_depth,
        .type_k = std::string(model::to_string(r.spec.type_k)),
        .type_v = std::string(model::to_string(r.spec.type_v)),
        // auto: llama.cpp decided, and the result does not say how (model/flash_attn.h), so it is stored as unknown.
        .flash_attn = r.spec.flash_attn == model::FlashAttn::auto_
                          ? std::nullopt
                          : std::optional(r.spec.flash_attn == model::FlashAttn::on),
        .avg_ts = m.ts.mean,
        .stddev_ts = m.ts.stddev,
        .avg_ns = m.ns.mean,
        .p50_ns = m.ns.p50,
        .p90_ns = m.ns.p90,
        .p99_ns = m.ns.p99,
        .valid = m.valid,
        .extra_json = to_json_text(r),
        .samples = sample_records(m),
    };
    if (!m.ttft_ns.empty()) {
        const std::vector<double> t(m.ttft_ns.begin(), m.ttft_ns.end());
        rec.ttft_ns = summarize(t).mean;
    }
    return rec;
}

RunRecorder RunRecorder::begin(const std::filesystem::path& db, const std::string& command,
                               const std::vector<std::string>& tags, const RunProvenance& prov,
                               const std::string& run_extra_json) {
    return RunRecorder(begin_run({.db = db}, {.command = command, .tags = tags, .extra_json = run_extra_json}, prov),
                       db);
}

void RunRecorder::add(const PointResult& r) {
    if (!r.ok) {
        writer_.add_failures({{.model_id = r.model_sha256.empty() ? "path:" + r.spec.model : r.model_sha256,
                               .scenario = r.tradeoffs ? "tradeoffs" : to_string(r.spec.scenario),
                               .device = r.spec.device,
                               .stage = r.failure_stage, .reason = r.failure_reason, .params_json = to_json_text(r)}});
        return;
    }
    if (models_stored_.insert(r.model_sha256).second) {
        if (!r.spec.target.empty()) {  // a served model: its id and URL, no file to read or classify
            writer_.add_model({.id = r.model_sha256, .path = r.spec.target, .name = r.model_name,
                               .file_type = r.model_desc});
            writer_.add_results({to_result_record(r)});
            return;
        }
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
