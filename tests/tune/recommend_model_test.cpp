// accel recommend --search quick on a real tiny model: it measures, stores every point under one run, reuses stored
// points on the next call, and recommends from what it measured.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/store/database.h"
#include "test_support.h"

namespace {

int64_t count(const std::filesystem::path& db, const std::string& sql) {
    auto d = accel::store::Database::open(db);
    return std::stoll(d.query(sql).rows.at(0).at(0).value_or("-1"));
}

TEST(RecommendModel, QuickSearchMeasuresStoresAndReuses) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    accel::test::TempDir dir;
    const auto db = dir / "results.duckdb";
    const std::vector<std::string> args = {"recommend", "--model", model.string(), "--db", db.string(), "--search",
                                           "quick", "-r", "1", "-n", "4", "--max-points", "2", "--json"};
    const auto first = accel::test::run_accel(args, {}, 120);
    ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
    const auto j = nlohmann::json::parse(first.out);
    const auto& search = j.at("search");
    EXPECT_EQ(search.at("n_measured"), 2);
    EXPECT_EQ(search.at("n_reused"), 0);
    const std::string run = search.at("run_id");
    ASSERT_FALSE(run.empty());
    EXPECT_NE(first.err.find("recommend: run " + run + " stored in " + db.string()), std::string::npos) << first.err;
    // Every measurement is stored under the run: results plus failures, the interleaved re-measurement's too (two
    // rounds of A B / B A when the best is not the default).
    const auto quoted = accel::store::sql_quote(run);
    const auto& check = search.at("gain_check");
    const int64_t n_check = check.is_null() ? 0 : check.at("n_measurements").get<int64_t>();
    if (!check.is_null()) {
        EXPECT_EQ(check.at("n_rounds"), 2) << check.dump();
        EXPECT_EQ(n_check, 4);
        EXPECT_NE(j.at("notes").dump().find("re-measured interleaved with the default"), std::string::npos);
    }
    EXPECT_EQ(count(db, "SELECT count(*) FROM results WHERE run_id = " + quoted) +
                  count(db, "SELECT count(*) FROM failures WHERE run_id = " + quoted),
              2 + n_check);
    EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE id = " + quoted + " AND status = 'complete'"), 1);
    // The default configuration was the start, so the recommendation compares with it.
    ASSERT_FALSE(j.at("default").is_null());
    EXPECT_EQ(j.at("default").at("config").at("n_threads"), 0);
    EXPECT_GT(j.at("default").at("tokens_per_s").get<double>(), 0);
    EXPECT_GT(j.at("default").at("memory_bytes").get<double>(), 0);
    ASSERT_FALSE(j.at("ranked").empty());
    for (const auto& c : j.at("ranked")) EXPECT_FALSE(c.at("evidence").empty());

    // The second call starts from the best stored point: what is stored is not measured again.
    const auto second = accel::test::run_accel(args, {}, 120);
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const auto j2 = nlohmann::json::parse(second.out);
    EXPECT_GE(j2.at("search").at("n_reused").get<int>(), 1);
    EXPECT_EQ(j2.at("search").at("steps").at(0).at("source"), "stored");
}

}  // namespace
