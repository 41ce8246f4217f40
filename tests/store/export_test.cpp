#include <gtest/gtest.h>

#include "accel/store/database.h"
#include "accel/store/exporter.h"
#include "accel/store/result_writer.h"
#include "store_helpers.h"
#include "test_support.h"

namespace {

using namespace accel::store;
using Row = std::vector<std::optional<std::string>>;

void fill(const std::filesystem::path& db, int n) {
    auto w = ResultWriter::begin({.db = db, .spool_dir = db.parent_path() / "spool"}, RunRecord{}, test::test_machine(),
                                 test::test_build());
    w.add_results(test::make_results(n, 3));
    w.finish();
}

TEST(Export, ParquetReadsBackWithEqualCountsAndValues) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    fill(db, 25);
    const auto r = accel::test::run_accel(
        {"db", "export", "--db", db.string(), "--format", "parquet", "--out", (dir / "out").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "exported 25 results to " + (dir / "out").string() + " (parquet)\n");
    EXPECT_TRUE(std::filesystem::is_directory(dir / "out" / "results" / "machine_id=00000000test0001"));
    auto d = Database::open(db);
    const std::string glob = sql_quote((dir / "out" / "results" / "**" / "*.parquet").string());
    const std::string sglob = sql_quote((dir / "out" / "samples" / "**" / "*.parquet").string());
    const auto want = d.query("SELECT count(*), sum(avg_ts), string_agg(id, ',' ORDER BY id) FROM results").rows[0];
    const auto got =
        d.query("SELECT count(*), sum(avg_ts), string_agg(id, ',' ORDER BY id) FROM read_parquet(" + glob + ")")
            .rows[0];
    EXPECT_EQ(got, want);
    EXPECT_EQ(d.query("SELECT count(*), sum(duration_ns) FROM read_parquet(" + sglob + ")").rows[0],
              d.query("SELECT count(*), sum(duration_ns) FROM samples").rows[0]);
}

TEST(Merge, DatabaseFilesAndParquetExportsDeduplicateById) {
    accel::test::TempDir dir;
    fill(dir / "a.duckdb", 10);
    fill(dir / "b.duckdb", 5);
    {
        auto b = Database::open(dir / "b.duckdb");
        export_results(b, {.format = "parquet", .out_dir = dir / "b-export"});
    }
    auto m = Database::open(dir / "m.duckdb");
    auto n = merge_sources(m, {dir / "a.duckdb", dir / "b-export"});
    EXPECT_EQ(n.results, 15);
    EXPECT_EQ(n.samples, 45);
    EXPECT_EQ(n.runs, 2);
    n = merge_sources(m, {dir / "a.duckdb", dir / "b-export"});
    EXPECT_EQ(n.results, 0);
    EXPECT_EQ(n.skipped_results, 15);
    EXPECT_EQ(m.query("SELECT count(*) FROM results").rows[0][0], "15");
    EXPECT_EQ(m.query("SELECT count(*) FROM samples").rows[0][0], "45");
    EXPECT_EQ(m.query("SELECT count(*) FROM machines").rows[0][0], "1");
}

}  // namespace

namespace {

TEST(Merge, IntoItselfIsInvalidInput) {
    accel::test::TempDir dir;
    fill(dir / "a.duckdb", 1);
    const auto r =
        accel::test::run_accel({"db", "merge", "--db", (dir / "a.duckdb").string(), (dir / "a.duckdb").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("into itself"), std::string::npos) << r.err;
}

TEST(Views, LatestAndBestPerPoint) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    {
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, RunRecord{}, test::test_machine(),
                                     test::test_build());
        auto rs = test::make_results(3, 1);
        rs[0].avg_ts = 10;
        rs[0].n_threads = 1;
        rs[0].created_at_ns = 1'000'000'000'000'000'000;
        rs[1].avg_ts = 30;
        rs[1].n_threads = 2;
        rs[1].created_at_ns = 1'000'000'001'000'000'000;
        rs[2].avg_ts = 20;
        rs[2].n_threads = 4;
        rs[2].created_at_ns = 1'000'000'002'000'000'000;
        w.add_results(rs);
        w.finish();
    }
    auto d = Database::open(db);
    EXPECT_EQ(d.query("SELECT n_threads FROM latest_results").rows, (std::vector<Row>{{"4"}}));
    EXPECT_EQ(d.query("SELECT n_threads, avg_ts FROM best_config").rows, (std::vector<Row>{{"2", "30.0"}}));
    EXPECT_EQ(d.query("SELECT count(*) FROM metric_history").rows[0][0], "3");
}

}  // namespace
