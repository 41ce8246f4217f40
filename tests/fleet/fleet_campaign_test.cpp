// A campaign end to end on this machine: accel plan, run-shard (retried, and a GPU shard that cannot run here),
// db merge (each point once, the latest complete attempt), report --campaign.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;
using accel::test::TempDir;

std::string spec(const fs::path& model) {
    return "campaign = \"ci-smoke\"\n[sweep]\nmodel = \"" + model.string() +
           "\"\ndevice = \"cpu,cuda0\"\nn_prompt = 8\nn_gen = 4\nthreads = 1\n[run]\nrepetitions = 1\nwarmup = 0\n"
           "timeout = 60\n[hardware.cuda]\nmin_memory_gb = 8\n";
}

int64_t scalar(const fs::path& db, const std::string& sql) {
    const auto r = run_accel({"db", "query", "--db", db.string(), "--format", "csv", sql});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto nl = r.out.find('\n');
    return std::stoll(r.out.substr(nl + 1));
}

TEST(Campaign, BadSpecIsOneLineNamingFileAndKeyExit2) {
    TempDir dir;
    accel::test::write_file(dir / "bad.toml", "campaign = \"x\"\n[sweep]\nmodel = \"m.gguf\"\nn_promt = 8\n");
    const auto r = run_accel({"plan", (dir / "bad.toml").string(), "--out", (dir / "p").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find((dir / "bad.toml").string() + ":4: sweep.n_promt: unknown key"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Campaign, PlanRunShardsMergeReport) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    TempDir dir;
    accel::test::write_file(dir / "spec.toml", spec(model));
    const fs::path plan_dir = dir / "plan", results = dir / "results", db = dir / "w.duckdb";
    auto r = run_accel({"plan", (dir / "spec.toml").string(), "--out", plan_dir.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto shards = nlohmann::json::parse(r.out).at("rows");
    ASSERT_EQ(shards.size(), 2u);
    const std::string cpu_id = shards[0].at("shard"), gpu_id = shards[1].at("shard");
    const std::string plan = (plan_dir / "plan.json").string();
    const auto shard = [&](const std::string& index, std::vector<std::string> env = {}) {
        return run_accel({"run-shard", "--plan", plan, "--index", index, "--out", results.string()}, env, 180);
    };
    r = shard("0");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(results / "ci-smoke" / cpu_id / "attempt-0" / "parquet" / "results"));
    EXPECT_TRUE(fs::exists(results / "ci-smoke" / cpu_id / "attempt-0" / "provenance.json"));
    // The GPU shard on a CPU-only machine: unmet requirement written as its result (skipped where cuda0 exists).
    r = shard("1");
    const bool has_gpu = r.exit_code == 0;
    if (!has_gpu) {
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.out.find("unplaceable: the shard needs a cuda device (cuda0) with at least 8.0 GiB"),
                  std::string::npos)
            << r.out;
    }
    // Merge the first attempt, then a retry (as Slurm's requeue numbers it) and a killed attempt's leftovers.
    r = run_accel({"db", "merge", "--db", db.string(), (results / "ci-smoke").string(), "--json"});
    EXPECT_EQ(r.exit_code, has_gpu ? 0 : 3) << r.err;
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM results"), has_gpu ? 4 : 2);
    fs::create_directories(results / "ci-smoke" / cpu_id / ".attempt-1.tmp-99999");
    r = shard("0", {"SLURM_JOB_ID=7", "SLURM_RESTART_COUNT=2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(results / "ci-smoke" / cpu_id / "attempt-2" / "result.json"));
    r = run_accel({"db", "merge", "--db", db.string(), (results / "ci-smoke").string(), "--json"});
    const auto rows = nlohmann::json::parse(r.out).at("rows");
    ASSERT_EQ(rows.size(), 2u) << r.out;
    EXPECT_EQ(rows[0].at("state"), "merged");
    EXPECT_EQ(rows[0].at("attempt"), 2);
    EXPECT_EQ(rows[0].at("attempts"), 2);
    EXPECT_EQ(rows[0].at("unfinished"), 1);
    EXPECT_EQ(rows[0].at("results"), 2);
    if (!has_gpu) {
        EXPECT_EQ(rows[1].at("state"), "unplaceable");
    }
    EXPECT_NE(r.err.find("1 run more than once"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2 superseded removed"), std::string::npos) << r.err;
    // Exactly the planned CPU points, once each, from the latest attempt's run.
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM results WHERE device = 'cpu'"), 2);
    EXPECT_EQ(scalar(db, "SELECT count(DISTINCT run_id) FROM results WHERE device = 'cpu'"), 1);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM runs WHERE json_extract(extra, '$.attempt')::INT = 2"), 1);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM samples WHERE result_id NOT IN (SELECT id FROM results)"), 0);
    // Merging again imports nothing; the results folder holding the campaign folder merges the same.
    r = run_accel({"db", "merge", "--db", db.string(), results.string(), "--json"});
    EXPECT_EQ(nlohmann::json::parse(r.out).at("rows")[0].at("state"), "already merged");
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM results"), has_gpu ? 4 : 2);

    r = run_accel({"report", "--db", db.string(), "--campaign", "ci-smoke"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("| stories260K"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| pp8 | cpu | 1 |"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| tg4 | cpu | 1 |"), std::string::npos) << r.out;
    r = run_accel({"report", "--db", db.string(), "--campaign", "nope"});
    EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
