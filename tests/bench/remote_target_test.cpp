// accel bench --target's client side against a fake OpenAI-compatible server whose latency is known: every metric
// definition checked exactly against the raw time points, the scheduled-time rule (coordinated omission), the
// lateness rule, LoadGen's early stopping against independently computed values, workloads by seed, /metrics
// deltas, and --verify.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "accel/bench/early_stopping.h"
#include "accel/bench/load_runner.h"
#include "accel/bench/remote_point.h"
#include "accel/bench/remote_outcome.h"
#include "accel/bench/remote_target.h"
#include "accel/bench/remote_workload.h"
#include "accel/core/error.h"
#include "fake_openai_server.h"

namespace {

using namespace accel::bench;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using accel::test::FakeConfig;
using accel::test::FakeServer;

std::vector<RemoteRequest> simple_requests(size_t n, int32_t max_tokens = 5) {
    std::vector<RemoteRequest> out(n);
    for (size_t i = 0; i < n; ++i) {
        out[i] = {.path = "/v1/completions",
                  .body = json{{"model", "fake"}, {"prompt", "abcdefgh" + std::to_string(i)},
                               {"max_tokens", max_tokens}, {"stream", true}}
                              .dump(),
                  .max_tokens = max_tokens};
    }
    return out;
}

struct Driven {
    LoadRun run;
    std::vector<RemoteResponse> responses;
};

Driven drive(const std::string& url, const std::vector<RemoteRequest>& requests, int32_t workers,
             const std::vector<double>& arrivals) {
    RemoteSut sut(parse_target_url(url), requests, workers);
    Driven d;
    d.run = run_load(sut, arrivals);
    d.responses = sut.responses();
    return d;
}

int64_t ns(Clock::time_point t0, Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - t0).count();
}

TEST(RemoteTarget, EveryMetricFollowsItsDefinitionExactly) {
    FakeServer fake({});
    const auto requests = simple_requests(3);
    const std::vector<double> arrivals{0.0, 0.15, 0.30};  // far enough apart that nothing queues
    const Driven d = drive(fake.url(), requests, 3, arrivals);
    const ServerSlo slo{.ttft_p99_ms = 1000.0};
    // A 50 ms lateness limit: wide enough for a loaded 2-core machine, far below the 90 ms a late client shows.
    const RemoteOutcome o = remote_outcome(d.run, d.responses, true, 10, 3, slo, 50);
    const Measurement& m = o.outcome.measurement;
    ASSERT_EQ(m.samples_ns.size(), 3u);
    ASSERT_EQ(m.ttft_ns.size(), 3u);
    ASSERT_EQ(m.tpot_ns.size(), 3u);
    EXPECT_EQ(o.stats.token_source, "usage");
    EXPECT_EQ(o.stats.origin, "scheduled");
    EXPECT_EQ(o.stats.n_output_tokens, 15);
    ASSERT_TRUE(o.stats.n_prompt_tokens);
    EXPECT_EQ(*o.stats.n_prompt_tokens, 21);
    std::vector<int64_t> gaps;
    int64_t last_done = 0;
    for (size_t i = 0; i < 3; ++i) {
        const RemoteResponse& r = d.responses[i];
        ASSERT_TRUE(r.ok()) << r.error;
        ASSERT_EQ(r.chunks.size(), 5u);  // the role-only chunk with empty content is not counted
        EXPECT_EQ(r.text, std::string("abcde"));
        const int64_t due = static_cast<int64_t>(arrivals[i] * 1e9);
        const int64_t e2e = ns(d.run.t0, r.done) - due;
        const int64_t ttft = ns(d.run.t0, r.chunks.front()) - due;
        EXPECT_EQ(m.samples_ns[i], e2e);                  // E2E = end of stream - scheduled time
        EXPECT_EQ(m.ttft_ns[i], ttft);                    // TTFT = first non-empty content - scheduled time
        EXPECT_EQ(m.tpot_ns[i], (e2e - ttft) / (5 - 1));  // TPOT = (E2E - TTFT) / (N - 1)
        for (size_t k = 1; k < r.chunks.size(); ++k) gaps.push_back(ns(r.chunks[k - 1], r.chunks[k]));
        last_done = std::max(last_done, ns(d.run.t0, r.done));
        // The known latencies: 40 ms to the first content, 10 ms between chunks (a loaded machine only adds).
        EXPECT_GE(ttft, 40'000'000);
        EXPECT_LT(ttft, 140'000'000);
        EXPECT_GE(m.tpot_ns[i], 9'000'000);
        EXPECT_LT(m.tpot_ns[i], 60'000'000);
    }
    // ITL: every gap between chunks, pooled.
    const LatencyFigures itl = latency_figures(gaps);
    EXPECT_EQ(o.stats.itl.count, 12);
    EXPECT_DOUBLE_EQ(o.stats.itl.p50_ms, itl.p50_ms);
    EXPECT_DOUBLE_EQ(o.stats.itl.p99_ms, itl.p99_ms);
    EXPECT_GE(itl.p50_ms, 9.0);
    // Throughput and goodput over the run's span (schedule start to the last answer).
    EXPECT_DOUBLE_EQ(o.stats.span_s, static_cast<double>(last_done) / 1e9);
    EXPECT_DOUBLE_EQ(o.stats.output_tokens_per_s, 15 / o.stats.span_s);
    ASSERT_TRUE(o.stats.goodput_rps);
    EXPECT_DOUBLE_EQ(*o.stats.goodput_rps, 3 / o.stats.span_s);
    // The lateness of a client with a worker per request stays far below the limit.
    ASSERT_TRUE(o.stats.lateness);
    EXPECT_EQ(o.stats.n_late, 0);
    EXPECT_TRUE(m.valid) << (m.reasons.empty() ? "" : m.reasons.front());

    // Goodput counts only requests meeting every SLO: a 1 ms TTFT limit leaves none.
    const RemoteOutcome strict = remote_outcome(d.run, d.responses, true, 10, 3, {.ttft_p99_ms = 1.0}, 50);
    EXPECT_DOUBLE_EQ(*strict.stats.goodput_rps, 0.0);
    EXPECT_FALSE(strict.outcome.measurement.valid);  // the SLO itself is missed
}

TEST(RemoteTarget, WithoutUsageTheTokensAreTheContentChunks) {
    FakeServer fake({.n_chunks = 4, .usage = false});
    const Driven d = drive(fake.url(), simple_requests(2), 2, {0.0, 0.0});
    const RemoteOutcome o = remote_outcome(d.run, d.responses, false, 0, 2, {}, 10);
    EXPECT_EQ(o.stats.token_source, "chunks");
    EXPECT_EQ(o.stats.n_output_tokens, 8);
    EXPECT_FALSE(o.stats.n_prompt_tokens);
    ASSERT_EQ(o.outcome.measurement.tpot_ns.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        const auto& r = d.responses[i];
        EXPECT_EQ(o.outcome.measurement.tpot_ns[i], ns(r.chunks.front(), r.done) / 3);
    }
}

// Each client worker keeps one connection open across its requests, so no request pays for a connection setup.
TEST(RemoteTarget, EachWorkerReusesItsConnection) {
    FakeServer fake({.ttft = 5ms, .gap = 1ms, .n_chunks = 2});
    const Driven d = drive(fake.url(), simple_requests(8, 2), 2, std::vector<double>(8, 0.0));
    for (const auto& r : d.responses) ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(fake.requests(), 8);
    EXPECT_GE(fake.connections(), 1);
    EXPECT_LE(fake.connections(), 2);  // one per worker, not one per request
    // The same against a server that closes every connection: one per request.
    FakeServer once({.ttft = 5ms, .gap = 1ms, .n_chunks = 2, .keep_alive_idle = 0ms});
    const Driven e = drive(once.url(), simple_requests(8, 2), 2, std::vector<double>(8, 0.0));
    for (const auto& r : e.responses) ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(once.connections(), 8);
}

// A server that closes idle connections sooner than the next request comes: the worker opens a new one, and no
// request fails.
TEST(RemoteTarget, AConnectionClosedWhileIdleIsReopened) {
    FakeServer fake({.ttft = 5ms, .gap = 1ms, .n_chunks = 2, .keep_alive_idle = 30ms});
    const Driven d = drive(fake.url(), simple_requests(3, 2), 1, {0.0, 0.2, 0.4});
    for (const auto& r : d.responses) ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(fake.connections(), 3);
}

// A one-slot server (100 ms per request) and three requests due 10 ms apart.
TEST(RemoteTarget, LatencyCountsFromTheScheduledTimeAndALateClientIsInvalid) {
    FakeServer fake({.ttft = 100ms, .n_chunks = 1, .serial = true});
    const std::vector<double> arrivals{0.0, 0.01, 0.02};
    // A client that keeps the schedule: the queueing in the server shows in the latency, and the run is valid.
    const Driven on_time = drive(fake.url(), simple_requests(3, 1), 3, arrivals);
    const RemoteOutcome a = remote_outcome(on_time.run, on_time.responses, true, 100, 3, {}, 50);
    ASSERT_EQ(a.outcome.measurement.samples_ns.size(), 3u);
    EXPECT_EQ(a.stats.n_late, 0);
    EXPECT_TRUE(a.outcome.measurement.valid);
    std::vector<int64_t> e2e = a.outcome.measurement.samples_ns;
    std::sort(e2e.begin(), e2e.end());
    EXPECT_GE(e2e[2], 300'000'000 - 20'000'000);  // the last waited for two others: 3 x 100 ms - its 20 ms offset

    // A client with one connection cannot keep the schedule: requests 2 and 3 go out about 90 and 180 ms late.
    const Driven late = drive(fake.url(), simple_requests(3, 1), 1, arrivals);
    const RemoteOutcome b = remote_outcome(late.run, late.responses, true, 100, 1, {}, 50);
    EXPECT_EQ(b.stats.n_late, 2);
    ASSERT_TRUE(b.stats.lateness);
    EXPECT_GE(b.stats.lateness->max_ms, 170.0);
    EXPECT_FALSE(b.outcome.measurement.valid);
    ASSERT_FALSE(b.outcome.measurement.reasons.empty());
    EXPECT_NE(b.outcome.measurement.reasons.front().find("could not keep the schedule"), std::string::npos);
    // Coordinated omission: counted from the schedule the third request took about 280 ms; counted from when the
    // late client sent it, about 100 ms, which hides the wait.
    const int64_t third_from_schedule = b.outcome.measurement.samples_ns[2];
    const int64_t third_from_send = ns(late.responses[2].sent, late.responses[2].done);
    EXPECT_EQ(third_from_schedule, ns(late.run.t0, late.responses[2].done) - 20'000'000);
    EXPECT_GE(third_from_schedule, 270'000'000);
    EXPECT_LT(third_from_send, third_from_schedule - 150'000'000);
}

// Independent of early_stopping.cpp: the binomial CDF by the pmf recurrence in long double.
long double cdf_by_recurrence(int64_t k, int64_t n, long double q) {
    long double pmf = std::pow(1.0L - q, static_cast<long double>(n));
    long double sum = pmf;
    for (int64_t x = 0; x < k; ++x) {
        pmf *= static_cast<long double>(n - x) / static_cast<long double>(x + 1) * q / (1.0L - q);
        sum += pmf;
    }
    return sum;
}

TEST(EarlyStopping, MatchesLoadGenAndAnIndependentBinomial) {
    // t = 0: 0.99^h < 0.01 first at h = 459 (0.99^458 = 0.01004, 0.99^459 = 0.00994).
    EXPECT_LT(std::pow(0.99, 459), 0.01);
    EXPECT_GE(std::pow(0.99, 458), 0.01);
    EXPECT_EQ(early_stopping_min_passing(0, 0.99), 459);
    // LoadGen's SingleStream message for the 90th percentile: "at least 64 queries" (h_min + 1 with t = 1).
    EXPECT_EQ(early_stopping_min_passing(1, 0.90) + 1, 64);
    for (int64_t t = 0; t <= 30; t += 3) {
        const int64_t h = early_stopping_min_passing(t, 0.99);
        EXPECT_LT(cdf_by_recurrence(t, h + t, 0.01L), 0.01L) << "t=" << t;
        EXPECT_GE(cdf_by_recurrence(t, h - 1 + t, 0.01L), 0.01L) << "t=" << t;
        EXPECT_NEAR(binomial_cdf(t, h + t, 0.01), static_cast<double>(cdf_by_recurrence(t, h + t, 0.01L)), 1e-9);
    }
    // 600 latencies, 3 of them over 100 ms.
    std::vector<int64_t> lat(600, 50'000'000);
    lat[10] = lat[20] = lat[30] = 150'000'000;
    const EarlyStopping e = early_stopping("TTFT", lat, 100.0);
    EXPECT_EQ(e.n_over, 3);
    EXPECT_EQ(e.n_needed, early_stopping_min_passing(3, 0.99) + 3);
    EXPECT_EQ(e.supported, 600 >= e.n_needed);
    const EarlyStopping few = early_stopping("E2E", std::vector<int64_t>(64, 1), 100.0);
    EXPECT_EQ(few.n_over, 0);
    EXPECT_EQ(few.n_needed, 459);
    EXPECT_FALSE(few.supported);
    EXPECT_NE(few.text().find("NOT supported"), std::string::npos);
}

TEST(RemoteWorkload, RequestsAreDeterministicBySeedAndShapedByTheWorkload) {
    if (!std::filesystem::exists("/usr/share/common-licenses/GPL-3")) GTEST_SKIP() << "no Debian licence texts";
    const auto words = corpus_words();
    ASSERT_GT(words.size(), 10000u);
    const auto lengths = parse_request_lengths("uniform:5-20,3-9");
    const Workload plain = parse_workload("plain");
    const auto a = make_remote_requests(plain, lengths, 8, 7, "m", words);
    const auto b = make_remote_requests(plain, lengths, 8, 7, "m", words);
    const auto c = make_remote_requests(plain, lengths, 8, 8, "m", words);
    ASSERT_EQ(a.size(), 8u);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].body, b[i].body);
    EXPECT_NE(a[0].body, c[0].body);
    const auto lens = lengths.draw(8, 7);
    for (size_t i = 0; i < a.size(); ++i) {
        const json j = json::parse(a[i].body);
        EXPECT_EQ(a[i].path, "/v1/completions");
        EXPECT_EQ(j["max_tokens"], lens[i].second);
        EXPECT_EQ(j["temperature"], 0);
        const std::string p = j["prompt"];
        EXPECT_EQ(std::count(p.begin(), p.end(), ' ') + 1, lens[i].first);
    }

    const Workload w = parse_workload("shared-prefix:30+multi-turn:3");
    EXPECT_EQ(w.prefix_words, 30);
    EXPECT_EQ(w.turns, 3);
    const auto chat = make_remote_requests(w, lengths, 6, 7, "m", words);
    std::string system;
    for (size_t i = 0; i < chat.size(); ++i) {
        EXPECT_EQ(chat[i].path, "/v1/chat/completions");
        const json msgs = json::parse(chat[i].body)["messages"];
        ASSERT_EQ(msgs[0]["role"], "system");
        if (i == 0) system = msgs[0]["content"];
        EXPECT_EQ(msgs[0]["content"], system);  // one system prompt shared by every request
        EXPECT_EQ(msgs.size(), 2 + 2 * (i % 3));  // system, then the history resent: user, assistant, ..., user
        if (i % 3 > 0) {
            const json prev = json::parse(chat[i - 1].body)["messages"];
            for (size_t k = 0; k < prev.size(); ++k) EXPECT_EQ(msgs[k], prev[k]);
        }
    }
    EXPECT_EQ(std::count(system.begin(), system.end(), ' ') + 1, 30);
    EXPECT_THROW(parse_workload("multi-turn:0"), accel::Error);
    EXPECT_THROW(parse_workload("bogus"), accel::Error);
}

TEST(RemoteTarget, UrlsMetricsAndIdentity) {
    const TargetUrl u = parse_target_url("http://127.0.0.1:8080/api/");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 8080);
    EXPECT_EQ(u.prefix, "/api");
    EXPECT_THROW(parse_target_url("https://x:1"), accel::Error);
    EXPECT_THROW(parse_target_url("http://x:99999"), accel::Error);

    const auto m = parse_prometheus(
        "# HELP a_total x\n# TYPE a_total counter\na_total{model=\"m\",le=\"0.5\"} 3\nb 2.5 1700000000\nc NaN\n");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m.at("a_total{model=\"m\",le=\"0.5\"}"), 3);
    EXPECT_EQ(m.at("b"), 2.5);
    const auto d = metrics_delta({{"a", 1}, {"b", 2}}, {{"a", 4}, {"b", 2}, {"n", 1}});
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0], (std::pair<std::string, double>{"a", 3}));
    EXPECT_EQ(d[1], (std::pair<std::string, double>{"n", 1}));

    FakeServer fake({});
    const TargetIdentity id = read_target_identity(parse_target_url(fake.url()), "");
    EXPECT_EQ(id.served_model, "fake");
    EXPECT_EQ(id.server_header, "fake-openai/1.0");
    EXPECT_NE(id.models_json.find("\"fake\""), std::string::npos);
    EXPECT_THROW(read_target_identity(parse_target_url(fake.url()), "other"), accel::Error);
}

PointResult remote_point(const std::string& url, Scenario sc, int32_t parallel, bool verify) {
    PointSpec spec{.scenario = sc, .model = "", .device = "cpu", .n_prompt = 6, .n_gen = 4, .n_parallel = parallel,
                   .target_qps = 50, .target = url, .served_model = "fake", .workload = "plain"};
    PointOptions o;
    o.rules.n_warmup = 1;
    o.rules.n_min_reps = 3;
    o.n_queries = 8;
    o.verify = verify;
    PointResult r;
    r.spec = spec;
    measure_remote_point(r, spec, o);
    return r;
}

TEST(RemotePoint, StoresTheIdentityAndMetricsDeltasAndVerifyFailsADivergingServer) {
    if (!std::filesystem::exists("/usr/share/common-licenses/GPL-3")) GTEST_SKIP() << "no Debian licence texts";
    FakeServer fake({.ttft = 5ms, .gap = 1ms, .n_chunks = 4, .diverge_when_busy = true});
    const PointResult single = remote_point(fake.url(), Scenario::offline, 1, true);
    ASSERT_TRUE(single.ok);
    ASSERT_TRUE(single.remote);
    EXPECT_EQ(single.remote->target.server_header, "fake-openai/1.0");
    EXPECT_EQ(single.remote->concurrency, 1);
    EXPECT_EQ(single.remote->n_requests, 8);
    // 8 timed requests between the scrapes (the warm-up's one was before).
    ASSERT_FALSE(single.remote->server_metrics_delta.empty());
    EXPECT_EQ(single.remote->server_metrics_delta.front().first, "fake_requests_total{model=\"fake\"}");
    EXPECT_EQ(single.remote->server_metrics_delta.front().second, 8);
    ASSERT_TRUE(single.verify);
    EXPECT_TRUE(single.verify->pass) << single.verify->summary;
    EXPECT_TRUE(single.measurement.valid);

    const PointResult busy = remote_point(fake.url(), Scenario::offline, 4, true);
    ASSERT_TRUE(busy.ok);
    ASSERT_TRUE(busy.verify);
    EXPECT_FALSE(busy.verify->pass) << busy.verify->summary;
    EXPECT_FALSE(busy.measurement.valid);
    EXPECT_TRUE(busy.verify_failed());

    const PointResult server = remote_point(fake.url(), Scenario::server, 1, false);
    ASSERT_TRUE(server.ok);
    ASSERT_TRUE(server.server);
    EXPECT_EQ(server.remote->origin, "scheduled");
    EXPECT_TRUE(server.remote->lateness);
}

// A server that caches prompts must not answer one point from what an earlier point sent: each point (and each probe
// rate) draws prompts of its own, and the same point run again draws the same ones.
TEST(RemotePoint, EachPointSendsPromptsOfItsOwn) {
    if (!std::filesystem::exists("/usr/share/common-licenses/GPL-3")) GTEST_SKIP() << "no Debian licence texts";
    FakeServer fake({.ttft = 1ms, .gap = 1ms, .n_chunks = 2});
    const auto timed_prompts = [&](Scenario sc, int32_t parallel) {
        const size_t before = fake.prompts().size();
        EXPECT_TRUE(remote_point(fake.url(), sc, parallel, false).ok);
        std::vector<std::string> all = fake.prompts();
        // The first request of each point is its untimed warm-up.
        std::vector<std::string> timed(all.begin() + static_cast<std::ptrdiff_t>(before) + 1, all.end());
        std::sort(timed.begin(), timed.end());
        return timed;
    };
    const auto x1 = timed_prompts(Scenario::offline, 1);
    const auto x2 = timed_prompts(Scenario::offline, 2);
    const auto x1_again = timed_prompts(Scenario::offline, 1);
    ASSERT_EQ(x1.size(), 8u);
    ASSERT_EQ(x2.size(), 8u);
    EXPECT_EQ(x1, x1_again);
    std::vector<std::string> shared;
    std::set_intersection(x1.begin(), x1.end(), x2.begin(), x2.end(), std::back_inserter(shared));
    EXPECT_TRUE(shared.empty()) << shared.size() << " prompts of the x1 point were sent again by the x2 point";
}

}  // namespace
