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

namespace accel::tune {
namespace {

using Row = std::vector<std::optional<std::string>>;

std::string text(const Row& row, size_t i) { return row.at(i).value_or(""); }

std::optional<int32_t> int_at(const Row& row, size_t i) {
    if (!row.at(i)) return std::nullopt;
    return static_cast<int32_t>(std::stol(*row[i]));
}

std::optional<double> double_at(const Row& row, size_t i) {
    if (!row.at(i)) return std::nullopt;
    return std::stod(*row[i]);
}

ModelVariant variant_from(const Row& row) {
    ModelVariant v{.sha256 = text(row, 0), .path = text(row, 1), .name = text(row, 2), .architecture = text(row, 3),
                   .file_type = text(row, 5)};
    if (row.at(4)) v.n_params = std::stoll(*row[4]);
    return v;
}

// An imported result (no PointResult in extra): the typed columns only. No peak RSS or energy there.
Observation observation_from_columns(const Row& row, const std::string& variant, const std::string& path) {
    Observation o;
    o.result_id = text(row, 0);
    o.run_id = text(row, 1);
    o.scenario = text(row, 3);
    o.config.device = text(row, 4);
    o.config.model_sha256 = text(row, 2);
    o.config.variant = variant;
    o.config.model_path = path;
    o.n_prompt = int_at(row, 5).value_or(0);
    o.n_gen = int_at(row, 6).value_or(0);
    o.config.n_batch = int_at(row, 7).value_or(o.config.n_batch);
    o.config.n_ubatch = int_at(row, 8).value_or(o.config.n_ubatch);
    o.config.n_threads = int_at(row, 9).value_or(o.config.n_threads);
    o.config.n_gpu_layers = int_at(row, 10).value_or(o.config.n_gpu_layers);
    if (!text(row, 11).empty()) o.config.type_k = text(row, 11);
    if (!text(row, 12).empty()) o.config.type_v = text(row, 12);
    if (row.at(13)) o.config.flash_attn = *row[13] == "true" ? "on" : "off";
    if (o.scenario == "tg" || o.scenario == "pg") o.tokens_per_s = double_at(row, 14);
    // The p99 of whole repetitions over the tokens each one generated: the mean per-token time of the p99 rep.
    if (const auto p99 = double_at(row, 15); p99 && o.scenario == "tg" && o.n_gen > 0) {
        o.p99_token_ms = *p99 / o.n_gen / 1e6;
    }
    o.n_samples = int_at(row, 16).value_or(0);
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
    const auto rows = db.query(fmt::format(
        "SELECT r.id, r.run_id, r.model_sha256, r.scenario, r.device, r.n_prompt, r.n_gen, r.n_batch, r.n_ubatch, "
        "r.n_threads, r.n_gpu_layers, r.type_k, r.type_v, r.flash_attn, r.avg_ts, r.p99_ns, r.n_samples, r.extra, "
        "r.valid FROM results r WHERE r.model_sha256 IN ({}) ORDER BY r.created_at, r.id",
        shas));
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
    for (const auto& row : rows.rows) {
        if (text(row, 18) != "true") {
            ++ev.n_invalid;
            continue;
        }
        const std::string sha = text(row, 2);
        const auto extra = nlohmann::json::parse(text(row, 17), nullptr, false);
        if (extra.is_object() && extra.contains("spec")) {
            try {
                const bench::PointResult r = bench::point_result_from_json(extra.dump());
                Observation o = observation_from_point(r, text(row, 0), text(row, 1), label(sha));
                o.config.model_sha256 = sha;
                o.config.model_path = path_of(sha);
                o.scenario = text(row, 3);  // as stored: "tradeoffs" points have an llm spec but are not tg/pp
                ev.observations.push_back(std::move(o));
                continue;
            } catch (const Error& e) {
                ACCEL_LOG_WARN("result {}: unreadable measurement details ({}); using its columns", text(row, 0),
                               e.what());
            }
        }
        ev.observations.push_back(observation_from_columns(row, label(sha), path_of(sha)));
    }
    if (ev.n_invalid > 0) {
        ev.notes.push_back(fmt::format("{} result(s) left out: they failed their check when measured", ev.n_invalid));
    }
    return ev;
}

}  // namespace accel::tune
