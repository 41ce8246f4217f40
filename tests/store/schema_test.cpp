#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/store/database.h"
#include "accel/store/schema.h"
#include "test_support.h"

namespace {

using namespace accel::store;

TEST(Schema, NewDatabaseIsAtLatestVersion) {
    accel::test::TempDir dir;
    auto db = Database::open(dir / "r.duckdb");
    EXPECT_EQ(schema_version(db), schema_version_latest);
    EXPECT_EQ(db.query("SELECT string_agg(version::VARCHAR, ',' ORDER BY version) FROM schema_version").rows[0][0],
              "1,2,3");
}

TEST(Schema, V1FileIsUpgradedWithoutLosingRows) {
    accel::test::TempDir dir;
    const auto path = dir / "v1.duckdb";
    {
        auto db = Database::open(path, OpenOptions{.migrate = false});
        migrate(db, 1);
        ASSERT_EQ(schema_version(db), 1);
        db.exec("INSERT INTO runs (id, command, status, source) VALUES ('run-1', 'old accel', 'complete', 'accel')");
        db.exec(
            "INSERT INTO results (id, run_id, model_name, scenario, device, n_prompt, avg_ts, valid, created_at) "
            "VALUES ('res-1', 'run-1', 'tiny', 'pp', 'cpu', 64, 123.5, true, now())");
        db.exec("INSERT INTO samples VALUES ('res-1', 0, 1000, 64)");
        EXPECT_THROW(db.query("SELECT * FROM latest_results"), accel::Error);
    }
    auto db = Database::open(path);
    EXPECT_EQ(schema_version(db), schema_version_latest);
    EXPECT_EQ(db.query("SELECT id, avg_ts FROM latest_results").rows[0],
              (std::vector<std::optional<std::string>>{"res-1", "123.5"}));
    EXPECT_EQ(db.query("SELECT count(*) FROM samples").rows[0][0], "1");
    EXPECT_EQ(db.query("SELECT pid_start_ticks FROM runs").rows[0][0], std::nullopt);
    EXPECT_EQ(db.query("SELECT count(*) FROM best_config").rows[0][0], "1");
    EXPECT_EQ(db.query("SELECT status, n FROM compatibility").rows[0],
              (std::vector<std::optional<std::string>>{"ok", "1"}));
}

TEST(Schema, NewerFileIsRefused) {
    accel::test::TempDir dir;
    const auto path = dir / "future.duckdb";
    {
        auto db = Database::open(path);
        db.exec("INSERT INTO schema_version VALUES (99, now())");
    }
    try {
        Database::open(path);
        FAIL() << "expected an error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
    }
}

}  // namespace
