// accel recommend's output: the recommendation and the search as JSON or as text.
#include "recommend_printer.h"

#include <algorithm>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/version.h"
#include "output.h"

namespace accel::cli {
namespace {

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
            {"price_per_hour", opt_json(c.price_per_hour)},
            {"cost_per_million_tokens", opt_json(c.cost_per_million_tokens)},
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
    // With a price: the cost of a million tokens next to the speed it comes from (no price, no column).
    const bool cost = std::any_of(list.begin(), list.end(), [](const tune::Candidate& c) { return c.price_per_hour; });
    if (cost) {
        t.columns.insert(t.columns.begin() + 10, "cost/1M tok");
        t.numeric.insert(t.numeric.begin() + 10, true);
    }
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
        if (cost) t.rows.back().insert(t.rows.back().begin() + 10, opt_num(c.cost_per_million_tokens, "{:.4g}"));
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

nlohmann::json search_json(const tune::RecommendOutcome& out) {
    const tune::SearchLog& search = *out.search;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : search.steps) {
        steps.push_back({{"config", config_json(s.config)}, {"source", s.source}, {"result_id", s.result_id},
                         {"tokens_per_s", opt_json(s.tokens_per_s)}, {"p99_token_ms", opt_json(s.p99_token_ms)},
                         {"memory_bytes", opt_json(s.memory_bytes)}, {"feasible", s.feasible},
                         {"failure", s.failure}, {"chosen", s.chosen}});
    }
    nlohmann::json check = nullptr;
    if (const auto& g = out.gain_check) {
        check = {{"config", config_json(g->candidate)},   {"n_rounds", g->n_rounds},
                 {"n_measurements", g->measured.size()},  {"speedup", opt_json(g->speedup)},
                 {"p_value", opt_json(g->p_value)},       {"measurable", g->measurable},
                 {"failure", g->failure},                 {"text", tune::describe(*g)}};
    }
    return {{"run_id", out.run_id},        {"stored_in", out.stored_in},
            {"n_measured", search.n_measured}, {"n_reused", search.n_reused},
            {"stop_reason", search.stop_reason}, {"steps", steps}, {"gain_check", check}};
}

void print_search(const tune::RecommendOutcome& out) {
    const tune::SearchLog& search = *out.search;
    fmt::print("search: measured {} point(s), reused {} stored{}; stopped: {}\n", search.n_measured, search.n_reused,
               out.run_id.empty() ? "" : fmt::format("; run {} stored in {}", out.run_id, out.stored_in),
               search.stop_reason);
    for (const auto& s : search.steps) {
        fmt::print("  {} {} {}: {}{}\n", s.chosen ? "*" : " ", s.source, tune::describe(s.config),
                   s.failure.empty() ? opt_num(s.tokens_per_s, "{:.1f} t/s").value_or("no tg figure") : s.failure,
                   s.p99_token_ms ? fmt::format(", p99 {:.2f} ms", *s.p99_token_ms) : "");
    }
}

void print_nearest(const tune::Recommendation& rec, const std::string& model_sha) {
    fmt::print("\nno configuration meets the constraints; nearest:\n");
    const size_t n = std::min<size_t>(rec.infeasible.size(), 3);
    for (size_t i = 0; i < n; ++i) {
        const auto& c = rec.infeasible[i];
        std::string failed;
        for (const auto& v : c.verdicts) {
            if (!v.pass) failed += (failed.empty() ? "" : "; ") + v.text;
        }
        fmt::print("  {} ({}): {}; evidence: {}\n", tune::describe(c.config), variant_text(c.config, model_sha), failed,
                   evidence_text(c.metrics.evidence));
    }
}

}  // namespace

void print_recommendation_json(const tune::RecommendOutcome& out, const std::string& model_path) {
    const tune::Evidence& ev = out.evidence;
    const tune::Recommendation& rec = out.recommendation;
    nlohmann::json variants = nlohmann::json::array();
    for (const auto& v : ev.variants) {
        variants.push_back({{"sha256", v.sha256}, {"path", v.path}, {"file_type", v.file_type}});
    }
    nlohmann::json weights_json = nlohmann::json::object();
    for (const auto& w : rec.weights) weights_json[std::string(tune::to_string(w.objective))] = w.weight;
    const tune::Constraints& c = rec.constraints;
    nlohmann::json doc = {
        {"schema_version", json_schema_version},
        {"model", {{"path", model_path}, {"sha256", ev.model.sha256}, {"name", ev.model.name},
                   {"architecture", ev.model.architecture}, {"file_type", ev.model.file_type}}},
        {"variants", variants},
        {"weights", weights_json},
        {"constraints", {{"max_p99_ms", opt_json(c.max_p99_ms)}, {"max_memory_gb", opt_json(c.max_memory_gb)},
                         {"min_tokens_per_s", opt_json(c.min_tokens_per_s)}}},
        {"n_configurations", rec.n_configurations},
        {"feasible", rec.feasible()},
        {"ranked", candidates_json(rec.ranked)},
        {"unranked", candidates_json(rec.unranked)},
        {"infeasible", candidates_json(rec.infeasible)},
        {"default", rec.default_config ? candidate_json(*rec.default_config) : nlohmann::json(nullptr)},
        {"notes", rec.notes}};
    if (out.search) doc["search"] = search_json(out);
    print_json(doc);
}

void print_recommendation(const tune::RecommendOutcome& out, const std::string& model_path) {
    const tune::Evidence& ev = out.evidence;
    const tune::Recommendation& rec = out.recommendation;
    fmt::print("model: {} (sha256 {}{})\n", model_path, short_id(ev.model.sha256),
               ev.variants.empty() ? "" : fmt::format(", {} variant(s)", ev.variants.size()));
    fmt::print("objective: {}; constraints: {}; {} configuration(s) measured\n", objective_text(rec),
               constraints_text(rec.constraints), rec.n_configurations);
    if (out.search) print_search(out);
    if (!rec.ranked.empty()) {
        fmt::print("\nrecommended (best first):\n");
        print_candidates(rec.ranked, ev.model.sha256, true);
    }
    if (!rec.unranked.empty()) {
        fmt::print("\nfeasible but not ranked (a figure the objective needs is missing):\n");
        print_candidates(rec.unranked, ev.model.sha256, false);
    }
    if (!rec.feasible() && !rec.infeasible.empty()) print_nearest(rec, ev.model.sha256);
    for (const auto& n : rec.notes) fmt::print("note: {}\n", n);
}

}  // namespace accel::cli
