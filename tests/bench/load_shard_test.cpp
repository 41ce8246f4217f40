// Distributed load (bench/load_shard.h): the shards cover the schedule exactly once, and the merged point's
// percentiles are those of the union of the raw samples (checked against a percentile computed here, by hand, and
// shown to differ from the mean of the per-shard percentiles), with the lateness rule and early stopping over the
// union; shard files round-trip and mismatched shards are refused with one line.
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <gtest/gtest.h>

#include "accel/bench/load_shard.h"
#include "accel/core/error.h"
#include "test_support.h"

namespace {

using namespace accel::bench;
using accel::Error;
using accel::ErrorKind;

constexpr int64_t ms = 1'000'000;

// Type 7 (R's default, numpy's linear): h = (n - 1) p, interpolated between the neighbours. Written here so the
// check does not lean on bench's own statistics.
double percentile_by_hand(std::vector<int64_t> v, double p) {
    std::sort(v.begin(), v.end());
    const double h = static_cast<double>(v.size() - 1) * p;
    const auto lo = static_cast<size_t>(std::floor(h));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return static_cast<double>(v[lo]) + (h - static_cast<double>(lo)) * static_cast<double>(v[hi] - v[lo]);
}

// A sample due at due_ms that is sent on time, streams n_tokens chunks 1 ms apart from ttft_ms, and ends at e2e_ms.
RemoteSample sample(uint32_t q, int64_t due_ms, int64_t ttft_ms, int64_t e2e_ms, int32_t n_tokens = 4,
                    int64_t late_ms = 0) {
    RemoteSample s{.query = q, .due_ns = due_ms * ms, .sent_ns = (due_ms + late_ms) * ms,
                   .done_ns = (due_ms + e2e_ms) * ms, .completion_tokens = n_tokens, .prompt_tokens = 8, .status = 200};
    for (int32_t k = 0; k < n_tokens; ++k) s.chunk_ns.push_back((due_ms + ttft_ms + k) * ms);
    return s;
}

// Shard index of count over a schedule of n queries, 10 ms apart; latency(q) gives each query's E2E in ms.
LoadShardFile shard_file(int32_t index, int32_t count, int64_t n, const std::function<int64_t(uint32_t)>& e2e_ms,
                         int64_t late_ms = 0) {
    LoadShardFile f;
    f.path = "shard" + std::to_string(index) + ".json";
    f.shard = {.index = index, .count = count, .start_at_ms = 1'800'000'000'000};
    f.host = "gen" + std::to_string(index);
    f.seed = 42;
    f.n_schedule = n;
    f.max_lateness_ms = 10;
    f.slo = {.p99_ms = 80};
    f.point.ok = true;
    f.point.spec = {.scenario = Scenario::server, .n_prompt = 8, .n_gen = 4, .target_qps = 100,
                    .target = "http://10.0.0.1:8080", .served_model = "stories260K"};
    f.point.remote = RemoteStats{.api = "/v1/completions", .workload = "plain", .concurrency = 4};
    for (uint32_t q : shard_queries(static_cast<size_t>(n), index, count)) {
        f.samples.push_back(sample(q, static_cast<int64_t>(q) * 10, e2e_ms(q) / 4, e2e_ms(q), 4, late_ms));
    }
    return f;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
        return e.what();
    }
    return "(no error)";
}

std::string merge_error(std::vector<LoadShardFile> files) {
    return error_of([&] { (void)merge_load_shards(std::move(files)); });
}

TEST(LoadShard, EveryQueryBelongsToExactlyOneShard) {
    for (size_t n : {0, 1, 2, 7, 100, 1001}) {
        for (int32_t k : {1, 2, 3, 8, 16}) {
            std::multiset<uint32_t> all;
            for (int32_t i = 0; i < k; ++i) {
                for (uint32_t q : shard_queries(n, i, k)) {
                    EXPECT_EQ(static_cast<int32_t>(q % static_cast<uint32_t>(k)), i);
                    all.insert(q);
                }
            }
            ASSERT_EQ(all.size(), n) << n << " queries over " << k;
            uint32_t want = 0;
            for (uint32_t q : all) EXPECT_EQ(q, want++);  // each index once, none missing
        }
    }
}

TEST(LoadShard, ParsesIndexOfCountAndTheStart) {
    const LoadShard s = parse_load_shard("1/3");
    EXPECT_EQ(s.index, 1);
    EXPECT_EQ(s.count, 3);
    for (const char* bad : {"3/3", "-1/2", "1", "a/2", "1/0", "1/2x", "0/2000"}) {
        EXPECT_NE(error_of([&] { (void)parse_load_shard(bad); }).find("--load-shard"), std::string::npos) << bad;
    }
    // A start already past on this host is refused; one ahead maps onto the steady clock that far ahead.
    EXPECT_NE(error_of([] { (void)steady_start(1000); }).find("--start-at 1000: the start is "), std::string::npos);
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const auto ahead = steady_start(now_ms + 5000) - std::chrono::steady_clock::now();
    EXPECT_GT(ahead, std::chrono::milliseconds(4000));
    EXPECT_LE(ahead, std::chrono::milliseconds(5000));
}

TEST(LoadShard, MergedPercentilesAreThoseOfTheUnionNotTheMeanOfShards) {
    // 200 queries: shard 0 (even) answers in 20 ms, shard 1 (odd) mostly in 40 ms with a slow tail of 10 queries.
    const auto e2e = [](uint32_t q) -> int64_t {
        if (q % 2 == 0) return 20;
        return q % 20 == 1 ? 200 + q : 40;
    };
    std::vector<LoadShardFile> files = {shard_file(1, 2, 200, e2e), shard_file(0, 2, 200, e2e)};
    std::vector<int64_t> union_e2e, union_ttft;
    for (const auto& f : files) {
        for (const auto& s : f.samples) {
            union_e2e.push_back(s.done_ns - s.due_ns);
            union_ttft.push_back(s.chunk_ns.front() - s.due_ns);
        }
    }
    double mean_of_shard_p99 = 0, mean_of_shard_p90 = 0;
    for (const auto& f : files) {
        const RemoteOutcome o = remote_outcome_of_samples(f.samples, 0, 100, 4, {}, 10);
        mean_of_shard_p99 += o.stats.e2e.p99_ms / 2;
        mean_of_shard_p90 += o.stats.e2e.p90_ms / 2;
    }

    const MergedLoad m = merge_load_shards(files);
    const PointResult& r = m.point;
    ASSERT_TRUE(r.remote && r.server);
    const double want_p99 = percentile_by_hand(union_e2e, 0.99) / 1e6;
    const double want_p90 = percentile_by_hand(union_e2e, 0.90) / 1e6;
    const double want_p50 = percentile_by_hand(union_e2e, 0.50) / 1e6;
    EXPECT_NEAR(r.remote->e2e.p99_ms, want_p99, 1e-9);
    EXPECT_NEAR(r.remote->e2e.p90_ms, want_p90, 1e-9);
    EXPECT_NEAR(r.remote->e2e.p50_ms, want_p50, 1e-9);
    EXPECT_NEAR(r.server->p99_ms, want_p99, 1e-9);
    EXPECT_NEAR(r.remote->ttft.p99_ms, percentile_by_hand(union_ttft, 0.99) / 1e6, 1e-9);
    EXPECT_EQ(r.remote->e2e.count, 200);
    EXPECT_EQ(r.server->n_queries, 200);
    EXPECT_EQ(r.measurement.samples_ns.size(), 200u);
    // The constructed case: averaging the shards' percentiles would report another figure.
    EXPECT_GT(std::abs(mean_of_shard_p99 - want_p99), 10.0) << mean_of_shard_p99 << " vs " << want_p99;
    EXPECT_GT(std::abs(mean_of_shard_p90 - want_p90), 1.0) << mean_of_shard_p90 << " vs " << want_p90;
    // Early stopping and the SLO over the union's 200 queries (p99 80 ms: 10 of 200 over it).
    ASSERT_EQ(r.server->early_stopping.size(), 1u);
    EXPECT_EQ(r.server->early_stopping[0].n, 200);
    EXPECT_EQ(r.server->early_stopping[0].n_over, 10);
    EXPECT_EQ(r.server->slo_pass, false);
    EXPECT_FALSE(r.measurement.valid);
    // Provenance: each generator by host, in shard order; concurrency summed.
    EXPECT_EQ(r.remote->generators,
              (std::vector<std::string>{"gen0 (shard 0/2, 100 queries)", "gen1 (shard 1/2, 100 queries)"}));
    EXPECT_EQ(r.remote->concurrency, 8);
    EXPECT_EQ(r.remote->n_requests, 200);
    EXPECT_EQ(r.remote->n_output_tokens, 800);
    // Span: from the common start to the last answer of either host (query 181: due 1810 ms, E2E 381 ms).
    EXPECT_NEAR(r.remote->span_s, (1810 + 381) / 1e3, 1e-9);
}

TEST(LoadShard, TheLatenessRuleCountsTheUnion) {
    // Shard 1 sends 3 of its 100 queries 50 ms late: 3 of 200 (1.5%) is over the rule's 1%.
    auto f1 = shard_file(1, 2, 200, [](uint32_t) { return 20; });
    for (size_t i = 0; i < 3; ++i) f1.samples[i].sent_ns += 50 * ms;
    auto f0 = shard_file(0, 2, 200, [](uint32_t) { return 20; });
    const MergedLoad m = merge_load_shards(std::vector<LoadShardFile>{f0, f1});
    ASSERT_TRUE(m.point.remote->lateness);
    EXPECT_EQ(m.point.remote->n_late, 3);
    EXPECT_FALSE(m.point.measurement.valid);
    EXPECT_NE(m.point.measurement.reasons.front().find("3 of 200 requests were sent more than 10 ms"),
              std::string::npos)
        << m.point.measurement.reasons.front();
}

TEST(LoadShard, FilesRoundTripAndMergeFromAFolder) {
    accel::test::TempDir dir;
    const auto e2e = [](uint32_t q) -> int64_t { return 10 + q % 7; };
    std::vector<LoadShardFile> files;
    for (int32_t i = 0; i < 3; ++i) {
        auto f = shard_file(i, 3, 50, e2e);
        f.path = dir / ("gen" + std::to_string(i) + ".json");
        write_load_shard(f);
        files.push_back(f);
    }
    const LoadShardFile back = read_load_shard(dir / "gen2.json");
    EXPECT_EQ(back.host, "gen2");
    EXPECT_EQ(back.shard.index, 2);
    ASSERT_EQ(back.samples.size(), files[2].samples.size());
    EXPECT_EQ(back.samples[3].chunk_ns, files[2].samples[3].chunk_ns);
    EXPECT_EQ(back.samples[3].done_ns, files[2].samples[3].done_ns);
    EXPECT_EQ(back.point.spec.target, "http://10.0.0.1:8080");
    const MergedLoad from_dir = merge_load_shards(dir.path());
    const MergedLoad in_memory = merge_load_shards(files);
    EXPECT_EQ(from_dir.point.remote->e2e.p99_ms, in_memory.point.remote->e2e.p99_ms);
    EXPECT_EQ(from_dir.point.measurement.samples_ns, in_memory.point.measurement.samples_ns);
}

TEST(LoadShard, MismatchedMissingAndDuplicateShardsAreRefused) {
    const auto e2e = [](uint32_t) -> int64_t { return 10; };
    auto other_seed = shard_file(1, 2, 20, e2e);
    other_seed.seed = 7;
    EXPECT_EQ(merge_error({shard_file(0, 2, 20, e2e), other_seed}),
              "--merge-samples: shard0.json and shard1.json are shards of different schedules: seed 42 vs 7 (every "
              "generator must run the same command but for --load-shard's index)");
    auto other_target = shard_file(1, 2, 20, e2e);
    other_target.point.spec.target = "http://10.0.0.2:8080";
    EXPECT_NE(merge_error({shard_file(0, 2, 20, e2e), other_target})
                  .find("target http://10.0.0.1:8080 vs http://10.0.0.2:8080"),
              std::string::npos);
    auto other_qps = shard_file(1, 2, 20, e2e);
    other_qps.point.spec.target_qps = 50;
    EXPECT_NE(merge_error({shard_file(0, 2, 20, e2e), other_qps}).find("QPS 100 vs 50"),
              std::string::npos);
    auto other_workload = shard_file(1, 2, 20, e2e);
    other_workload.point.spec.workload = "shared-prefix:10";
    EXPECT_NE(merge_error({shard_file(0, 2, 20, e2e), other_workload})
                  .find("workload plain vs shared-prefix:10"),
              std::string::npos);
    EXPECT_EQ(merge_error({shard_file(0, 3, 30, e2e), shard_file(2, 3, 30, e2e)}),
              "--merge-samples: shard 1/3 is missing (2 of 3 samples files given); its queries would be left out of "
              "the percentiles");
    EXPECT_NE(merge_error({shard_file(0, 2, 20, e2e), shard_file(0, 2, 20, e2e)})
                  .find("shard 0/2 is given twice"),
              std::string::npos);
    accel::test::TempDir empty;
    accel::test::write_file(empty / "notes.json", "{\"kind\": \"something else\"}");
    EXPECT_NE(error_of([&] { (void)merge_load_shards(empty.path()); }).find("not a load-generator samples file"),
              std::string::npos);
}

}  // namespace
