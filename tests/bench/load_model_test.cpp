// The load scenarios on real models: continuous batching gives each query the tokens it gets alone, the server
// scenario reaches its target rate on stories260K, offline and SLO misses through the CLI, and embed --verify.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/batching_sut.h"
#include "accel/bench/engine_parallel_target.h"
#include "accel/bench/server_scenario.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "test_support.h"

namespace {

using accel::test::run_accel;
using namespace accel;

// Runs every query through continuous batching with n_slots slots and returns each query's tokens.
std::vector<std::vector<int32_t>> serve_all(const engine::LoadedModel& model, int32_t n_slots,
                                            const std::vector<bench::LlmQuery>& queries, int32_t& max_in_flight) {
    engine::Session session = engine::Session::open(
        model, {.n_ctx = static_cast<uint32_t>(256 * n_slots), .n_batch = 64, .n_ubatch = 64, .n_threads = 1,
                .n_seq_max = static_cast<uint32_t>(n_slots)});
    bench::EngineParallelTarget target(session);
    bench::BatchingSut sut(target, queries);
    const std::vector<double> at_once(queries.size(), 0.0);
    bench::run_load(sut, at_once);
    max_in_flight = sut.batcher().max_in_flight();
    std::vector<std::vector<int32_t>> out;
    for (uint32_t q = 0; q < queries.size(); ++q) out.push_back(sut.batcher().generated(q));
    return out;
}

TEST(ContinuousBatching, ParallelGreedySequencesMatchEachRunAlone) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto model = engine::LoadedModel::load(stories);
    engine::Session probe_session = engine::Session::open(model, {.n_ctx = 256, .n_batch = 64, .n_ubatch = 64});
    bench::EngineParallelTarget probe(probe_session);
    // Different prompt and output lengths, so queries start and finish at different steps and slots are reused;
    // prompts longer than the 64-token batch are prefilled in chunks alongside other slots' decoding.
    const bench::LoadTest test{.lengths = bench::parse_request_lengths("uniform:4-90,1-24"), .seed = 7};
    const auto queries = bench::make_queries(probe, test, 10);

    int32_t alone_in_flight = 0;
    int32_t together_in_flight = 0;
    const auto alone = serve_all(model, 1, queries, alone_in_flight);
    const auto together = serve_all(model, 4, queries, together_in_flight);
    EXPECT_EQ(alone_in_flight, 1);
    EXPECT_EQ(together_in_flight, 4);
    ASSERT_EQ(alone.size(), queries.size());
    for (size_t q = 0; q < queries.size(); ++q) {
        ASSERT_EQ(alone[q].size(), static_cast<size_t>(queries[q].n_gen)) << "query " << q;
        EXPECT_EQ(together[q], alone[q]) << "query " << q << " (prompt " << queries[q].prompt.size() << ")";
    }
}

TEST(ServerScenario, ReachesTargetQpsWhenNotSaturatedAndIsStored) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::test::TempDir dir;
    const std::string db = (dir / "r.duckdb").string();
    // 40 QPS of 8+4-token queries is far below what stories260K serves even on a busy machine: 200 queries, ~5 s.
    const auto r = run_accel({"bench", "-m", stories.string(), "--scenario", "server", "--qps", "40", "--queries",
                              "200", "-p", "8", "-n", "4", "--parallel", "2", "-t", "1", "--slo-p99-ms", "2000",
                              "--db", db, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("results").size(), 1u);
    const auto& res = j.at("results")[0];
    EXPECT_EQ(res.at("test"), "server p8 n4 x2 @ 40 qps");
    const auto& s = res.at("server");
    EXPECT_EQ(s.at("target_qps"), 40.0);
    EXPECT_EQ(s.at("n_queries"), 200);
    EXPECT_NEAR(s.at("achieved_qps").get<double>(), 40.0, 2.0) << s.dump();
    EXPECT_LE(s.at("p50_ms").get<double>(), s.at("p99_ms").get<double>());
    EXPECT_LE(s.at("ttft_p99_ms").get<double>(), s.at("p99_ms").get<double>());
    EXPECT_GT(s.at("tpot_p99_ms").get<double>(), 0);
    EXPECT_EQ(s.at("slo"), "p99 <= 2000 ms");
    EXPECT_EQ(s.at("slo_pass"), true);
    EXPECT_TRUE(res.at("offline").is_null());
    EXPECT_EQ(res.at("samples_ns").size(), 200u);
    EXPECT_EQ(res.at("valid"), true);

    const auto q = run_accel({"db", "query",
                              "SELECT scenario || ',' || CAST(json_extract(extra, '$.server.n_queries') AS VARCHAR) "
                              "FROM results",
                              "--db", db, "--format", "csv"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_NE(q.out.find("server,200"), std::string::npos) << q.out;
}

TEST(ServerScenario, MissedSloIsInvalidAndExitsThree) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto r = run_accel({"bench", "-m", stories.string(), "--scenario", "server", "--qps", "50", "--queries", "10",
                              "-p", "8", "-n", "4", "-t", "1", "--slo-p99-ms", "0.001", "--no-store"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.out.find("INVALID"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SLO missed: p99 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" ms > 0.001 ms"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SLO p99 <= 0.001 ms: MISSED"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("1 server point(s) missed the SLO"), std::string::npos) << r.err;
}

TEST(OfflineScenario, AllQueriesAtOnceThroughParallelSlots) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::test::TempDir dir;
    accel::test::write_file(dir / "lengths.txt", "8 4\n16 6\n4 2\n");
    const auto r = run_accel({"bench", "-m", stories.string(), "--scenario", "offline", "--parallel", "1,4",
                              "--queries", "12", "--lengths", "file:" + (dir / "lengths.txt").string(), "-r", "2",
                              "-t", "1", "--no-store", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("results").size(), 2u);
    for (const auto& res : j.at("results")) {
        const auto& o = res.at("offline");
        EXPECT_EQ(o.at("n_queries"), 12);
        EXPECT_GT(o.at("tokens_per_s").get<double>(), 0);
        EXPECT_GT(o.at("samples_per_s").get<double>(), 0);
        EXPECT_EQ(res.at("samples_ns").size(), 2u);    // one per repetition
        EXPECT_EQ(res.at("ttft_ns").size(), 24u);      // one per query, both repetitions
        EXPECT_TRUE(res.at("server").is_null());
    }
    EXPECT_EQ(j.at("results")[1].at("offline").at("n_parallel"), 4);
    EXPECT_NE(j.at("results")[1].at("test").get<std::string>().find("x4"), std::string::npos);
}

TEST(LoadCli, BadLengthsAndFindPeakWithoutSloAreUsageErrors) {
    const auto bad =
        run_accel({"bench", "-m", "a.gguf", "--scenario", "server", "--lengths", "fixed:0,4", "--dry-run"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("--lengths fixed:0,4: prompt lengths must be at least 1"), std::string::npos) << bad.err;
    const auto peak = run_accel({"bench", "-m", "a.gguf", "--scenario", "server", "--find-peak", "--dry-run"});
    EXPECT_EQ(peak.exit_code, 2);
    EXPECT_NE(peak.err.find("--find-peak needs an SLO"), std::string::npos) << peak.err;
}

TEST(EmbedVerify, CpuAgainstCpuPassesAndAPerturbedDeviceFails) {
    const auto bert = accel::test::synthetic_model("bert", "5M", "f32");
    const std::vector<std::string> args{"bench", "-m", bert.string(), "--scenario", "embed", "-p", "16",
                                        "--embed-batch", "2", "-r", "1", "-t", "1", "--no-store", "--verify"};
    const auto ok = run_accel(args);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_NE(ok.out.find("min cosine 1.000000 (>= 0.99), max abs diff 0 (<= 0.02) of L2-normalised vectors over 2 "
                          "texts: pass"),
              std::string::npos)
        << ok.out;
    const auto bad = run_accel(args, {"ACCEL_VERIFY_PERTURB=1"});
    EXPECT_EQ(bad.exit_code, 3) << bad.err;
    EXPECT_NE(bad.out.find("min cosine -1.000000 (>= 0.99)"), std::string::npos) << bad.out;
    EXPECT_NE(bad.out.find("texts: FAIL"), std::string::npos) << bad.out;
    EXPECT_NE(bad.out.find("INVALID"), std::string::npos) << bad.out;
}

TEST(LoadCli, OfflineRefusesAnEmbeddingModel) {
    const auto bert = accel::test::synthetic_model("bert", "5M", "f32");
    const auto r = run_accel({"bench", "-m", bert.string(), "--scenario", "offline", "-p", "8", "-n", "4", "--queries",
                              "2", "-r", "1", "-t", "1", "--no-store"});
    EXPECT_EQ(r.exit_code, 1) << r.err;  // the only point failed
    EXPECT_NE(r.err.find("is an embedding model: the offline scenario serves generative LLMs (use --scenario embed)"),
              std::string::npos)
        << r.err;
}

}  // namespace
