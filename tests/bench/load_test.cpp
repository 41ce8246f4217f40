// The load scenarios' measuring side without a model: the Poisson schedule, request lengths, the issuing loop over
// a fake system under test, --find-peak, the server figures' JSON, and the embedding comparison of --verify.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "accel/bench/load_runner.h"
#include "accel/bench/peak_search.h"
#include "accel/bench/point_result.h"
#include "accel/bench/poisson_schedule.h"
#include "accel/bench/request_lengths.h"
#include "accel/bench/server_scenario.h"
#include "accel/bench/sweep.h"
#include "accel/bench/verify.h"
#include "accel/core/error.h"
#include "test_support.h"

namespace {

using namespace accel::bench;

std::string error_of(const std::string& text) {
    try {
        parse_request_lengths(text);
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        return e.what();
    }
    return "";
}

TEST(PoissonSchedule, MeanGapIsOneOverQpsAndGapsAreExponential) {
    const double qps = 40;
    const size_t n = 100000;
    const auto t = poisson_arrivals(qps, n, 42);
    ASSERT_EQ(t.size(), n);
    ASSERT_TRUE(std::is_sorted(t.begin(), t.end()));
    std::vector<double> gaps;
    double prev = 0;
    for (double x : t) {
        gaps.push_back(x - prev);
        prev = x;
    }
    const Summary s = summarize(gaps);
    EXPECT_NEAR(s.mean, 1 / qps, 0.02 / qps);
    EXPECT_NEAR(s.cv, 1.0, 0.02);
    // Exponential: P(gap > mean) = 1/e and P(gap > 3 mean) = e^-3.
    const auto share_above = [&](double k) {
        return static_cast<double>(std::count_if(gaps.begin(), gaps.end(), [&](double g) { return g > k / qps; })) /
               static_cast<double>(n);
    };
    EXPECT_NEAR(share_above(1), std::exp(-1.0), 0.005);
    EXPECT_NEAR(share_above(3), std::exp(-3.0), 0.003);
    EXPECT_LE(t.back(), n / qps);
}

TEST(PoissonSchedule, FixedSeedIsDeterministicAndSeedsDiffer) {
    EXPECT_EQ(poisson_arrivals(5, 100, 7), poisson_arrivals(5, 100, 7));
    EXPECT_NE(poisson_arrivals(5, 100, 7), poisson_arrivals(5, 100, 8));
    EXPECT_THROW(poisson_arrivals(0, 10, 1), accel::Error);
    EXPECT_THROW(poisson_arrivals(-1, 10, 1), accel::Error);
}

TEST(RequestLengths, ParsesTheThreeForms) {
    const auto f = parse_request_lengths("fixed:128,64");
    EXPECT_EQ(f.kind, RequestLengths::Kind::fixed);
    EXPECT_EQ(f.draw(3, 1), (std::vector<std::pair<int32_t, int32_t>>{{128, 64}, {128, 64}, {128, 64}}));

    const auto u = parse_request_lengths("uniform:32-256,16-128");
    EXPECT_EQ(u.prompt_min, 32);
    EXPECT_EQ(u.prompt_max, 256);
    EXPECT_EQ(u.gen_min, 16);
    EXPECT_EQ(u.gen_max, 128);
    const auto d = u.draw(2000, 5);
    EXPECT_EQ(d, u.draw(2000, 5));
    int32_t pmin = 1 << 30, pmax = 0, gmin = 1 << 30, gmax = 0;
    for (auto [p, g] : d) {
        pmin = std::min(pmin, p), pmax = std::max(pmax, p), gmin = std::min(gmin, g), gmax = std::max(gmax, g);
    }
    EXPECT_EQ(pmin, 32);
    EXPECT_EQ(pmax, 256);
    EXPECT_EQ(gmin, 16);
    EXPECT_EQ(gmax, 128);

    accel::test::TempDir dir;
    accel::test::write_file(dir / "l.txt", "# prompt gen\n16 8\n\n  32\t4  # short\n");
    const auto file = parse_request_lengths("file:" + (dir / "l.txt").string());
    EXPECT_EQ(file.kind, RequestLengths::Kind::file);
    EXPECT_EQ(file.draw(3, 1), (std::vector<std::pair<int32_t, int32_t>>{{16, 8}, {32, 4}, {16, 8}}));
    EXPECT_EQ(file.prompt_max, 32);
    EXPECT_EQ(file.gen_max, 8);
}

TEST(RequestLengths, BadTextGivesExactErrors) {
    const std::string syntax = ": expected fixed:P,G, uniform:PMIN-PMAX,GMIN-GMAX or file:PATH";
    EXPECT_EQ(error_of("128,64"), "--lengths 128,64" + syntax);
    EXPECT_EQ(error_of("normal:1,2"), "--lengths normal:1,2" + syntax);
    EXPECT_EQ(error_of("fixed:128"), "--lengths fixed:128" + syntax);
    EXPECT_EQ(error_of("fixed:12x,4"), "--lengths fixed:12x,4: '12x' is not a whole number");
    EXPECT_EQ(error_of("fixed:0,4"), "--lengths fixed:0,4: prompt lengths must be at least 1");
    EXPECT_EQ(error_of("fixed:4,0"), "--lengths fixed:4,0: output lengths must be at least 1");
    EXPECT_EQ(error_of("uniform:9-3,1-2"), "--lengths uniform:9-3,1-2: prompt range 9-3 is empty");
    EXPECT_EQ(error_of("uniform:1-3,5"), "--lengths uniform:1-3,5: output range '5' is not MIN-MAX");
    EXPECT_EQ(error_of("file:/nonexistent/l.txt"), "--lengths file:/nonexistent/l.txt: cannot read /nonexistent/l.txt");
    accel::test::TempDir dir;
    accel::test::write_file(dir / "bad.txt", "16 8\n16\n");
    const std::string bad = "file:" + (dir / "bad.txt").string();
    EXPECT_EQ(error_of(bad), "--lengths " + bad + ": line 2: expected two whole numbers 'prompt gen', got '16'");
    accel::test::write_file(dir / "empty.txt", "# nothing\n\n");
    const std::string empty = "file:" + (dir / "empty.txt").string();
    EXPECT_EQ(error_of(empty), "--lengths " + empty + ": the file has no 'prompt gen' lines");
}

// A fake SUT: n_slots workers' worth of capacity, each query takes `service` of wall time (sleeping, so the
// machine's load barely matters), first token after half of it.
class FakeSut : public ServerSut {
public:
    FakeSut(int slots, std::chrono::microseconds service) : slots_(slots), service_(service) {}
    std::string_view name() const override { return "fake"; }
    void issue(uint32_t q) override { queue_.push(q); }
    void finish() override { queue_.close(); }
    void serve(QueryObserver& obs) override {
        std::vector<uint32_t> batch;
        for (;;) {
            batch.clear();
            const bool open = queue_.take(batch, static_cast<size_t>(slots_), true);
            if (batch.empty()) {
                if (!open) return;
                continue;
            }
            // The batch's queries run together: one service time for up to slots_ of them.
            std::this_thread::sleep_for(service_ / 2);
            for (uint32_t q : batch) obs.first_token(q);
            std::this_thread::sleep_for(service_ / 2);
            for (uint32_t q : batch) obs.complete(q);
        }
    }

private:
    QueryQueue queue_;
    int slots_;
    std::chrono::microseconds service_;
};

TEST(LoadRunner, UnsaturatedServerReachesTargetQps) {
    FakeSut sut(1, std::chrono::microseconds(2000));
    const auto arrivals = poisson_arrivals(100, 100, 42);  // 1 s at 20% utilisation
    const LoadRun run = run_load(sut, arrivals);
    const std::vector<int32_t> n_gen(100, 5);
    const ServerOutcome o = server_outcome(run, n_gen, 100, 1, {.p99_ms = 500});
    EXPECT_EQ(o.stats.n_queries, 100);
    EXPECT_NEAR(o.stats.achieved_qps, 100, 5);
    EXPECT_GE(o.stats.p50_ms, 2.0);  // never faster than the service time
    ASSERT_TRUE(o.stats.ttft_p99_ms.has_value());
    EXPECT_LE(*o.stats.ttft_p99_ms, o.stats.p99_ms);
    EXPECT_EQ(o.stats.slo, "p99 <= 500 ms");
    EXPECT_EQ(o.stats.slo_limits.p99_ms, 500);  // stored with the point, for the report's SLO line
    EXPECT_FALSE(o.stats.slo_limits.ttft_p99_ms.has_value());
    EXPECT_EQ(o.stats.slo_pass, true);
    EXPECT_TRUE(o.measurement.valid);
    EXPECT_EQ(o.measurement.samples_ns.size(), 100u);
    for (size_t i = 0; i < run.done_ns.size(); ++i) EXPECT_GE(run.done_ns[i], run.arrival_ns[i]);
}

TEST(LoadRunner, SaturatedServerQueuesAndMissesTheSlo) {
    // 10 ms per query, one slot, 400 QPS offered: the queue grows, and latency counts the waiting.
    FakeSut sut(1, std::chrono::microseconds(10000));
    const auto arrivals = poisson_arrivals(400, 40, 42);
    const LoadRun run = run_load(sut, arrivals);
    const ServerOutcome o = server_outcome(run, std::vector<int32_t>(40, 2), 400, 1, {.p99_ms = 50});
    EXPECT_LT(o.stats.achieved_qps, 120);  // at most 100 qps of capacity
    EXPECT_GT(o.stats.p99_ms, 300);        // the last query waited for ~39 before it
    EXPECT_EQ(o.stats.slo_pass, false);
    EXPECT_FALSE(o.measurement.valid);
    ASSERT_EQ(o.measurement.reasons.size(), 1u);
    EXPECT_EQ(o.measurement.reasons[0].rfind("SLO missed: p99 ", 0), 0u) << o.measurement.reasons[0];
    EXPECT_NE(o.measurement.reasons[0].find(" ms > 50 ms"), std::string::npos) << o.measurement.reasons[0];
}

// Completes every query as soon as it is served: what is left is the harness's own cost (queue hand-off, thread
// wake-up, timestamps), which every measured latency includes.
class NullSut : public ServerSut {
public:
    std::string_view name() const override { return "null"; }
    void issue(uint32_t q) override { queue_.push(q); }
    void finish() override { queue_.close(); }
    void serve(QueryObserver& obs) override {
        std::vector<uint32_t> batch;
        for (;;) {
            batch.clear();
            const bool open = queue_.take(batch, 64, true);
            for (uint32_t q : batch) {
                obs.first_token(q);
                obs.complete(q);
            }
            if (!open && batch.empty()) return;
        }
    }

private:
    QueryQueue queue_;
};

TEST(LoadRunner, NullSutMeasuresTheHarnessOverhead) {
    NullSut sut;
    const auto arrivals = poisson_arrivals(2000, 1000, 3);  // 0.5 s
    const LoadRun run = run_load(sut, arrivals);
    const ServerOutcome o = server_outcome(run, {}, 2000, 1, {});
    // A wake-up of a sleeping thread takes tens of microseconds on a quiet machine and a few milliseconds on this
    // one when other builds load it (load average ~10 on 2 cores). A harness that polled on a timer, or a queue
    // that lost wake-ups, would sit far above the bound. The figure is printed so it stays known.
    std::printf("harness overhead (null SUT, %g qps): p50 %.3f ms, p99 %.3f ms\n", 2000.0, o.stats.p50_ms,
                o.stats.p99_ms);
    EXPECT_LT(o.stats.p50_ms, 25.0);
    EXPECT_NEAR(o.stats.achieved_qps, 2000, 100);
    EXPECT_FALSE(o.stats.ttft_p99_ms.has_value());  // no n_gen: not an LLM
    EXPECT_FALSE(o.stats.slo_pass.has_value());
    EXPECT_TRUE(o.measurement.valid);
}

// Fails at its first query, as a device that is lost would.
class FailingSut : public ServerSut {
public:
    std::string_view name() const override { return "failing"; }
    void issue(uint32_t q) override { queue_.push(q); }
    void finish() override { queue_.close(); }
    void serve(QueryObserver&) override {
        std::vector<uint32_t> batch;
        queue_.take(batch, 1, true);
        throw accel::Error(accel::ErrorKind::backend, "device lost");
    }

private:
    QueryQueue queue_;
};

TEST(LoadRunner, SutFailureEndsTheRunEarlyAndIsRethrown) {
    FailingSut sut;
    const auto arrivals = poisson_arrivals(10, 200, 1);  // a 20 s schedule
    const auto t0 = std::chrono::steady_clock::now();
    try {
        run_load(sut, arrivals);
        FAIL() << "run_load returned";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::backend);
        EXPECT_STREQ(e.what(), "device lost");
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(ServerSlo, MissesNameTheFigureAndTheLimit) {
    const ServerSlo slo{.p99_ms = 100, .ttft_p99_ms = 20, .tpot_p99_ms = 5};
    EXPECT_EQ(slo.text(), "p99 <= 100 ms, TTFT p99 <= 20 ms, TPOT p99 <= 5 ms");
    EXPECT_TRUE(slo.misses(99.9, 20, 5).empty());
    EXPECT_EQ(slo.misses(123.45, 25, 4),
              (std::vector<std::string>{"SLO missed: p99 123.5 ms > 100 ms", "SLO missed: TTFT p99 25.0 ms > 20 ms"}));
    EXPECT_EQ(slo.misses(1, std::nullopt, 1),
              (std::vector<std::string>{"SLO missed: TTFT p99 not measured (limit 20 ms)"}));
    EXPECT_EQ(ServerSlo{}.text(), "");
}

TEST(FindPeak, BracketsThenBisectsOnAFakeSut) {
    const double capacity = 37.3;  // the fake passes at or below this rate
    const auto probe = [&](double qps) { return PeakProbe{.p99_ms = qps, .pass = qps <= capacity}; };
    const PeakSearch up = find_peak(probe, 10);
    std::vector<double> qps;
    for (const auto& p : up.probes) qps.push_back(p.qps);
    EXPECT_EQ(qps, (std::vector<double>{10, 20, 40, 30, 35, 37.5, 36.25}));
    ASSERT_TRUE(up.peak_qps.has_value());
    EXPECT_EQ(*up.peak_qps, 36.25);
    EXPECT_LE(*up.peak_qps, capacity);
    EXPECT_GE(*up.peak_qps, capacity * 0.95);

    const PeakSearch down = find_peak(probe, 100);
    qps.clear();
    for (const auto& p : down.probes) qps.push_back(p.qps);
    EXPECT_EQ(qps, (std::vector<double>{100, 50, 25, 37.5, 31.25, 34.375, 35.9375}));
    EXPECT_EQ(down.peak_qps, 35.9375);

    const PeakSearch none = find_peak([](double) { return PeakProbe{.pass = false}; }, 8, 0.05, 5);
    EXPECT_FALSE(none.peak_qps.has_value());
    EXPECT_EQ(none.probes.size(), 5u);
    EXPECT_EQ(none.probes.back().qps, 0.5);
}

TEST(PointResultJson, ServerAndOfflineBlocksRoundTrip) {
    PointResult r;
    r.spec = {.scenario = Scenario::server, .model = "m.gguf", .n_prompt = 16, .n_gen = 8, .n_parallel = 4,
              .target_qps = 2.5, .lengths = "uniform:8-16,4-8"};
    r.ok = true;
    r.measurement.samples_ns = {1000, 2000};
    r.server = ServerStats{.target_qps = 2.5, .achieved_qps = 2.4, .n_queries = 64, .n_parallel = 4, .p50_ms = 1,
                           .p90_ms = 2, .p99_ms = 3, .ttft_p99_ms = 0.5, .slo_pass = false, .slo = "p99 <= 2 ms",
                           .slo_limits = {.p99_ms = 2, .tpot_p99_ms = 0.25}, .peak_qps = 1.25,
                           .probes = {{.qps = 2.5, .achieved_qps = 2.4, .p99_ms = 3, .pass = false}}};
    const PointResult back = point_result_from_json(to_json_text(r));
    EXPECT_EQ(back.spec.scenario, Scenario::server);
    EXPECT_EQ(back.spec.n_parallel, 4);
    EXPECT_EQ(back.spec.target_qps, 2.5);
    EXPECT_EQ(back.spec.lengths, "uniform:8-16,4-8");
    ASSERT_TRUE(back.server.has_value());
    EXPECT_EQ(back.server->achieved_qps, 2.4);
    EXPECT_EQ(back.server->ttft_p99_ms, 0.5);
    EXPECT_FALSE(back.server->tpot_p99_ms.has_value());
    EXPECT_EQ(back.server->slo_pass, false);
    EXPECT_EQ(back.server->slo, "p99 <= 2 ms");
    EXPECT_EQ(back.server->slo_limits.p99_ms, 2);
    EXPECT_FALSE(back.server->slo_limits.ttft_p99_ms.has_value());
    EXPECT_EQ(back.server->slo_limits.tpot_p99_ms, 0.25);
    EXPECT_EQ(back.server->peak_qps, 1.25);
    ASSERT_EQ(back.server->probes.size(), 1u);
    EXPECT_FALSE(back.offline.has_value());
    EXPECT_EQ(to_json_text(back), to_json_text(r));
    EXPECT_EQ(back.spec.test_name(), "server uniform:8-16,4-8 x4 @ 2.5 qps");

    PointResult off;
    off.spec = {.scenario = Scenario::offline, .n_prompt = 16, .n_gen = 8, .n_parallel = 2};
    off.offline = OfflineStats{.n_queries = 8, .n_parallel = 2, .samples_per_s = 3, .tokens_per_s = 24};
    const PointResult off_back = point_result_from_json(to_json_text(off));
    ASSERT_TRUE(off_back.offline.has_value());
    EXPECT_EQ(off_back.offline->tokens_per_s, 24);
    EXPECT_FALSE(off_back.server.has_value());
    EXPECT_EQ(to_json_text(off_back), to_json_text(off));
    EXPECT_EQ(off.spec.test_name(), "offline p16 n8 x2");
}

TEST(SweepExpand, ServerPointsCrossParallelAndQps) {
    SweepSpec s;
    s.scenarios = {Scenario::server, Scenario::offline};
    s.models = {"m.gguf"};
    s.n_prompt = {16};
    s.n_gen = {8};
    s.n_parallel = {1, 4};
    s.target_qps = {0.5, 2};
    const auto points = expand(s);
    ASSERT_EQ(points.size(), 6u);  // server: 2 x 2; offline: 2
    EXPECT_EQ(points[0].test_name(), "server p16 n8 x1 @ 0.5 qps");
    EXPECT_EQ(points[3].test_name(), "server p16 n8 x4 @ 2 qps");
    EXPECT_EQ(points[5].test_name(), "offline p16 n8 x4");
    EXPECT_EQ(parse_positive_list("--qps", "0.5,2"), (std::vector<double>{0.5, 2}));
    EXPECT_THROW(parse_positive_list("--qps", "1,0"), accel::Error);
}

TEST(EmbedVerify, IdenticalPassesAndPerturbedFails) {
    const std::vector<std::vector<float>> ref{{1, 2, 3}, {0, -1, 0.5f}};
    const auto same = compare_embeddings(ref, ref);
    EXPECT_TRUE(same.pass);
    EXPECT_EQ(same.max_abs_diff, 0);
    EXPECT_NE(same.summary.find("(>= 0.99)"), std::string::npos) << same.summary;
    EXPECT_NE(same.summary.find("(<= 0.02)"), std::string::npos) << same.summary;
    EXPECT_NE(same.summary.find("over 2 texts: pass"), std::string::npos) << same.summary;

    auto scaled = ref;  // a scale change is not an error: vectors are compared normalised
    for (auto& x : scaled[0]) x *= 3;
    EXPECT_TRUE(compare_embeddings(ref, scaled).pass);

    auto off = ref;
    off[1][2] += 0.3f;
    const auto bad = compare_embeddings(ref, off);
    EXPECT_FALSE(bad.pass);
    EXPECT_LT(bad.min_cosine, 0.99);
    EXPECT_NE(bad.summary.find(": FAIL"), std::string::npos);

    EXPECT_FALSE(compare_embeddings(ref, {ref[0]}).pass);  // a missing text
}

}  // namespace
