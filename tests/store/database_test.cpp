#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/store/database.h"
#include "test_support.h"

namespace {

TEST(Database, RoundTripSurvivesReopen) {
    accel::test::TempDir dir;
    const auto path = dir / "sub" / "r.duckdb";
    {
        auto db = accel::store::Database::open(path);
        db.query(
            "CREATE TABLE t(id INTEGER, name VARCHAR, x DOUBLE); INSERT INTO t VALUES (1, 'a', 0.5), (2, NULL, 2)");
    }
    auto db = accel::store::Database::open(path);
    const auto r = db.query("SELECT id, name, x FROM t ORDER BY id");
    ASSERT_EQ(r.columns, (std::vector<std::string>{"id", "name", "x"}));
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0][0], "1");
    EXPECT_EQ(r.rows[0][1], "a");
    EXPECT_EQ(r.rows[0][2], "0.5");
    EXPECT_FALSE(r.rows[1][1].has_value());
    EXPECT_EQ(r.column_kinds[0], accel::store::ColumnKind::number);
    EXPECT_EQ(r.column_kinds[1], accel::store::ColumnKind::text);
}

TEST(Database, SyntaxErrorIsInvalidInputWithDuckDbMessage) {
    accel::test::TempDir dir;
    auto db = accel::store::Database::open(dir / "r.duckdb");
    try {
        db.query("SELEC 1");
        FAIL() << "expected an error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
    }
}

TEST(Database, VersionIsPinned) {
    EXPECT_EQ(accel::store::duckdb_version(), "v1.4.4");
}

}  // namespace

namespace {

TEST(Registry, OneInstancePerCanonicalPath) {
    accel::test::TempDir dir;
    std::filesystem::create_directories(dir / "sub");
    std::filesystem::create_directory_symlink(dir / "sub", dir / "link");
    ASSERT_EQ(accel::store::open_instance_count(), 0u);
    {
        auto a = accel::store::Database::open(dir / "sub" / "r.duckdb");
        auto b = accel::store::Database::open(dir / "link" / ".." / "sub" / "." / "r.duckdb");
        auto c = accel::store::Database::open(dir / "link" / "r.duckdb");
        EXPECT_EQ(accel::store::open_instance_count(), 1u);
        a.exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (42)");
        EXPECT_EQ(c.query("SELECT x FROM t").rows[0][0], "42");
        auto other = accel::store::Database::open(dir / "other.duckdb");
        EXPECT_EQ(accel::store::open_instance_count(), 2u);
        // While this process holds the file, another process cannot open it: a clear busy error, exit 1.
        const auto r = accel::test::run_accel({"db", "query", "--db", (dir / "sub" / "r.duckdb").string(), "SELECT 1"});
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("in use by another process"), std::string::npos) << r.err;
    }
    EXPECT_EQ(accel::store::open_instance_count(), 0u);
    const auto r = accel::test::run_accel(
        {"db", "query", "--db", (dir / "sub" / "r.duckdb").string(), "--format", "csv", "SELECT x FROM t"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "x\n42\n");
}

TEST(Registry, ConcurrentOpensFromThreadsShareOneInstance) {
    accel::test::TempDir dir;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 20; ++k) {
                auto db = accel::store::Database::open(dir / "r.duckdb");
                if (db.query("SELECT count(*) FROM runs").rows.size() == 1) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 160);
    EXPECT_EQ(accel::store::open_instance_count(), 0u);
}

}  // namespace
