// Reads the evidence for a recommendation from the warehouse: the model's results and its variants'.
#include "accel/tune/recommend_data.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_result.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/sha256_cache.h"
#include "accel/model/gguf_file.h"
#include "accel/store/database.h"
#include "accel/store/result_columns.h"

namespace accel::tune {
namespace {

using Row = std::vector<std::optional<std::string>>;

std::string text(const Row& row, size_t i) { return row.at(i).value_or(""); }

ModelVariant variant_from(const Row& row) {
    ModelVariant v{.sha256 = text(row, 0), .path = text(row, 1), .name = text(row, 2), .architecture = text(row, 3),
                   .file_type = text(row, 5)};
    if (row.at(4)) v.n_params = std::stoll(*row[4]);
    return v;
}

// An imported result (no PointResult in extra): the typed columns only. No peak RSS or energy there.
Observation observation_from_columns(const store::ResultRecord& r, const std::string& variant,
                                     const std::string& path) {
    Observation o;
    o.result_id = r.id;
    o.run_id = r.run_id;
    o.machine_id = r.machine_id;
    o.scenario = r.scenario;
    o.config.device = r.device;
    o.config.model_sha256 = r.model_sha256.value_or("");
    o.config.variant = variant;
    o.config.model_path = path;
    o.n_prompt = r.n_prompt.value_or(0);
    o.n_gen = r.n_gen.value_or(0);
    o.config.n_batch = r.n_batch.value_or(o.config.n_batch);
    o.config.n_ubatch = r.n_ubatch.value_or(o.config.n_ubatch);
    o.config.n_threads = r.n_threads.value_or(o.config.n_threads);
    o.config.n_gpu_layers = r.n_gpu_layers.value_or(o.config.n_gpu_layers);
    if (!r.type_k.empty()) o.config.type_k = r.type_k;
    if (!r.type_v.empty()) o.config.type_v = r.type_v;
    if (r.flash_attn) o.config.flash_attn = *r.flash_attn ? "on" : "off";
    if (o.scenario == "tg" || o.scenario == "pg") o.tokens_per_s = r.avg_ts;
    // The p99 of whole repetitions over the tokens each one generated: the mean per-token time of the p99 rep.
    if (r.p99_ns && o.scenario == "tg" && o.n_gen > 0) o.p99_token_ms = *r.p99_ns / o.n_gen / 1e6;
    o.n_samples = static_cast<int32_t>(r.samples.size());
    o.energy_unavailable = "imported result: no energy counter stored";
    return o;
}

}  // namespace

Evidence load_evidence(const std::filesystem::path& db_path, const std::filesystem::path& model_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(model_file, ec)) {
        throw Error(ErrorKind::invalid_input, fmt::format("model file '{}' not found", model_file.string()));
    }
    Evidence ev;
    ev.model.sha256 = sha256_file_cached(model_file);
    ev.model.path = model_file.string();
    if (!std::filesystem::exists(db_path, ec)) {
        ev.notes.push_back(fmt::format("database {} does not exist yet: nothing measured", db_path.string()));
        return ev;
    }
    store::Database db = store::Database::open(db_path, {.lock_wait = std::chrono::milliseconds(30000)});
    const std::string model_cols = "sha256, path, name, architecture, n_params, file_type";
    const auto self = db.query(fmt::format("SELECT {} FROM models WHERE sha256 = {} ORDER BY id LIMIT 1", model_cols,
                                           store::sql_quote(ev.model.sha256)));
    if (!self.rows.empty()) {
        ev.model = variant_from(self.rows.front());
        ev.model.path = model_file.string();
    } else {
        // Never measured: its identity comes from the file, so that measured variants can still be found.
        try {
            const model::GgufFile f = model::read_gguf(model_file);
            ev.model.name = f.get_string("general.name").value_or("");
            ev.model.architecture = f.get_string("general.architecture").value_or("");
            int64_t n = 0;
            for (const auto& t : f.tensors) n += static_cast<int64_t>(t.n_elements);
            ev.model.n_params = n;
        } catch (const Error& e) {
            ev.notes.push_back(fmt::format("cannot read {} as GGUF ({}); variants are not looked up",
                                           model_file.string(), e.what()));
        }
    }
    if (!ev.model.architecture.empty() && ev.model.n_params) {
        const auto vars = db.query(fmt::format(
            "SELECT {} FROM models WHERE sha256 IS NOT NULL AND sha256 <> {} AND coalesce(name, '') = {} AND "
            "architecture = {} AND n_params = {} ORDER BY file_type, sha256",
            model_cols, store::sql_quote(ev.model.sha256), store::sql_quote(ev.model.name),
            store::sql_quote(ev.model.architecture), *ev.model.n_params));
        for (const auto& row : vars.rows) ev.variants.push_back(variant_from(row));
    }

    std::string shas = store::sql_quote(ev.model.sha256);
    for (const auto& v : ev.variants) shas += ", " + store::sql_quote(v.sha256);
    // Every result of the model and its variants, read through the warehouse's column mapping, with samples.
    const std::vector<store::ResultRecord> results =
        store::read_results(db, fmt::format("r.model_sha256 IN ({})", shas));
    const auto label = [&](const std::string& sha) {
        if (sha == ev.model.sha256) return ev.model.file_type;
        for (const auto& v : ev.variants) {
            if (v.sha256 == sha) return v.file_type;
        }
        return std::string();
    };
    const auto path_of = [&](const std::string& sha) {
        if (sha == ev.model.sha256) return ev.model.path;
        for (const auto& v : ev.variants) {
            if (v.sha256 == sha) return v.path;
        }
        return std::string();
    };
    for (const auto& rec : results) {
        if (!rec.valid) {
            ++ev.n_invalid;
            continue;
        }
        const std::string sha = rec.model_sha256.value_or("");
        const auto extra = nlohmann::json::parse(rec.extra_json, nullptr, false);
        if (extra.is_object() && extra.contains("spec")) {
            try {
                const bench::PointResult r = bench::point_result_from_json(rec.extra_json);
                Observation o = observation_from_point(r, rec.id, rec.run_id, label(sha));
                o.config.model_sha256 = sha;
                o.config.model_path = path_of(sha);
                o.scenario = rec.scenario;  // as stored: "tradeoffs" points have an llm spec but are not tg/pp
                o.machine_id = rec.machine_id;
                ev.observations.push_back(std::move(o));
                continue;
            } catch (const Error& e) {
                ACCEL_LOG_WARN("result {}: unreadable measurement details ({}); using its columns", rec.id, e.what());
            }
        }
        ev.observations.push_back(observation_from_columns(rec, label(sha), path_of(sha)));
    }
    if (ev.n_invalid > 0) {
        ev.notes.push_back(fmt::format("{} result(s) left out: they failed their check when measured", ev.n_invalid));
    }
    return ev;
}

}  // namespace accel::tune
