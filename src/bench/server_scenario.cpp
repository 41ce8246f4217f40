#include "accel/bench/server_scenario.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "accel/bench/peak_search.h"
#include "accel/bench/poisson_schedule.h"
#include "accel/bench/sample_library.h"
#include "accel/core/error.h"

namespace accel::bench {
namespace {

double p99_ms_of(const std::vector<int64_t>& v) {
    std::vector<double> d(v.begin(), v.end());
    std::sort(d.begin(), d.end());
    return percentile_sorted(d, 0.99) / 1e6;
}

struct PerQuery {
    std::vector<int64_t> latency_ns, ttft_ns, tpot_ns;
};

PerQuery per_query(const LoadRun& run, std::span<const int32_t> n_gen) {
    PerQuery q;
    const size_t n = run.done_ns.size();
    q.latency_ns.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        q.latency_ns.push_back(run.done_ns[i] - run.arrival_ns[i]);
        if (n_gen.empty() || !run.first_ns[i]) continue;
        q.ttft_ns.push_back(*run.first_ns[i] - run.arrival_ns[i]);
        if (n_gen[i] > 1) q.tpot_ns.push_back((run.done_ns[i] - *run.first_ns[i]) / (n_gen[i] - 1));
    }
    return q;
}

int64_t total_gen(std::span<const LlmQuery> queries) {
    int64_t n = 0;
    for (const auto& q : queries) n += q.n_gen;
    return n;
}

}  // namespace

std::string ServerSlo::text() const {
    std::string s;
    const auto add = [&](const char* name, const std::optional<double>& v) {
        if (v) s += fmt::format("{}{} <= {:g} ms", s.empty() ? "" : ", ", name, *v);
    };
    add("p99", p99_ms);
    add("TTFT p99", ttft_p99_ms);
    add("TPOT p99", tpot_p99_ms);
    return s;
}

std::vector<std::string> ServerSlo::misses(double p99, std::optional<double> ttft_p99,
                                           std::optional<double> tpot_p99) const {
    std::vector<std::string> out;
    const auto check = [&](const char* name, const std::optional<double>& limit, std::optional<double> got) {
        if (!limit) return;
        if (!got) {
            out.push_back(fmt::format("SLO missed: {} not measured (limit {:g} ms)", name, *limit));
        } else if (*got > *limit) {
            out.push_back(fmt::format("SLO missed: {} {:.1f} ms > {:g} ms", name, *got, *limit));
        }
    };
    check("p99", p99_ms, p99);
    check("TTFT p99", ttft_p99_ms, ttft_p99);
    check("TPOT p99", tpot_p99_ms, tpot_p99);
    return out;
}

std::vector<LlmQuery> make_queries(const ParallelLlmTarget& target, const LoadTest& test, size_t n) {
    TokenSampleLibrary lib(target.n_vocab(), target.add_bos(), target.bos(), test.seed);
    const auto lengths = test.lengths.draw(n, test.seed);
    std::vector<LlmQuery> out(n);
    for (size_t i = 0; i < n; ++i) {
        out[i].prompt = lib.tokens(lengths[i].first);
        out[i].n_gen = lengths[i].second;
    }
    return out;
}

ServerOutcome server_outcome(const LoadRun& run, std::span<const int32_t> n_gen, double target_qps, int32_t n_parallel,
                             const ServerSlo& slo) {
    ServerOutcome o;
    const PerQuery q = per_query(run, n_gen);
    Measurement& m = o.measurement;
    m.samples_ns = q.latency_ns;
    m.ttft_ns = q.ttft_ns;
    m.tpot_ns = q.tpot_ns;
    m.wall = std::chrono::nanoseconds(run.span_ns);
    int64_t gen = 0;
    for (int32_t g : n_gen) gen += g;
    const double span_s = static_cast<double>(std::max<int64_t>(run.span_ns, 1)) / 1e9;
    m.samples_ts = {static_cast<double>(n_gen.empty() ? static_cast<int64_t>(run.done_ns.size()) : gen) / span_s};
    std::vector<double> lat(m.samples_ns.begin(), m.samples_ns.end());
    m.ns = summarize(lat);
    m.ts = summarize(m.samples_ts);

    ServerStats& s = o.stats;
    s.target_qps = target_qps;
    s.n_queries = static_cast<int64_t>(run.done_ns.size());
    s.achieved_qps = static_cast<double>(s.n_queries) / span_s;
    s.n_parallel = n_parallel;
    s.p50_ms = m.ns.p50 / 1e6;
    s.p90_ms = m.ns.p90 / 1e6;
    s.p99_ms = m.ns.p99 / 1e6;
    if (!q.ttft_ns.empty()) s.ttft_p99_ms = p99_ms_of(q.ttft_ns);
    if (!q.tpot_ns.empty()) s.tpot_p99_ms = p99_ms_of(q.tpot_ns);
    s.max_issue_lag_ms = static_cast<double>(run.max_issue_lag_ns) / 1e6;
    if (slo.any()) {
        s.slo = slo.text();
        s.slo_limits = slo;
        const auto why = slo.misses(s.p99_ms, s.ttft_p99_ms, s.tpot_p99_ms);
        s.slo_pass = why.empty();
        for (const auto& w : why) {
            m.valid = false;
            m.reasons.push_back(w);
        }
        // Whether the count reached supports each p99 claim (LoadGen's early stopping); stated, not enforced.
        if (slo.p99_ms) s.early_stopping.push_back(early_stopping("E2E", q.latency_ns, *slo.p99_ms));
        if (slo.ttft_p99_ms) s.early_stopping.push_back(early_stopping("TTFT", q.ttft_ns, *slo.ttft_p99_ms));
        if (slo.tpot_p99_ms) s.early_stopping.push_back(early_stopping("TPOT", q.tpot_ns, *slo.tpot_p99_ms));
    }
    return o;
}

OfflineOutcome run_offline(ParallelLlmTarget& target, const LoadTest& test, const RunRules& rules) {
    const auto n = static_cast<size_t>(std::max(1, test.n_queries));
    const auto queries = make_queries(target, test, n);
    std::vector<int32_t> n_gen;
    int64_t n_prompt_tokens = 0;
    for (const auto& q : queries) {
        n_gen.push_back(q.n_gen);
        n_prompt_tokens += static_cast<int64_t>(q.prompt.size());
    }
    const int64_t gen = total_gen(queries);
    const std::vector<double> at_once(n, 0.0);
    const auto once = [&] {
        target.clear_all();
        BatchingSut sut(target, queries);
        return run_load(sut, at_once);
    };
    for (int32_t i = 0; i < rules.n_warmup; ++i) once();

    OfflineOutcome o;
    Measurement& m = o.measurement;
    std::vector<int64_t> latency;
    double samples_per_s = 0;
    double prompt_per_s = 0;
    while (static_cast<int32_t>(m.samples_ns.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(m.samples_ns.size()) < rules.n_min_reps || m.wall < rules.min_duration)) {
        const LoadRun run = once();
        const PerQuery q = per_query(run, n_gen);
        const double s = static_cast<double>(std::max<int64_t>(run.span_ns, 1)) / 1e9;
        m.samples_ns.push_back(run.span_ns);
        m.samples_ts.push_back(static_cast<double>(gen) / s);
        m.samples_tokens.push_back(static_cast<int32_t>(gen));
        m.wall += std::chrono::nanoseconds(run.span_ns);
        m.ttft_ns.insert(m.ttft_ns.end(), q.ttft_ns.begin(), q.ttft_ns.end());
        m.tpot_ns.insert(m.tpot_ns.end(), q.tpot_ns.begin(), q.tpot_ns.end());
        latency.insert(latency.end(), q.latency_ns.begin(), q.latency_ns.end());
        samples_per_s += static_cast<double>(n) / s;
        prompt_per_s += static_cast<double>(n_prompt_tokens) / s;
    }
    finish_measurement(m, rules);
    OfflineStats& st = o.stats;
    const auto reps = static_cast<double>(std::max<size_t>(m.samples_ns.size(), 1));
    st.n_queries = static_cast<int64_t>(n);
    st.n_parallel = target.n_slots();
    st.samples_per_s = samples_per_s / reps;
    st.tokens_per_s = m.ts.mean;
    st.prompt_tokens_per_s = prompt_per_s / reps;
    std::vector<double> lat(latency.begin(), latency.end());
    const Summary ls = summarize(lat);
    st.p50_ms = ls.p50 / 1e6;
    st.p90_ms = ls.p90 / 1e6;
    st.p99_ms = ls.p99 / 1e6;
    if (!m.ttft_ns.empty()) st.ttft_p99_ms = p99_ms_of(m.ttft_ns);
    if (!m.tpot_ns.empty()) st.tpot_p99_ms = p99_ms_of(m.tpot_ns);
    return o;
}

ServerOutcome run_server(ParallelLlmTarget& target, const LoadTest& test, const RunRules& rules) {
    if (test.find_peak && !test.slo.any()) {
        throw Error(ErrorKind::invalid_input,
                    "--find-peak needs an SLO: give --slo-p99-ms, --slo-ttft-ms or --slo-tpot-ms");
    }
    // Warm-up: a few queries served untimed, so the first timed ones do not pay for first-touch costs.
    if (rules.n_warmup > 0) {
        const auto queries = make_queries(target, test, static_cast<size_t>(rules.n_warmup));
        target.clear_all();
        BatchingSut sut(target, queries);
        const std::vector<double> at_once(queries.size(), 0.0);
        run_load(sut, at_once);
    }
    const auto one_run = [&](double qps) {
        const double by_duration = std::ceil(std::chrono::duration<double>(rules.min_duration).count() * qps);
        const auto n = static_cast<size_t>(std::max<double>(std::max(1, test.n_queries), by_duration));
        const auto queries = make_queries(target, test, n);
        const auto arrivals = poisson_arrivals(qps, n, test.seed);
        std::vector<int32_t> n_gen;
        n_gen.reserve(n);
        for (const auto& q : queries) n_gen.push_back(q.n_gen);
        target.clear_all();
        BatchingSut sut(target, queries);
        const LoadRun run = run_load(sut, arrivals);
        return server_outcome(run, n_gen, qps, target.n_slots(), test.slo);
    };
    return run_server_search(one_run, test);
}

ServerOutcome run_server_search(const std::function<ServerOutcome(double)>& one_run, const LoadTest& test) {
    if (!test.find_peak) return one_run(test.target_qps);

    std::optional<ServerOutcome> best;
    std::optional<ServerOutcome> last;
    const PeakSearch search = find_peak(
        [&](double qps) {
            ServerOutcome o = one_run(qps);
            const PeakProbe p{.qps = qps, .achieved_qps = o.stats.achieved_qps, .p99_ms = o.stats.p99_ms,
                              .pass = o.stats.slo_pass.value_or(false)};
            if (p.pass && (!best || qps > best->stats.target_qps)) best = o;
            last = std::move(o);
            return p;
        },
        test.target_qps);
    ServerOutcome out = best ? std::move(*best) : std::move(*last);
    out.stats.peak_qps = search.peak_qps;
    out.stats.probes = search.probes;
    if (!search.peak_qps) {
        out.measurement.valid = false;
        out.measurement.reasons.push_back(fmt::format("find-peak: no probed QPS (lowest {:g}) met the SLO {}",
                                            out.stats.target_qps, test.slo.text()));
    }
    return out;
}

}  // namespace accel::bench
