// Recommendations: group observations by configuration, check constraints, rank by the weighted objectives.
#include "accel/tune/recommend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/core.h>

#include "accel/bench/energy_per_token.h"
#include "accel/bench/statistics.h"
#include "accel/core/error.h"

namespace accel::tune {
namespace {

constexpr const char* objective_names = "throughput, latency, memory, energy";

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

bool is_llm_scenario(const std::string& s) { return s == "tg" || s == "pg" || s == "pp" || s == "latency"; }

// Newest first among the scenarios in `order` (observations come oldest first).
const Observation* pick(const std::vector<const Observation*>& obs, std::initializer_list<const char*> order,
                        bool (*has)(const Observation&)) {
    for (const char* sc : order) {
        for (auto it = obs.rbegin(); it != obs.rend(); ++it) {
            if ((*it)->scenario == sc && has(**it)) return *it;
        }
    }
    return nullptr;
}

// Two decimals, or two significant digits below 0.1 so that a large gap does not print as "0.00x".
std::string ratio_text(double r) { return r >= 0.1 ? fmt::format("{:.2f}x", r) : fmt::format("{:.2g}x", r); }

std::vector<std::string> compare_with_default(const Metrics& m, const Metrics& d) {
    std::vector<std::string> out;
    if (m.tokens_per_s && d.tokens_per_s && *d.tokens_per_s > 0) {
        out.push_back(fmt::format("{} the tokens/s of the default ({:.1f} vs {:.1f})",
                                  ratio_text(*m.tokens_per_s / *d.tokens_per_s), *m.tokens_per_s, *d.tokens_per_s));
    }
    if (m.p99_token_ms && d.p99_token_ms && *d.p99_token_ms > 0) {
        out.push_back(fmt::format("p99 {} the default's ({:.2f} vs {:.2f} ms)", ratio_text(*m.p99_token_ms / *d.p99_token_ms),
                                  *m.p99_token_ms, *d.p99_token_ms));
    }
    if (m.memory_bytes && d.memory_bytes && *d.memory_bytes > 0) {
        out.push_back(fmt::format("memory {} the default's ({:.3f} vs {:.3f} GB)",
                                  ratio_text(*m.memory_bytes / *d.memory_bytes), *m.memory_bytes / 1e9,
                                  *d.memory_bytes / 1e9));
    }
    if (m.joules_per_token && d.joules_per_token && *d.joules_per_token > 0) {
        out.push_back(fmt::format("energy {} the default's ({:.4f} vs {:.4f} J/token)",
                                  ratio_text(*m.joules_per_token / *d.joules_per_token), *m.joules_per_token,
                                  *d.joules_per_token));
    }
    return out;
}

// Ratio of x to the best figure, in (0, 1]: 1 for the best, 0.5 for half as good.
double normalised(double x, double best, Objective o) {
    if (higher_is_better(o)) return best > 0 ? x / best : 0.0;
    return x > 0 ? best / x : 1.0;
}

}  // namespace

std::string_view to_string(Objective o) {
    switch (o) {
        case Objective::throughput: return "throughput";
        case Objective::latency: return "latency";
        case Objective::memory: return "memory";
        case Objective::energy: return "energy";
    }
    return "throughput";
}

Objective parse_objective(std::string_view text, std::string_view flag) {
    for (Objective o : {Objective::throughput, Objective::latency, Objective::memory, Objective::energy}) {
        if (text == to_string(o)) return o;
    }
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: unknown objective '{}' (expected one of: {})", flag, text, objective_names));
}

std::vector<ObjectiveWeight> parse_weights(std::string_view text) {
    std::vector<ObjectiveWeight> out;
    if (trim(text).empty()) {
        throw Error(ErrorKind::invalid_input, "--weights: empty list (expected e.g. throughput=0.7,latency=0.3)");
    }
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const std::string item = trim(text.substr(start, comma - start));
        const size_t eq = item.find('=');
        if (eq == std::string::npos) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("--weights: '{}' is not NAME=WEIGHT (e.g. throughput=0.7,latency=0.3)", item));
        }
        const Objective o = parse_objective(trim(item.substr(0, eq)), "--weights");
        const std::string num = trim(item.substr(eq + 1));
        char* end = nullptr;
        const double w = num.empty() ? 0.0 : std::strtod(num.c_str(), &end);
        if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(w) || w <= 0) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("--weights: weight '{}' of {} is not a positive number", num, to_string(o)));
        }
        for (const auto& have : out) {
            if (have.objective == o) {
                throw Error(ErrorKind::invalid_input, fmt::format("--weights: {} is given twice", to_string(o)));
            }
        }
        out.push_back({o, w});
        start = comma + 1;
    }
    return out;
}

std::string config_key(const Config& c) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}", c.device, c.model_sha256, c.type_k, c.type_v, c.flash_attn,
                       c.n_threads, c.n_batch, c.n_ubatch, c.n_gpu_layers);
}

Config default_config(const std::string& model_sha256) {
    Config c;
    c.model_sha256 = model_sha256;
    return c;
}

bench::PointSpec tg_spec(const Config& c, int32_t n_gen) {
    return {.scenario = bench::Scenario::llm, .model = c.model_path, .device = c.device, .n_prompt = 0,
            .n_gen = n_gen, .n_batch = c.n_batch, .n_ubatch = c.n_ubatch, .n_threads = c.n_threads,
            .type_k = model::parse_kv_type(c.type_k), .type_v = model::parse_kv_type(c.type_v),
            .flash_attn = model::parse_flash_attn(c.flash_attn), .n_gpu_layers = c.n_gpu_layers};
}

std::string describe(const Config& c) {
    return fmt::format("{} t={} b={} ub={} kv={}/{} fa={} ngl={}", c.device, c.n_threads, c.n_batch, c.n_ubatch,
                       c.type_k, c.type_v, c.flash_attn, c.n_gpu_layers);
}

Observation observation_from_point(const bench::PointResult& r, const std::string& result_id,
                                   const std::string& run_id, const std::string& variant) {
    Observation o;
    o.result_id = result_id;
    o.run_id = run_id;
    o.config = {.device = r.spec.device, .model_sha256 = r.model_sha256, .variant = variant,
                .model_path = r.spec.model, .type_k = std::string(model::to_string(r.spec.type_k)),
                .type_v = std::string(model::to_string(r.spec.type_v)),
                .flash_attn = std::string(model::to_string(r.spec.flash_attn)),
                .n_threads = r.spec.n_threads, .n_batch = r.spec.n_batch,
                .n_ubatch = r.spec.n_ubatch, .n_gpu_layers = r.spec.n_gpu_layers};
    o.n_prompt = r.spec.n_prompt;
    o.n_gen = r.spec.n_gen;
    if (r.spec.scenario == bench::Scenario::llm) {
        o.scenario = r.spec.n_prompt > 0 && r.spec.n_gen > 0 ? "pg" : (r.spec.n_gen > 0 ? "tg" : "pp");
    } else {
        o.scenario = bench::to_string(r.spec.scenario);
    }
    o.n_samples = static_cast<int32_t>(r.measurement.samples_ns.size());
    o.samples_ns.assign(r.measurement.samples_ns.begin(), r.measurement.samples_ns.end());
    o.noisy = r.measurement.noisy;
    if (!r.measurement.samples_ts.empty() && o.scenario != "latency") o.tokens_per_s = r.measurement.ts.mean;
    // Per-token latency: the decode time per token of each repetition; a tg test without it (n_gen 1) is one token.
    std::vector<double> per_token(r.measurement.tpot_ns.begin(), r.measurement.tpot_ns.end());
    if (per_token.empty() && o.scenario == "tg" && r.spec.n_gen > 0) {
        for (int64_t ns : r.measurement.samples_ns) per_token.push_back(static_cast<double>(ns) / r.spec.n_gen);
    }
    if (!per_token.empty()) o.p99_token_ms = bench::summarize(per_token).p99 / 1e6;
    if (r.peak_rss_bytes > 0) o.peak_rss_bytes = r.peak_rss_bytes;
    o.device_memory_bytes = r.device_memory_bytes;

    const auto energy = bench::energy_per_token(
        r.energy_j, r.energy_unavailable, static_cast<double>(o.n_samples) * (r.spec.n_prompt + r.spec.n_gen));
    o.joules_per_token = energy.joules_per_token;
    o.energy_unavailable = energy.unavailable;
    return o;
}

std::optional<double> metric(const Metrics& m, Objective o) {
    switch (o) {
        case Objective::throughput: return m.tokens_per_s;
        case Objective::latency: return m.p99_token_ms;
        case Objective::memory: return m.memory_bytes;
        case Objective::energy: return m.joules_per_token;
    }
    return std::nullopt;
}

bool higher_is_better(Objective o) { return o == Objective::throughput; }

Metrics aggregate(const std::vector<const Observation*>& obs) {
    Metrics m;
    const Observation* tput = pick(obs, {"tg", "pg"}, [](const Observation& o) { return o.tokens_per_s.has_value(); });
    const Observation* lat =
        pick(obs, {"tg", "latency", "pg"}, [](const Observation& o) { return o.p99_token_ms.has_value(); });
    int32_t min_samples = -1;
    if (tput) {
        m.tokens_per_s = tput->tokens_per_s;
        m.machine_id = tput->machine_id;
        min_samples = tput->n_samples;
        m.noisy = tput->noisy;
        if (tput->joules_per_token) {
            m.joules_per_token = tput->joules_per_token;
        } else {
            m.energy_unavailable = tput->energy_unavailable;
        }
    } else {
        m.energy_unavailable = "no tg or pg result for this configuration";
    }
    if (lat) {
        m.p99_token_ms = lat->p99_token_ms;
        min_samples = min_samples < 0 ? lat->n_samples : std::min(min_samples, lat->n_samples);
        m.noisy = m.noisy || lat->noisy;
    }
    m.min_samples = std::max(min_samples, 0);
    for (const Observation* o : obs) {
        m.evidence.push_back(o->result_id);
        if (!o->peak_rss_bytes) continue;
        const double bytes = static_cast<double>(*o->peak_rss_bytes) + static_cast<double>(o->device_memory_bytes.value_or(0));
        m.memory_bytes = std::max(m.memory_bytes.value_or(0.0), bytes);
    }
    return m;
}

std::vector<ConstraintVerdict> check(const Metrics& m, const Constraints& c) {
    std::vector<ConstraintVerdict> out;
    if (c.max_p99_ms) {
        ConstraintVerdict v{.name = "max_p99_ms", .limit = *c.max_p99_ms, .value = m.p99_token_ms};
        if (!v.value) {
            v.text = "p99 not measured for this configuration (no tg, pg or latency result)";
        } else {
            v.margin = v.limit - *v.value;
            v.pass = v.margin >= 0;
            v.text = v.pass ? fmt::format("p99 {:.2f} ms within the {:g} ms limit", *v.value, v.limit)
                            : fmt::format("p99 {:.2f} ms exceeds the {:g} ms limit by {:.2f} ms ({:.0f}%)", *v.value,
                                          v.limit, -v.margin, -v.margin / v.limit * 100);
        }
        out.push_back(v);
    }
    if (c.max_memory_gb) {
        ConstraintVerdict v{.name = "max_memory_gb", .limit = *c.max_memory_gb};
        if (m.memory_bytes) v.value = *m.memory_bytes / 1e9;
        if (!v.value) {
            v.text = "memory not measured for this configuration (no peak RSS stored)";
        } else {
            v.margin = v.limit - *v.value;
            v.pass = v.margin >= 0;
            v.text = v.pass ? fmt::format("memory {:.3f} GB within the {:g} GB limit", *v.value, v.limit)
                            : fmt::format("memory {:.3f} GB exceeds the {:g} GB limit by {:.3f} GB ({:.0f}%)",
                                          *v.value, v.limit, -v.margin, -v.margin / v.limit * 100);
        }
        out.push_back(v);
    }
    if (c.min_tokens_per_s) {
        ConstraintVerdict v{.name = "min_tokens_per_s", .limit = *c.min_tokens_per_s, .value = m.tokens_per_s};
        if (!v.value) {
            v.text = "tokens/s not measured for this configuration (no tg or pg result)";
        } else {
            v.margin = *v.value - v.limit;
            v.pass = v.margin >= 0;
            v.text = v.pass ? fmt::format("{:.1f} tokens/s meets the {:g} tokens/s minimum", *v.value, v.limit)
                            : fmt::format("{:.1f} tokens/s is {:.1f} tokens/s ({:.0f}%) below the {:g} tokens/s minimum",
                                          *v.value, -v.margin, -v.margin / v.limit * 100, v.limit);
        }
        out.push_back(v);
    }
    return out;
}

std::optional<double> relative_score(const Metrics& m, const Metrics& reference,
                                     const std::vector<ObjectiveWeight>& weights) {
    double sum_w = 0, score = 0;
    for (const auto& w : weights) sum_w += w.weight;
    for (const auto& w : weights) {
        const auto x = metric(m, w.objective);
        const auto ref = metric(reference, w.objective);
        if (!x || !ref || *x <= 0 || *ref <= 0) return std::nullopt;
        score += w.weight / sum_w * (higher_is_better(w.objective) ? *x / *ref : *ref / *x);
    }
    return score;
}

namespace {

// One candidate per configuration, in the order of their first observation (for stable output), with its metrics
// and constraint verdicts.
std::vector<Candidate> candidates(const RecommendInput& in) {
    std::map<std::string, std::vector<const Observation*>> groups;
    std::vector<std::string> order;
    for (const auto& o : in.observations) {
        if (!is_llm_scenario(o.scenario)) continue;
        const std::string key = config_key(o.config);
        auto& g = groups[key];
        if (g.empty()) order.push_back(key);
        g.push_back(&o);
    }
    const std::string default_key = config_key(default_config(in.model_sha256));
    std::vector<Candidate> all;
    for (const auto& key : order) {
        const auto& g = groups[key];
        Candidate c;
        c.config = g.back()->config;
        c.metrics = aggregate(g);
        c.verdicts = check(c.metrics, in.constraints);
        c.feasible = true;
        for (const auto& v : c.verdicts) {
            if (v.pass) continue;
            c.feasible = false;
            c.violation += v.value ? -v.margin / v.limit : 1.0;  // an unmeasured figure counts as 100% off
        }
        c.is_default = key == default_key;
        all.push_back(std::move(c));
    }
    return all;
}

// What the notes say about the evidence as a whole.
struct EvidenceSummary {
    int single = 0;          // configurations resting on single-sample results
    int noisy = 0;
    std::string energy_why;  // why energy is unavailable, from the first candidate that says
    bool any_energy = false;
};

EvidenceSummary summarise(const std::vector<Candidate>& all) {
    EvidenceSummary s;
    for (const auto& c : all) {
        if (s.energy_why.empty()) s.energy_why = c.metrics.energy_unavailable;
        s.any_energy = s.any_energy || c.metrics.joules_per_token.has_value();
        if (c.metrics.min_samples == 1) ++s.single;
        if (c.metrics.noisy) ++s.noisy;
    }
    return s;
}

// The best figure per objective among the feasible candidates: the reference each one is divided by.
std::map<Objective, double> best_figures(const std::vector<ObjectiveWeight>& weights,
                                         const std::vector<Candidate>& all) {
    std::map<Objective, double> best;
    for (const auto& w : weights) {
        for (const auto& c : all) {
            const auto x = metric(c.metrics, w.objective);
            if (!c.feasible || !x || *x <= 0) continue;
            auto [it, fresh] = best.emplace(w.objective, *x);
            if (fresh) continue;
            it->second = higher_is_better(w.objective) ? std::max(it->second, *x) : std::min(it->second, *x);
        }
    }
    return best;
}

// Sorts the candidates into ranked (scored, best first), unranked and infeasible (nearest first).
void rank(std::vector<Candidate> all, const std::map<Objective, double>& best, Recommendation& rec) {
    for (auto& c : all) {
        if (rec.default_config && !c.is_default) {
            c.vs_default = compare_with_default(c.metrics, rec.default_config->metrics);
        }
        if (!c.feasible) {
            rec.infeasible.push_back(std::move(c));
            continue;
        }
        double score = 0;
        bool complete = true;
        for (const auto& w : rec.weights) {
            const auto x = metric(c.metrics, w.objective);
            if (!x || *x <= 0 || !best.count(w.objective)) {
                complete = false;
                break;
            }
            score += w.weight * normalised(*x, best.at(w.objective), w.objective);
        }
        if (complete) c.score = score;
        (complete ? rec.ranked : rec.unranked).push_back(std::move(c));
    }
    std::stable_sort(rec.ranked.begin(), rec.ranked.end(),
                     [](const Candidate& a, const Candidate& b) { return *a.score > *b.score; });
    std::stable_sort(rec.infeasible.begin(), rec.infeasible.end(),
                     [](const Candidate& a, const Candidate& b) { return a.violation < b.violation; });
}

// Notes: thin evidence, missing figures, the baseline.
void add_notes(Recommendation& rec, const RecommendInput& in, const EvidenceSummary& ev,
               const std::map<Objective, double>& best) {
    if (rec.n_configurations < in.thin_configs) {
        rec.notes.push_back(fmt::format("thin evidence: only {} configuration(s) measured for this model; --search "
                                        "quick measures the neighbours",
                                        rec.n_configurations));
    }
    if (ev.single > 0) {
        rec.notes.push_back(fmt::format("thin evidence: {} configuration(s) rest on single-sample results", ev.single));
    }
    if (ev.noisy > 0) {
        rec.notes.push_back(fmt::format("{} configuration(s) were flagged noisy when measured", ev.noisy));
    }
    for (const auto& w : rec.weights) {
        if (best.count(w.objective)) continue;
        if (w.objective == Objective::energy) {
            rec.notes.push_back("energy unavailable: " + (ev.energy_why.empty()
                                                              ? std::string("no configuration has an energy figure")
                                                              : ev.energy_why));
        } else if (!rec.ranked.empty() || !rec.unranked.empty()) {
            rec.notes.push_back(fmt::format("{} unavailable: no feasible configuration has a {} figure",
                                            to_string(w.objective), to_string(w.objective)));
        }
    }
    const bool energy_weighted = std::any_of(rec.weights.begin(), rec.weights.end(),
                                             [](const ObjectiveWeight& w) { return w.objective == Objective::energy; });
    if (ev.any_energy) rec.notes.push_back(bench::energy_upper_bound_note);
    if (!energy_weighted && !ev.energy_why.empty() && !ev.any_energy) {
        rec.notes.push_back("energy per token unavailable: " + ev.energy_why);
    }
    if (!rec.unranked.empty()) {
        rec.notes.push_back(fmt::format("{} feasible configuration(s) are not ranked: a figure the objective needs was "
                                        "not measured for them",
                                        rec.unranked.size()));
    }
    if (!rec.default_config) {
        rec.notes.push_back(fmt::format("the default configuration ({}) has no stored result; comparisons with it are "
                                        "unavailable",
                                        describe(default_config(in.model_sha256))));
    }
    if (!rec.feasible()) {
        rec.notes.push_back("no configuration meets the constraints");
    }
}

}  // namespace

Recommendation recommend(const RecommendInput& in) {
    Recommendation rec;
    rec.constraints = in.constraints;
    double sum_w = 0;
    for (const auto& w : in.weights) sum_w += w.weight;
    if (in.weights.empty() || sum_w <= 0) throw Error(ErrorKind::internal, "recommend: no objective weights");
    for (const auto& w : in.weights) rec.weights.push_back({w.objective, w.weight / sum_w});

    std::vector<Candidate> all = candidates(in);
    rec.n_configurations = static_cast<int32_t>(all.size());
    if (all.empty()) {
        rec.notes.push_back("no stored results for this model or its variants; measure some with accel bench, or use "
                            "--search quick");
        return rec;
    }
    const EvidenceSummary ev = summarise(all);  // taken now: the candidates are moved into the lists below
    for (const auto& c : all) {
        if (c.is_default) rec.default_config = c;
    }
    const std::map<Objective, double> best = best_figures(rec.weights, all);
    rank(std::move(all), best, rec);
    add_notes(rec, in, ev, best);
    return rec;
}

void apply_prices(Recommendation& rec, const bench::PriceTable& prices) {
    if (prices.empty()) return;
    std::set<std::string> sources;
    const auto price = [&](Candidate& c) {
        c.price_per_hour = prices.per_hour(c.metrics.machine_id, c.config.device);
        c.cost_per_million_tokens = bench::cost_per_million(c.metrics.tokens_per_s, c.price_per_hour);
        if (c.cost_per_million_tokens) {
            sources.insert(fmt::format("{:g} ({})", *c.price_per_hour,
                                       prices.source(c.metrics.machine_id, c.config.device)));
        }
    };
    for (auto* list : {&rec.ranked, &rec.unranked, &rec.infeasible})
        for (Candidate& c : *list) price(c);
    if (rec.default_config) price(*rec.default_config);
    if (sources.empty()) {
        rec.notes.push_back("cost unavailable: no price applies to the machines and devices measured, or no tokens/s");
        return;
    }
    std::string list;
    for (const auto& src : sources) list += (list.empty() ? "" : ", ") + src;
    rec.notes.push_back("cost per million generated tokens = price per machine-hour / (tokens/s x 3600) x 10^6, at "
                        "your price of " + list + " per machine-hour");
}

}  // namespace accel::tune
