// The figures of a remote point from the client's own time points, and their JSON form.
#include "accel/bench/remote_outcome.h"
#include "accel/bench/remote_stats.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include <fmt/core.h>

#include "accel/bench/statistics.h"
#include "point_result_json.h"

namespace accel::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t ns_since(Clock::time_point t0, Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - t0).count();
}

}  // namespace

LatencyFigures latency_figures(std::span<const int64_t> ns) {
    const std::vector<double> v(ns.begin(), ns.end());
    const Summary s = summarize(v);
    return {.count = static_cast<int64_t>(s.count), .mean_ms = s.mean / 1e6, .p50_ms = s.p50 / 1e6,
            .p90_ms = s.p90 / 1e6, .p99_ms = s.p99 / 1e6, .max_ms = s.max / 1e6};
}

RemoteOutcome remote_outcome(const LoadRun& run, std::span<const RemoteResponse> responses, bool from_schedule,
                             double target_qps, int32_t concurrency, const ServerSlo& slo, double max_lateness_ms) {
    RemoteOutcome out;
    RemoteStats& st = out.stats;
    st.origin = from_schedule ? "scheduled" : "sent";
    st.concurrency = concurrency;
    st.max_lateness_ms = max_lateness_ms;
    st.n_requests = static_cast<int64_t>(responses.size());

    // The run as the load harness's figures see it: ok requests only, times from the origin.
    LoadRun ok;
    ok.max_issue_lag_ns = run.max_issue_lag_ns;
    ok.t0 = run.t0;
    std::vector<int32_t> n_out;
    std::vector<int64_t> itl, lateness;
    int64_t first_origin = INT64_MAX, last_done = 0;
    int64_t prompt_tokens = 0;
    bool all_prompt_usage = true, any_usage = false, any_tokenizer = false, any_chunks = false;
    for (size_t i = 0; i < responses.size(); ++i) {
        const RemoteResponse& r = responses[i];
        const int64_t due = run.arrival_ns[i];
        const int64_t sent = ns_since(run.t0, r.sent);
        if (from_schedule) lateness.push_back(sent - due);
        if (!r.ok()) {
            if (st.n_failed++ == 0) st.first_error = r.error;
            continue;
        }
        const int64_t origin = from_schedule ? due : sent;
        const int64_t done = ns_since(run.t0, r.done);
        first_origin = std::min(first_origin, origin);
        last_done = std::max(last_done, done);
        ok.arrival_ns.push_back(origin);
        ok.done_ns.push_back(done);
        ok.first_ns.push_back(r.chunks.empty() ? std::nullopt : std::optional(ns_since(run.t0, r.chunks.front())));
        for (size_t k = 1; k < r.chunks.size(); ++k) itl.push_back(ns_since(r.chunks[k - 1], r.chunks[k]));
        // The server's usage, else the text's tokens by the model's own tokenizer (--tokenizer), else the chunks.
        const int32_t n = r.completion_tokens.value_or(
            r.tokenizer_tokens.value_or(static_cast<int32_t>(r.chunks.size())));
        (r.completion_tokens ? any_usage : r.tokenizer_tokens ? any_tokenizer : any_chunks) = true;
        if (r.resent) ++st.n_resent;
        n_out.push_back(n);
        st.n_output_tokens += n;
        if (r.prompt_tokens) {
            prompt_tokens += *r.prompt_tokens;
        } else {
            all_prompt_usage = false;
        }
    }
    st.token_source.clear();
    for (const auto& [any, name] : {std::pair{any_usage, "usage"}, std::pair{any_tokenizer, "tokenizer"},
                                    std::pair{any_chunks, "chunks"}}) {
        if (any) st.token_source += (st.token_source.empty() ? "" : "+") + std::string(name);
    }
    if (st.token_source.empty()) st.token_source = "chunks";
    if (all_prompt_usage && !n_out.empty()) st.n_prompt_tokens = prompt_tokens;
    // The run's span: from the schedule's start (server) or the first send (closed loops) to the last answer.
    ok.span_ns = n_out.empty() ? 0 : last_done - (from_schedule ? 0 : first_origin);

    out.outcome = server_outcome(ok, n_out, target_qps, concurrency, slo);
    Measurement& m = out.outcome.measurement;
    st.span_s = static_cast<double>(ok.span_ns) / 1e9;
    const double span = std::max(st.span_s, 1e-9);
    st.requests_per_s = static_cast<double>(n_out.size()) / span;
    st.output_tokens_per_s = static_cast<double>(st.n_output_tokens) / span;
    st.e2e = latency_figures(m.samples_ns);
    st.ttft = latency_figures(m.ttft_ns);
    st.tpot = latency_figures(m.tpot_ns);
    st.itl = latency_figures(itl);

    if (slo.any()) {
        int64_t good = 0;
        for (size_t i = 0; i < n_out.size(); ++i) {
            const int64_t e2e = ok.done_ns[i] - ok.arrival_ns[i];
            const auto& first = ok.first_ns[i];
            const auto within = [](const std::optional<double>& limit_ms, std::optional<int64_t> v) {
                return !limit_ms || (v && static_cast<double>(*v) <= *limit_ms * 1e6);
            };
            std::optional<int64_t> ttft, tpot;
            if (first) ttft = *first - ok.arrival_ns[i];
            if (first && n_out[i] > 1) tpot = (ok.done_ns[i] - *first) / (n_out[i] - 1);
            // A request with one output token has no TPOT: the TPOT limit does not apply to it.
            const bool tpot_ok = n_out[i] <= 1 || within(slo.tpot_p99_ms, tpot);
            if (within(slo.p99_ms, e2e) && within(slo.ttft_p99_ms, ttft) && tpot_ok) ++good;
        }
        st.goodput_rps = static_cast<double>(good) / span;
    }
    if (from_schedule) {
        st.lateness = latency_figures(lateness);
        st.n_late = std::count_if(lateness.begin(), lateness.end(),
                                  [&](int64_t v) { return static_cast<double>(v) > max_lateness_ms * 1e6; });
        if (static_cast<double>(st.n_late) > 0.01 * static_cast<double>(lateness.size())) {
            m.valid = false;
            m.reasons.push_back(fmt::format(
                "the client could not keep the schedule: {} of {} requests were sent more than {:g} ms after they "
                "were due (lateness p99 {:.2f} ms, max {:.2f} ms; the rule allows 1%)",
                st.n_late, lateness.size(), max_lateness_ms, st.lateness->p99_ms, st.lateness->max_ms));
        }
    }
    if (st.n_failed > 0) {
        m.valid = false;
        m.reasons.push_back(fmt::format("{} of {} requests failed; the first: {}", st.n_failed, st.n_requests,
                                        st.first_error));
    }
    if (n_out.empty()) {
        m.valid = false;
        m.reasons.push_back("no request completed");
    }
    return out;
}

std::string token_source_text(const RemoteStats& s) {
    if (s.token_source.find("tokenizer") == std::string::npos) return s.token_source;
    return s.token_source + " " + std::filesystem::path(s.tokenizer).filename().string();
}

void to_json(json& j, const LatencyFigures& f) {
    j = {{"count", f.count}, {"mean_ms", f.mean_ms}, {"p50_ms", f.p50_ms}, {"p90_ms", f.p90_ms},
         {"p99_ms", f.p99_ms}, {"max_ms", f.max_ms}};
}

void from_json(const json& j, LatencyFigures& f) {
    j.at("count").get_to(f.count);
    j.at("mean_ms").get_to(f.mean_ms);
    j.at("p50_ms").get_to(f.p50_ms);
    j.at("p90_ms").get_to(f.p90_ms);
    j.at("p99_ms").get_to(f.p99_ms);
    j.at("max_ms").get_to(f.max_ms);
}

void to_json(json& j, const RemoteStats& s) {
    json metrics = json::object();
    for (const auto& [k, v] : s.server_metrics_delta) metrics[k] = v;
    j = {{"url", s.target.url},
         {"served_model", s.target.served_model},
         {"server_header", s.target.server_header},
         {"models_json", s.target.models_json},
         {"api", s.api},
         {"workload", s.workload},
         {"origin", s.origin},
         {"token_source", s.token_source},
         {"tokenizer", s.tokenizer.empty() ? json(nullptr) : json(s.tokenizer)},
         {"n_resent", s.n_resent},
         {"concurrency", s.concurrency},
         {"n_requests", s.n_requests},
         {"n_failed", s.n_failed},
         {"first_error", s.first_error},
         {"n_output_tokens", s.n_output_tokens},
         {"n_prompt_tokens", json_or_null(s.n_prompt_tokens)},
         {"span_s", s.span_s},
         {"requests_per_s", s.requests_per_s},
         {"output_tokens_per_s", s.output_tokens_per_s},
         {"goodput_rps", json_or_null(s.goodput_rps)},
         {"e2e", s.e2e},
         {"ttft", s.ttft},
         {"tpot", s.tpot},
         {"itl", s.itl},
         {"lateness", s.lateness ? json(*s.lateness) : json(nullptr)},
         {"max_lateness_ms", s.max_lateness_ms},
         {"n_late", s.n_late},
         {"server_metrics_delta", metrics},
         {"server_metrics_note", s.server_metrics_note},
         {"definitions", remote_metric_definitions}};
    if (!s.generators.empty()) j["generators"] = s.generators;
}

void from_json(const json& j, RemoteStats& s) {
    s.target = {.url = j.at("url").get<std::string>(),
                .served_model = j.at("served_model").get<std::string>(),
                .server_header = j.at("server_header").get<std::string>(),
                .models_json = j.at("models_json").get<std::string>()};
    j.at("api").get_to(s.api);
    j.at("workload").get_to(s.workload);
    j.at("origin").get_to(s.origin);
    j.at("token_source").get_to(s.token_source);
    // Absent from results stored before session 8.
    s.tokenizer = j.contains("tokenizer") && j["tokenizer"].is_string() ? j["tokenizer"].get<std::string>() : "";
    s.n_resent = j.value("n_resent", int64_t{0});
    j.at("concurrency").get_to(s.concurrency);
    j.at("n_requests").get_to(s.n_requests);
    j.at("n_failed").get_to(s.n_failed);
    j.at("first_error").get_to(s.first_error);
    j.at("n_output_tokens").get_to(s.n_output_tokens);
    s.n_prompt_tokens = get_opt<int64_t>(j, "n_prompt_tokens");
    j.at("span_s").get_to(s.span_s);
    j.at("requests_per_s").get_to(s.requests_per_s);
    j.at("output_tokens_per_s").get_to(s.output_tokens_per_s);
    s.goodput_rps = get_opt<double>(j, "goodput_rps");
    j.at("e2e").get_to(s.e2e);
    j.at("ttft").get_to(s.ttft);
    j.at("tpot").get_to(s.tpot);
    j.at("itl").get_to(s.itl);
    s.lateness = get_opt<LatencyFigures>(j, "lateness");
    j.at("max_lateness_ms").get_to(s.max_lateness_ms);
    j.at("n_late").get_to(s.n_late);
    s.server_metrics_delta.clear();
    for (const auto& [k, v] : j.at("server_metrics_delta").items()) {
        s.server_metrics_delta.emplace_back(k, v.get<double>());
    }
    j.at("server_metrics_note").get_to(s.server_metrics_note);
    s.generators = j.value("generators", std::vector<std::string>{});
}

}  // namespace accel::bench
