// The quick search: a hill-climb over the configuration space that measures only what is not stored yet.
#include "accel/tune/recommend_search.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "accel/bench/run_recorder.h"

namespace accel::tune {
namespace {

struct Eval {
    bool ok = false;
    Metrics metrics;
    bool feasible = false;
    double violation = 0;
};

Eval evaluate(const Observation& o, const Constraints& c) {
    Eval e;
    e.ok = true;
    e.metrics = aggregate({&o});
    e.feasible = true;
    for (const auto& v : check(e.metrics, c)) {
        if (v.pass) continue;
        e.feasible = false;
        e.violation += v.value ? -v.margin / v.limit : 1.0;
    }
    return e;
}

// How much better b is than a: > 0 is better. A feasible point beats an infeasible one outright.
std::optional<double> gain(const Eval& a, const Eval& b, const std::vector<ObjectiveWeight>& weights) {
    if (!b.ok) return std::nullopt;
    if (!a.ok) return 1e9;
    if (b.feasible && !a.feasible) return 1e9;
    if (!b.feasible && a.feasible) return std::nullopt;
    if (!b.feasible) return a.violation > 0 ? (a.violation - b.violation) / a.violation : 0.0;
    const auto s = relative_score(b.metrics, a.metrics, weights);
    if (!s) return std::nullopt;
    return *s - 1.0;
}

}  // namespace

std::vector<Config> neighbours(const Config& c, const SearchSpace& space) {
    std::vector<Config> out;
    const auto add = [&](Config n) {
        if (config_key(n) == config_key(c)) return;
        for (const auto& have : out) {
            if (config_key(have) == config_key(n)) return;
        }
        out.push_back(std::move(n));
    };
    const int32_t cores = std::max(1, space.n_logical_cores);
    const int32_t t = c.n_threads > 0 ? c.n_threads : cores;
    for (int32_t nt : {t / 2, t * 2}) {
        if (nt < 1 || nt > cores || nt == t) continue;
        Config n = c;
        n.n_threads = nt;
        add(n);
    }
    for (int32_t ub : {c.n_ubatch / 2, c.n_ubatch * 2}) {
        if (ub < 1 || ub > c.n_batch || ub == c.n_ubatch) continue;
        Config n = c;
        n.n_ubatch = ub;
        add(n);
    }
    for (int32_t b : {c.n_batch / 2, c.n_batch * 2}) {
        if (b < c.n_ubatch || b > 4096 || b == c.n_batch) continue;
        Config n = c;
        n.n_batch = b;
        add(n);
    }
    for (const char* kv : {"f16", "q8_0", "q4_0"}) {
        if (c.type_k == kv && c.type_v == kv) continue;
        Config n = c;
        n.type_k = kv;
        n.type_v = kv;
        if (n.type_v != "f16") n.flash_attn = "on";
        add(n);
    }
    for (const char* fa : {"on", "off", "auto"}) {
        if (c.flash_attn == fa || (c.type_v != "f16" && std::string(fa) != "on")) continue;
        Config n = c;
        n.flash_attn = fa;
        add(n);
    }
    for (const auto& d : space.devices) {
        if (d == c.device) continue;
        Config n = c;
        n.device = d;
        n.n_gpu_layers = -1;
        add(n);
    }
    if (c.device != "cpu") {
        for (int32_t ngl : {0, -1}) {
            Config n = c;
            n.n_gpu_layers = ngl;
            add(n);
        }
    }
    for (const auto& v : space.variants) {
        Config n = c;
        n.model_sha256 = v.model_sha256;
        n.model_path = v.model_path;
        n.variant = v.variant;
        add(n);
    }
    return out;
}

std::string point_key(const Config& c, int32_t n_gen) {
    bench::PointSpec s = tg_spec(c, n_gen);
    s.model = c.model_sha256;
    return bench::spec_key(s);
}

SearchLog quick_search(const std::vector<Observation>& stored, const Config& start, const SearchSpace& space,
                       const SearchOptions& options, const MeasureFn& measure) {
    std::map<std::string, const Observation*> by_key;  // the newest stored tg point per key
    for (const auto& o : stored) {
        if (o.scenario == "tg" && o.n_prompt == 0) by_key[point_key(o.config, o.n_gen)] = &o;
    }
    SearchLog log;
    log.measured.reserve(static_cast<size_t>(std::max(0, options.max_points)));
    std::map<std::string, Eval> seen;
    std::map<std::string, size_t> step_of;

    const auto eval = [&](const Config& c) -> std::optional<Eval> {
        const std::string key = point_key(c, options.n_gen);
        if (auto it = seen.find(key); it != seen.end()) return it->second;
        SearchStep step{.config = c};
        Eval e;
        if (auto it = by_key.find(key); it != by_key.end()) {
            e = evaluate(*it->second, options.constraints);
            step.source = "stored";
            step.result_id = it->second->result_id;
            step.config = it->second->config;
            ++log.n_reused;
        } else {
            if (log.n_measured >= options.max_points) return std::nullopt;
            ++log.n_measured;
            Measured m = measure(tg_spec(c, options.n_gen), c);
            if (m.observation) {
                m.observation->config.model_sha256 = c.model_sha256;
                m.observation->config.variant = c.variant;
                log.measured.push_back(*m.observation);
                e = evaluate(log.measured.back(), options.constraints);
                step.source = "measured";
            } else {
                step.source = "failed";
                step.failure = m.failure;
            }
        }
        step.tokens_per_s = e.metrics.tokens_per_s;
        step.p99_token_ms = e.metrics.p99_token_ms;
        step.memory_bytes = e.metrics.memory_bytes;
        step.feasible = e.ok && e.feasible;
        seen[key] = e;
        step_of[key] = log.steps.size();
        log.steps.push_back(std::move(step));
        return e;
    };

    Config current = start;
    auto cur = eval(current);
    if (!cur) {
        log.stop_reason = "no measurement budget left (--max-points)";
        log.best = current;
        return log;
    }
    log.steps[step_of[point_key(current, options.n_gen)]].chosen = true;
    if (!cur->ok) {
        log.stop_reason = "the starting configuration failed: " + log.steps.back().failure;
        log.best = current;
        return log;
    }
    std::set<std::string> visited{config_key(current)};
    while (true) {
        std::optional<Config> best_next;
        double best_gain = 0;
        bool out_of_budget = false;
        for (const Config& n : neighbours(current, space)) {
            const auto e = eval(n);
            if (!e) {
                out_of_budget = true;
                break;
            }
            const auto g = gain(*cur, *e, options.weights);
            if (g && (!best_next || *g > best_gain)) {
                best_next = n;
                best_gain = *g;
            }
        }
        if (best_next && best_gain >= options.min_gain && visited.insert(config_key(*best_next)).second) {
            current = *best_next;
            cur = seen.at(point_key(current, options.n_gen));
            log.steps[step_of[point_key(current, options.n_gen)]].chosen = true;
            continue;
        }
        if (out_of_budget) {
            log.stop_reason = fmt::format("the measurement budget ({} points, --max-points) was spent", options.max_points);
        } else if (best_next) {
            log.stop_reason = fmt::format("no neighbour improves on the current configuration by {:.0f}% or more (best: "
                                          "{:+.1f}%)",
                                          options.min_gain * 100, best_gain * 100);
        } else {
            log.stop_reason = "no neighbour could be compared with the current configuration";
        }
        break;
    }
    log.best = current;
    return log;
}

}  // namespace accel::tune
