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
        db.query("CREATE TABLE t(id INTEGER, name VARCHAR, x DOUBLE); INSERT INTO t VALUES (1, 'a', 0.5), (2, NULL, 2)");
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

TEST(Database, VersionIsPinned) { EXPECT_EQ(accel::store::duckdb_version(), "v1.4.4"); }

}  // namespace
