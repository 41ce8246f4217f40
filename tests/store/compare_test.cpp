#include <random>

#include <gtest/gtest.h>

#include "accel/store/compare.h"
#include "accel/store/database.h"
#include "accel/store/result_writer.h"
#include "store_helpers.h"
#include "test_support.h"

namespace {

using namespace accel::store;

// One run tagged `tag` with two points (pp and tg), 20 samples each, durations ~N(base * slowdown, 3%).
void write_run(const std::filesystem::path& db, const std::string& tag, double slowdown, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(1.0, 0.03);
    auto w = ResultWriter::begin({.db = db, .spool_dir = db.parent_path() / "spool"}, RunRecord{.tags = {tag}},
                                 test::test_machine(), test::test_build());
    auto results = test::make_results(2, 0);
    results[1].scenario = "tg";
    results[1].n_prompt = 0;
    results[1].n_gen = 16;
    for (auto& r : results) {
        const int32_t tokens = r.scenario == "pp" ? 64 : 16;
        for (int s = 0; s < 20; ++s) {
            const double d = 1e6 * slowdown * noise(rng);
            r.samples.push_back(SampleRecord{.seq = s, .duration_ns = static_cast<int64_t>(d), .n_tokens = tokens});
        }
    }
    w.add_results(results);
    w.finish();
}

TEST(Compare, MannWhitneyKnownValues) {
    // Fully separated samples of 5 and 5: exact two-sided p = 2/252 = 0.0079; the normal approximation gives 0.0122.
    EXPECT_NEAR(mann_whitney_p({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}), 0.0122, 0.001);
    EXPECT_NEAR(mann_whitney_p({1, 2, 3}, {1, 2, 3}), 1.0, 1e-9);
}

TEST(Compare, DetectsPlantedTenPercentSlowdown) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    write_run(db, "base", 1.0, 1);
    write_run(db, "slow", 1.10, 2);
    const auto r = accel::test::run_accel(
        {"db", "compare", "--db", db.string(), "--baseline", "base", "--candidate", "slow", "--format", "markdown"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("2 regression(s), 0 improvement(s) in 2 point(s)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Mann-Whitney U"), std::string::npos);
    EXPECT_NE(r.out.find("| REGRESSION |"), std::string::npos) << r.out;
    // The other way round it is an improvement, and the exit code is 0.
    const auto back = accel::test::run_accel(
        {"db", "compare", "--db", db.string(), "--baseline", "slow", "--candidate", "base", "--json"});
    EXPECT_EQ(back.exit_code, 0) << back.err;
    EXPECT_NE(back.out.find("\"n_improvements\": 2"), std::string::npos) << back.out;
}

TEST(Compare, SameDistributionReportsNothing) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    write_run(db, "a", 1.0, 11);
    write_run(db, "b", 1.0, 12);
    auto d = Database::open(db);
    const auto rep = compare_runs(d, {.baseline = "a", .candidate = "b"});
    EXPECT_EQ(rep.n_regressions, 0u);
    EXPECT_EQ(rep.n_improvements, 0u);
    ASSERT_EQ(rep.points.size(), 2u);
    for (const auto& p : rep.points) EXPECT_EQ(p.verdict, Verdict::same);
}

// Embed points that differ only in texts per call (kept in extra.spec) are two points, never one pooled sample set:
// here batch 8 got 30% slower per call while batch 1 did not.
TEST(Compare, EmbedBatchSizesAreSeparatePoints) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    for (const auto& [tag, slow8] : {std::pair<std::string, double>{"a", 1.0}, {"b", 1.3}}) {
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, RunRecord{.tags = {tag}},
                                     test::test_machine(), test::test_build());
        auto results = test::make_results(2, 0);
        for (size_t i = 0; i < results.size(); ++i) {
            auto& r = results[i];
            const int batch = i == 0 ? 1 : 8;
            r.scenario = "embed";
            r.n_gen = 0;
            r.extra_json = "{\"spec\": {\"embed_batch\": " + std::to_string(batch) + "}}";
            for (int s = 0; s < 20; ++s) {
                const double d = (batch == 1 ? 1e6 : 5e6 * slow8) * (1.0 + 0.001 * s);
                r.samples.push_back(SampleRecord{.seq = s, .duration_ns = static_cast<int64_t>(d), .n_tokens = 64});
            }
        }
        w.add_results(results);
        w.finish();
    }
    auto d = Database::open(db);
    const auto rep = compare_runs(d, {.baseline = "a", .candidate = "b"});
    ASSERT_EQ(rep.points.size(), 2u);
    EXPECT_EQ(rep.n_regressions, 1u);
    for (const auto& p : rep.points) {
        const bool b8 = p.params.find("texts=8") != std::string::npos;
        EXPECT_TRUE(b8 || p.params.find("texts=1") != std::string::npos) << p.params;
        EXPECT_EQ(p.verdict, b8 ? Verdict::regression : Verdict::same) << p.params;
    }
}

TEST(Compare, UnknownRunIsInvalidInput) {
    accel::test::TempDir dir;
    const auto r = accel::test::run_accel(
        {"db", "compare", "--db", (dir / "r.duckdb").string(), "--baseline", "nope", "--candidate", "nope2"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--baseline 'nope' matches no run id or tag"), std::string::npos) << r.err;
}

}  // namespace
