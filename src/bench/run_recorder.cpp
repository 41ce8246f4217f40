// The one path from a measured point to the warehouse, shared by every command that measures.
#include "accel/bench/run_recorder.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_runner.h"
#include "accel/bench/statistics.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/model/classifier.h"
#include "accel/model/gguf_file.h"
#include "accel/store/database.h"

namespace accel::bench {

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
    rec.avg_ts = r.measurement.ts.mean;
    rec.stddev_ts = r.measurement.ts.stddev;
    rec.avg_ns = r.measurement.ns.mean;
    rec.p50_ns = r.measurement.ns.p50;
    rec.p90_ns = r.measurement.ns.p90;
    rec.p99_ns = r.measurement.ns.p99;
    if (!r.measurement.ttft_ns.empty()) {
        std::vector<double> t(r.measurement.ttft_ns.begin(), r.measurement.ttft_ns.end());
        rec.ttft_ns = summarize(t).mean;
    }
    rec.valid = r.measurement.valid;
    rec.extra_json = to_json_text(r);
    // Each sample's tokens (items for embed: texts) are what its rate was computed from, rate = n * 1e9 / ns, so
    // they come back exactly by rounding. `db compare --metric ts` needs them. Where the rates are not one per sample
    // (server: one rate per run over per-query latencies) the count is unknown and left out.
    const bool per_sample_rates = r.measurement.samples_ts.size() == r.measurement.samples_ns.size();
    for (size_t i = 0; i < r.measurement.samples_ns.size(); ++i) {
        store::SampleRecord s{.seq = static_cast<int32_t>(i), .duration_ns = r.measurement.samples_ns[i]};
        if (per_sample_rates) {
            const double ns = static_cast<double>(std::max<int64_t>(r.measurement.samples_ns[i], 1));
            s.n_tokens = static_cast<int32_t>(std::llround(r.measurement.samples_ts[i] * ns / 1e9));
        }
        rec.samples.push_back(s);
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
