// accel's own measurements on stories260K, end to end: the samples RunRecorder stores carry their token counts, so
// `db compare` finds a planted slowdown between two recorded runs.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "accel/bench/point_runner.h"
#include "accel/bench/run_recorder.h"
#include "accel/store/database.h"
#include "test_support.h"

namespace {

using namespace accel;
namespace fs = std::filesystem;

TEST(RunRecorder, DbCompareFindsAPlantedSlowdownBetweenTwoRecordedRuns) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const fs::path db = dir / "r.duckdb";
    const bench::RunProvenance prov = bench::read_run_provenance();  // forks: before any model is loaded here
    const bench::PointOptions opts{.rules = {.n_warmup = 1, .n_min_reps = 40}};  // enough samples on a busy machine
    const bench::PointSpec pp{.model = stories.string(), .n_prompt = 16, .n_gen = 0, .n_threads = 1};
    const bench::PointSpec tg{.model = stories.string(), .n_prompt = 0, .n_gen = 8, .n_threads = 1};
    std::vector<std::string> runs;
    for (const char* tag : {"base", "slow"}) {
        auto rec = bench::RunRecorder::begin(db, "accel bench (test)", {tag}, prov);
        for (const auto& spec : {pp, tg}) {
            const bench::PointResult r = bench::run_point(spec, opts);
            ASSERT_TRUE(r.ok) << r.failure_stage << ": " << r.failure_reason;
            rec.add(r);
        }
        rec.finish(store::RunStatus::complete);
        runs.push_back(rec.run_id());
    }
    {
        auto d = store::Database::open(db);
        // Each sample's tokens: the prompt of a pp repetition, the generated tokens of a tg one.
        const auto q = d.query(
            "SELECT r.scenario || ':' || min(s.n_tokens) || ':' || max(s.n_tokens) || ':' || count(*) FROM samples s "
            "JOIN results r ON s.result_id = r.id GROUP BY r.scenario ORDER BY r.scenario");
        ASSERT_EQ(q.rows.size(), 2u);
        EXPECT_EQ(q.rows[0][0].value_or(""), "pp:16:16:80");
        EXPECT_EQ(q.rows[1][0].value_or(""), "tg:8:8:80");
        // The plant: the second run's samples become the first run's, 25% longer, so tokens/s is 20% lower.
        d.exec("UPDATE samples SET duration_ns = CAST(b.duration_ns * 1.25 AS BIGINT) "
               "FROM results rc, results rb, samples b "
               "WHERE samples.result_id = rc.id AND rc.run_id = " + store::sql_quote(runs[1]) +
               " AND rb.run_id = " + store::sql_quote(runs[0]) +
               " AND rb.scenario = rc.scenario AND b.result_id = rb.id AND b.seq = samples.seq");
    }
    const auto r = test::run_accel(
        {"db", "compare", "--db", db.string(), "--baseline", "base", "--candidate", "slow", "--format", "csv"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // header, pp, tg
    size_t regressions = 0;
    for (size_t at = r.out.find(",-20.00,"); at != std::string::npos; at = r.out.find(",-20.00,", at + 1)) ++regressions;
    EXPECT_EQ(regressions, 2u) << r.out;
    EXPECT_NE(r.out.find("REGRESSION"), std::string::npos) << r.out;
}

// An empty comparison is an error (exit 2 with the reason), never a pass: here the two runs share no point.
TEST(RunRecorder, DbCompareOfNothingIsAnError) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const fs::path db = dir / "r.duckdb";
    const bench::RunProvenance prov = bench::read_run_provenance();
    const bench::PointOptions opts{.rules = {.n_warmup = 0, .n_min_reps = 3}};
    for (const auto& [tag, n_prompt] : {std::pair{"a", 8}, std::pair{"b", 12}}) {
        auto rec = bench::RunRecorder::begin(db, "accel bench (test)", {tag}, prov);
        const auto r = bench::run_point({.model = stories.string(), .n_prompt = n_prompt, .n_threads = 1}, opts);
        ASSERT_TRUE(r.ok) << r.failure_reason;
        rec.add(r);
        rec.finish(store::RunStatus::complete);
    }
    const auto r = test::run_accel({"db", "compare", "--db", db.string(), "--baseline", "a", "--candidate", "b"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("nothing compared: no point of --baseline 'a' has a matching --candidate 'b' point"),
              std::string::npos)
        << r.err;
}

}  // namespace
