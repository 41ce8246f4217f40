// accel bench end to end on stories260K: failure continuation, storage, output formats.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace {

using accel::test::run_accel;

TEST(BenchCli, SweepWithAMissingModelRunsTheOthersAndRecordsTheFailure) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::test::TempDir dir;
    const std::string db = (dir / "r.duckdb").string();
    const auto r = run_accel({"bench", "-m", stories.string() + "," + (dir / "missing.gguf").string(), "-p", "16",
                              "-n", "8", "-r", "2", "--db", db, "--json", "--tag", "ci"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("schema_version"), 1);
    ASSERT_EQ(j.at("results").size(), 2u);  // pp16 and tg8 on stories260K
    EXPECT_EQ(j.at("failures"), 2);         // the same two on the missing model
    const auto& pp = j.at("results")[0];
    EXPECT_EQ(pp.at("n_prompt"), 16);
    EXPECT_EQ(pp.at("n_gen"), 0);
    EXPECT_EQ(pp.at("samples_ns").size(), 2u);
    EXPECT_GT(pp.at("avg_ts").get<double>(), 0);
    EXPECT_EQ(pp.at("build_commit"), "de3ff81");
    EXPECT_EQ(pp.at("model_sha256"), "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
    EXPECT_TRUE(pp.at("provenance").contains("machine_fingerprint"));
    EXPECT_TRUE(pp.at("provenance").contains("governor"));
    const auto& tg = j.at("results")[1];
    EXPECT_EQ(tg.at("ttft_ns").size(), 2u);

    const auto q = run_accel({"db", "query",
                              "SELECT (SELECT count(*) FROM results) || ',' || (SELECT count(*) FROM failures) || ',' || "
                              "(SELECT count(*) FROM samples) || ',' || (SELECT status FROM runs)",
                              "--db", db, "--format", "csv"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_NE(q.out.find("2,2,4,complete"), std::string::npos) << q.out;
}

TEST(BenchCli, ResumeSkipsStoredPoints) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::test::TempDir dir;
    const std::string db = (dir / "r.duckdb").string();
    const auto first = run_accel({"bench", "-m", stories.string(), "-p", "16", "-n", "0", "-r", "1", "--db", db, "--json"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const std::string run = nlohmann::json::parse(first.out).at("run_id");
    const auto again = run_accel({"bench", "-m", stories.string(), "-p", "16,32", "-n", "0", "-r", "1", "--db", db,
                                  "--json", "--resume", run});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.err.find("1 points left to run"), std::string::npos) << again.err;
    const auto j = nlohmann::json::parse(again.out);
    ASSERT_EQ(j.at("results").size(), 1u);
    EXPECT_EQ(j.at("results")[0].at("n_prompt"), 32);
}

TEST(BenchCli, VerifyFailsVisiblyForAWrongDevice) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto r = run_accel({"bench", "-m", stories.string(), "-p", "16", "-n", "0", "-r", "1", "--no-store", "--verify"},
                             {"ACCEL_VERIFY_PERTURB=1"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.out.find(": FAIL"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("INVALID"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("--verify failed for 1 point"), std::string::npos) << r.err;
}

TEST(BenchCli, FailFastStopsAtTheFirstFailure) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::test::TempDir dir;
    const auto r = run_accel({"bench", "-m", (dir / "missing.gguf").string() + "," + stories.string(), "-p", "16", "-n",
                              "0", "-r", "1", "--no-store", "--json", "--fail-fast"});
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("results").size(), 0u);
    EXPECT_EQ(j.at("failures"), 1);
    EXPECT_EQ(r.exit_code, 1);  // every point that ran failed
}

TEST(BenchCli, DryRunListsPointsAndEta) {
    const auto r = run_accel({"bench", "-m", "a.gguf", "-p", "128,512", "-n", "32", "-t", "1,2", "--dry-run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("6 points; ETA about"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pp512"), std::string::npos);
}

// A make-model output is marked in the table: its speed stands, its output means nothing. A trained model is not.
TEST(BenchCli, RandomWeightModelsAreMarkedInTheTable) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto synthetic = accel::test::synthetic_model("llama", "5M", "f16");
    const auto r = run_accel({"bench", "-m", synthetic.string() + "," + stories.string(), "-p", "8", "-n", "0", "-r",
                              "1", "-t", "1", "--no-store"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string synthetic_row, stories_row;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        // Table rows start with the model's file name (the lines under the table start with what they are).
        if (line.rfind(synthetic.filename().string(), 0) == 0) synthetic_row = line;
        if (line.rfind("stories260K.gguf", 0) == 0) stories_row = line;
    }
    EXPECT_NE(synthetic_row.find("random weights"), std::string::npos) << r.out;
    ASSERT_FALSE(stories_row.empty()) << r.out;
    EXPECT_EQ(stories_row.find("random weights"), std::string::npos) << stories_row;
    // Each point's own energy status.
    EXPECT_NE(r.out.find("energy: " + synthetic.filename().string() + " pp8: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("energy: stories260K.gguf pp8: "), std::string::npos) << r.out;
}

// The default suite's dry run lists the synthetic models it would use, and makes none of them.
TEST(BenchCli, DryRunOfTheDefaultSuiteMakesNoModel) {
    accel::test::TempDir dir;
    const auto cache = dir / "cache";
    const auto r = run_accel({"bench", "--dry-run"}, {"ACCEL_CACHE_DIR=" + cache.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("llama-100M-q4_0-s1.gguf"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("bert-25M-f16-s1.gguf"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("vit-B16-f16-s1.gguf"), std::string::npos) << r.out;  // the vision points
    EXPECT_NE(r.out.find("clip-B32-f16-s1.gguf"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("making synthetic"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(cache / "models")) << "--dry-run wrote " << (cache / "models");
}

// llama-bench's -d (context depth) means the same here.
TEST(BenchCli, DepthTakesLlamaBenchShortFlag) {
    const auto r = run_accel({"bench", "-m", "a.gguf", "-p", "128", "-n", "0", "-d", "0,256", "--dry-run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("2 points; ETA about"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pp128 @ d256"), std::string::npos) << r.out;
}

TEST(BenchCli, BadListIsUsageError) {
    const auto r = run_accel({"bench", "-m", "a.gguf", "-p", "12x", "--dry-run"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("-p 12x"), std::string::npos) << r.err;
}

TEST(BenchCli, LatencyAndJsonlOutput) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto r = run_accel({"bench", "-m", stories.string(), "--scenario", "latency", "-p", "8", "-n", "8", "-r", "20",
                              "--no-store", "--format", "jsonl"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
    EXPECT_EQ(j.at("test"), "latency p8 n8");
    EXPECT_EQ(j.at("samples_ns").size(), 20u);
    EXPECT_LE(j.at("p50_ns").get<double>(), j.at("p99_ns").get<double>());
    EXPECT_LE(j.at("p99_ns").get<double>(), j.at("p999_ns").get<double>());
}

}  // namespace
