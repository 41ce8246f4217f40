// accel recommend: flags, the quick search's measuring and storing, printing. The scoring is in tune/.
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_runner.h"
#include "accel/bench/campaign.h"
#include "accel/bench/run_recorder.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/core/version.h"
#include "accel/hw/device.h"
#include "accel/tune/recommend.h"
#include "accel/tune/recommend_data.h"
#include "accel/tune/recommend_search.h"
#include "campaign_printer.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct RecommendOptions {
    std::string model;
    std::string objective;
    std::string weights;
    std::optional<double> max_p99_ms, max_memory_gb, min_tokens_per_s;
    std::string search = "none";
    std::string db;
    int32_t reps = 3;
    int32_t n_gen = 128;
    int32_t max_points = 16;
    int32_t timeout_s = 600;
    FormatOption format;
};

std::optional<std::string> opt_num(const std::optional<double>& v, const char* fmt_spec) {
    if (!v) return std::nullopt;
    return fmt::format(fmt::runtime(fmt_spec), *v);
}

std::optional<double> memory_gb(const tune::Metrics& m) {
    if (!m.memory_bytes) return std::nullopt;
    return *m.memory_bytes / 1e9;
}

std::string short_id(const std::string& id) { return id.size() > 8 ? id.substr(0, 8) : id; }

std::string evidence_text(const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "" : ",") + short_id(id);
    return out;
}

std::string variant_text(const tune::Config& c, const std::string& model_sha) {
    const std::string label = c.variant.empty() ? short_id(c.model_sha256) : c.variant;
    return c.model_sha256 == model_sha ? label : label + " (variant)";
}

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json config_json(const tune::Config& c) {
    return {{"device", c.device},         {"model_sha256", c.model_sha256}, {"variant", c.variant},
            {"model_path", c.model_path}, {"type_k", c.type_k},             {"type_v", c.type_v},
            {"flash_attn", c.flash_attn}, {"n_threads", c.n_threads},       {"n_batch", c.n_batch},
            {"n_ubatch", c.n_ubatch},     {"n_gpu_layers", c.n_gpu_layers}};
}

nlohmann::json candidate_json(const tune::Candidate& c) {
    nlohmann::json verdicts = nlohmann::json::array();
    for (const auto& v : c.verdicts) {
        verdicts.push_back({{"constraint", v.name},
                            {"limit", v.limit},
                            {"value", opt_json(v.value)},
                            {"pass", v.pass},
                            {"margin", v.margin},
                            {"text", v.text}});
    }
    const auto& m = c.metrics;
    return {{"config", config_json(c.config)},
            {"is_default", c.is_default},
            {"tokens_per_s", opt_json(m.tokens_per_s)},
            {"p99_token_ms", opt_json(m.p99_token_ms)},
            {"memory_bytes", opt_json(m.memory_bytes)},
            {"joules_per_token", opt_json(m.joules_per_token)},
            {"energy_unavailable", m.energy_unavailable},
            {"min_samples", m.min_samples},
            {"noisy", m.noisy},
            {"score", opt_json(c.score)},
            {"feasible", c.feasible},
            {"violation", c.violation},
            {"constraints", verdicts},
            {"vs_default", c.vs_default},
            {"evidence", m.evidence}};
}

nlohmann::json candidates_json(const std::vector<tune::Candidate>& list) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& c : list) a.push_back(candidate_json(c));
    return a;
}

std::string objective_text(const tune::Recommendation& rec) {
    if (rec.weights.size() == 1) return std::string(tune::to_string(rec.weights.front().objective));
    std::string out;
    for (const auto& w : rec.weights) out += fmt::format("{}{}={:.2f}", out.empty() ? "" : ",", tune::to_string(w.objective), w.weight);
    return out;
}

std::string constraints_text(const tune::Constraints& c) {
    std::string out;
    const auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    if (c.max_p99_ms) add(fmt::format("p99 <= {:g} ms", *c.max_p99_ms));
    if (c.max_memory_gb) add(fmt::format("memory <= {:g} GB", *c.max_memory_gb));
    if (c.min_tokens_per_s) add(fmt::format("tokens/s >= {:g}", *c.min_tokens_per_s));
    return out.empty() ? "none" : out;
}

void print_candidates(const std::vector<tune::Candidate>& list, const std::string& model_sha, bool ranked) {
    Table t{.columns = {"#", "device", "model", "threads", "b", "ub", "kv", "fa", "ngl", "t/s", "p99 ms", "mem GB",
                        "J/token", "score"},
            .numeric = {true, false, false, true, true, true, false, false, true, true, true, true, true, true}};
    for (size_t i = 0; i < list.size(); ++i) {
        const auto& c = list[i];
        const auto& m = c.metrics;
        t.rows.push_back({ranked ? std::to_string(i + 1) : "-", c.config.device,
                          variant_text(c.config, model_sha) + (c.is_default ? " [default]" : ""),
                          std::to_string(c.config.n_threads), std::to_string(c.config.n_batch),
                          std::to_string(c.config.n_ubatch), c.config.type_k + "/" + c.config.type_v,
                          c.config.flash_attn, std::to_string(c.config.n_gpu_layers),
                          opt_num(m.tokens_per_s, "{:.1f}"), opt_num(m.p99_token_ms, "{:.2f}"),
                          opt_num(memory_gb(m), "{:.3f}"), opt_num(m.joules_per_token, "{:.4f}"),
                          opt_num(c.score, "{:.3f}")});
    }
    fmt::print("{}", render_table(t));
    for (size_t i = 0; i < list.size(); ++i) {
        const auto& c = list[i];
        std::string why;
        for (const auto& s : c.vs_default) why += (why.empty() ? "" : ", ") + s;
        for (const auto& v : c.verdicts) why += (why.empty() ? "" : ", ") + v.text;
        fmt::print("{}{}: {}; evidence: {}\n", ranked ? "#" : "", ranked ? std::to_string(i + 1) : describe(c.config),
                   why.empty() ? (c.is_default ? "the default configuration" : "no comparison available") : why,
                   evidence_text(c.metrics.evidence));
    }
}

int run_recommend(const RecommendOptions& o) {
    // Validate every flag before touching the database or measuring anything.
    if (o.model.empty()) throw Error(ErrorKind::invalid_input, "--model is required");
    if (!o.objective.empty() && !o.weights.empty()) {
        throw Error(ErrorKind::invalid_input, "--objective and --weights cannot be combined: give one");
    }
    const auto weights = !o.weights.empty()
                             ? tune::parse_weights(o.weights)
                             : std::vector<tune::ObjectiveWeight>{
                                   {tune::parse_objective(o.objective.empty() ? "throughput" : o.objective), 1.0}};
    const auto positive = [](const char* flag, const std::optional<double>& v) {
        if (v && (!std::isfinite(*v) || *v <= 0)) {
            throw Error(ErrorKind::invalid_input, fmt::format("{} must be a positive number, not {:g}", flag, *v));
        }
    };
    positive("--max-p99-ms", o.max_p99_ms);
    positive("--max-memory", o.max_memory_gb);
    positive("--min-tokens-per-s", o.min_tokens_per_s);
    if (o.search != "none" && o.search != "quick") {
        throw Error(ErrorKind::invalid_input, fmt::format("--search: unknown mode '{}' (expected none or quick)", o.search));
    }
    if (o.reps < 1) throw Error(ErrorKind::invalid_input, "-r must be at least 1");
    if (o.n_gen < 1) throw Error(ErrorKind::invalid_input, "-n must be at least 1");
    if (o.max_points < 1) throw Error(ErrorKind::invalid_input, "--max-points must be at least 1");
    const tune::Constraints constraints{.max_p99_ms = o.max_p99_ms, .max_memory_gb = o.max_memory_gb,
                                          .min_tokens_per_s = o.min_tokens_per_s};
    const Format format = o.format.resolve();
    const std::filesystem::path db_path = o.db.empty() ? paths::default_db() : std::filesystem::path(o.db);

    tune::Evidence ev = tune::load_evidence(db_path, o.model);
    const tune::RecommendInput base{.model_sha256 = ev.model.sha256, .weights = weights, .constraints = constraints};

    std::optional<tune::SearchLog> search;
    std::string run_id;
    std::string stored_at;
    if (o.search == "quick") {
        tune::RecommendInput in = base;
        in.observations = ev.observations;
        const tune::Recommendation before = tune::recommend(in);
        tune::Config start = tune::default_config(ev.model.sha256);
        start.model_path = o.model;
        start.variant = ev.model.file_type;
        if (!before.ranked.empty() && std::filesystem::exists(before.ranked.front().config.model_path)) {
            start = before.ranked.front().config;
        }
        tune::SearchSpace space;
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
        const bench::RunProvenance prov = bench::read_run_provenance();
        space.n_logical_cores = prov.machine.n_logical_cores;
        // One campaign, opened at the first point the search asks for: nothing is stored when it measures none.
        CampaignPrinter printer("recommend");
        std::optional<bench::Campaign> campaign;
        const auto measure = [&](const bench::PointSpec& spec, const tune::Config& c) -> tune::Measured {
            if (!campaign) {
                campaign.emplace(bench::CampaignOptions{.point = {.rules = {.n_warmup = 1, .n_min_reps = o.reps},
                                                                  .timeout = std::chrono::seconds(o.timeout_s)},
                                                        .db = db_path,
                                                        .command = "accel recommend --search quick --model " + o.model,
                                                        .tags = {"recommend"}},
                                 printer, 0, prov);
            }
            const bench::PointResult r =
                campaign->run(spec, fmt::format("{} {} {}", std::filesystem::path(spec.model).filename().string(),
                                                spec.test_name(), tune::describe(c)));
            if (!r.ok) return {.failure = r.failure_stage + ": " + r.failure_reason};
            return {.observation = tune::observation_from_point(r, "", campaign->run_id(), c.variant)};
        };
        search = tune::quick_search(ev.observations, start, space,
                                      {.weights = weights, .constraints = constraints, .n_gen = o.n_gen,
                                       .max_points = o.max_points},
                                      measure);
        if (campaign) {
            const bench::CampaignOutcome out = campaign->finish();
            run_id = out.run_id;
            stored_at = out.stored_in.string();
            fmt::print(stderr, "recommend: run {} stored in {}{}\n", run_id, stored_at,
                       out.spooling ? " (spooled: load it later with accel db ingest)" : "");
            if (out.spooling) {
                for (auto obs : search->measured) {
                    obs.result_id = "spooled:" + run_id;
                    ev.observations.push_back(std::move(obs));
                }
            } else {
                ev = tune::load_evidence(db_path, o.model);  // the fresh results, now with their ids
            }
        }
    }

    tune::RecommendInput in = base;
    in.observations = ev.observations;
    tune::Recommendation rec = tune::recommend(in);
    rec.notes.insert(rec.notes.begin(), ev.notes.begin(), ev.notes.end());
    const int code = rec.feasible() ? exit_ok : exit_check;

    if (format == Format::json) {
        nlohmann::json variants = nlohmann::json::array();
        for (const auto& v : ev.variants) {
            variants.push_back({{"sha256", v.sha256}, {"path", v.path}, {"file_type", v.file_type}});
        }
        nlohmann::json weights_json = nlohmann::json::object();
        for (const auto& w : rec.weights) weights_json[std::string(tune::to_string(w.objective))] = w.weight;
        nlohmann::json doc = {
            {"schema_version", json_schema_version},
            {"model", {{"path", o.model}, {"sha256", ev.model.sha256}, {"name", ev.model.name},
                       {"architecture", ev.model.architecture}, {"file_type", ev.model.file_type}}},
            {"variants", variants},
            {"weights", weights_json},
            {"constraints", {{"max_p99_ms", opt_json(o.max_p99_ms)}, {"max_memory_gb", opt_json(o.max_memory_gb)},
                             {"min_tokens_per_s", opt_json(o.min_tokens_per_s)}}},
            {"n_configurations", rec.n_configurations},
            {"feasible", rec.feasible()},
            {"ranked", candidates_json(rec.ranked)},
            {"unranked", candidates_json(rec.unranked)},
            {"infeasible", candidates_json(rec.infeasible)},
            {"default", rec.default_config ? candidate_json(*rec.default_config) : nlohmann::json(nullptr)},
            {"notes", rec.notes}};
        if (search) {
            nlohmann::json steps = nlohmann::json::array();
            for (const auto& s : search->steps) {
                steps.push_back({{"config", config_json(s.config)}, {"source", s.source}, {"result_id", s.result_id},
                                 {"tokens_per_s", opt_json(s.tokens_per_s)}, {"p99_token_ms", opt_json(s.p99_token_ms)},
                                 {"memory_bytes", opt_json(s.memory_bytes)}, {"feasible", s.feasible},
                                 {"failure", s.failure}, {"chosen", s.chosen}});
            }
            doc["search"] = {{"run_id", run_id},        {"stored_in", stored_at},
                             {"n_measured", search->n_measured}, {"n_reused", search->n_reused},
                             {"stop_reason", search->stop_reason}, {"steps", steps}};
        }
        print_json(doc);
        return code;
    }

    fmt::print("model: {} (sha256 {}{})\n", o.model, short_id(ev.model.sha256),
               ev.variants.empty() ? "" : fmt::format(", {} variant(s)", ev.variants.size()));
    fmt::print("objective: {}; constraints: {}; {} configuration(s) measured\n", objective_text(rec),
               constraints_text(rec.constraints), rec.n_configurations);
    if (search) {
        fmt::print("search: measured {} point(s), reused {} stored{}; stopped: {}\n", search->n_measured,
                   search->n_reused, run_id.empty() ? "" : fmt::format("; run {} stored in {}", run_id, stored_at),
                   search->stop_reason);
        for (const auto& s : search->steps) {
            fmt::print("  {} {} {}: {}{}\n", s.chosen ? "*" : " ", s.source, tune::describe(s.config),
                       s.failure.empty() ? opt_num(s.tokens_per_s, "{:.1f} t/s").value_or("no tg figure") : s.failure,
                       s.p99_token_ms ? fmt::format(", p99 {:.2f} ms", *s.p99_token_ms) : "");
        }
    }
    if (!rec.ranked.empty()) {
        fmt::print("\nrecommended (best first):\n");
        print_candidates(rec.ranked, ev.model.sha256, true);
    }
    if (!rec.unranked.empty()) {
        fmt::print("\nfeasible but not ranked (a figure the objective needs is missing):\n");
        print_candidates(rec.unranked, ev.model.sha256, false);
    }
    if (!rec.feasible() && !rec.infeasible.empty()) {
        fmt::print("\nno configuration meets the constraints; nearest:\n");
        const size_t n = std::min<size_t>(rec.infeasible.size(), 3);
        for (size_t i = 0; i < n; ++i) {
            const auto& c = rec.infeasible[i];
            std::string failed;
            for (const auto& v : c.verdicts) {
                if (!v.pass) failed += (failed.empty() ? "" : "; ") + v.text;
            }
            fmt::print("  {} ({}): {}; evidence: {}\n", tune::describe(c.config), variant_text(c.config, ev.model.sha256),
                       failed, evidence_text(c.metrics.evidence));
        }
    }
    for (const auto& n : rec.notes) fmt::print("note: {}\n", n);
    return code;
}

}  // namespace

void register_recommend(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<RecommendOptions>();
    auto* cmd = app.add_subcommand(
        "recommend",
        "Recommend a configuration for a model from the stored results: constraints filter, objectives rank.\n"
        "A configuration is device, model variant (same model, other quantization), KV cache types, flash attention,\n"
        "threads, batch sizes and GPU layers. Exit 3 when no configuration meets the constraints.\n"
        "--search quick measures the missing neighbours (a hill-climb that stops below a 5% gain) and stores them.");
    cmd->add_option("--model,-m", o->model, "Model file (matched to stored results by its sha256)");
    cmd->add_option("--objective", o->objective, "throughput (default), latency, memory or energy");
    cmd->add_option("--weights", o->weights, "Several objectives, e.g. throughput=0.7,latency=0.3 (see docs)");
    cmd->add_option("--max-p99-ms", o->max_p99_ms, "Constraint: p99 per-token latency at most this many ms");
    cmd->add_option("--max-memory", o->max_memory_gb, "Constraint: peak RSS + device memory at most this many GB");
    cmd->add_option("--min-tokens-per-s", o->min_tokens_per_s, "Constraint: generation tokens/s at least this");
    cmd->add_option("--search", o->search, "none (stored results only) or quick (measure the gaps)")->default_val("none");
    cmd->add_option("--db", o->db, "Results database (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)");
    cmd->add_option("-r,--repetitions", o->reps, "--search quick: timed repetitions per point")->default_val(3);
    cmd->add_option("-n,--n-gen", o->n_gen, "--search quick: tokens generated per tg point")->default_val(128);
    cmd->add_option("--max-points", o->max_points, "--search quick: measurements at most")->default_val(16);
    cmd->add_option("--timeout", o->timeout_s, "--search quick: seconds per point before it is killed")->default_val(600);
    add_format_option(*cmd, o->format, {"table", "json"});
    cmd->callback([o, &exit_code] { exit_code = run_recommend(*o); });
}

}  // namespace accel::cli
