#include <cstdlib>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/pool/pool_config.h"
#include "test_support.h"

namespace {

using namespace accel;

TEST(PoolConfig, ParseBytes) {
    EXPECT_EQ(pool::parse_bytes("512MiB"), 512ull << 20);
    EXPECT_EQ(pool::parse_bytes("2GiB"), 2ull << 30);
    EXPECT_EQ(pool::parse_bytes("1.5GB"), 1'500'000'000ull);
    EXPECT_EQ(pool::parse_bytes("100M"), 100ull << 20);
    EXPECT_EQ(pool::parse_bytes("42"), 42ull);
    EXPECT_FALSE(pool::parse_bytes("lots").has_value());
    EXPECT_FALSE(pool::parse_bytes("-1GiB").has_value());
    EXPECT_FALSE(pool::parse_bytes("5 parsecs").has_value());
}

TEST(PoolConfig, MissingFileGivesDefaults) {
    const auto c = pool::load_pool_config("/nonexistent/config.toml");
    EXPECT_EQ(c.fallback, pool::Fallback::allow);
    EXPECT_EQ(c.keep_alive, std::chrono::minutes(5));
}

TEST(PoolConfig, ReadsTomlThenEnvironmentOverrides) {
    test::TempDir dir;
    test::write_file(dir / "c.toml", R"([pool]
margin = "1GiB"
margin_fraction = 0.1
keep_alive_s = 30
fallback = "forbid"
max_loaded = 3
queue_size = 5
low_memory = "on"

[pool.budget]
cpu = "8GiB"
cuda0 = "20GiB"
)");
    unsetenv("ACCEL_POOL_FALLBACK");
    auto c = pool::load_pool_config(dir / "c.toml");
    EXPECT_EQ(c.margin_bytes, 1ull << 30);
    EXPECT_DOUBLE_EQ(c.margin_fraction, 0.1);
    EXPECT_EQ(c.keep_alive, std::chrono::seconds(30));
    EXPECT_EQ(c.fallback, pool::Fallback::forbid);
    EXPECT_EQ(c.max_loaded, 3u);
    EXPECT_EQ(c.queue_size, 5u);
    EXPECT_EQ(c.low_memory, pool::LowMemoryMode::on);
    EXPECT_EQ(c.budget_bytes.at("cpu"), 8ull << 30);
    EXPECT_EQ(c.budget_bytes.at("cuda0"), 20ull << 30);

    setenv("ACCEL_POOL_FALLBACK", "wait", 1);
    setenv("ACCEL_POOL_BUDGET_CPU", "2GiB", 1);
    setenv("ACCEL_POOL_KEEP_ALIVE_S", "-1", 1);
    c = pool::load_pool_config(dir / "c.toml");
    EXPECT_EQ(c.fallback, pool::Fallback::wait);
    EXPECT_EQ(c.budget_bytes.at("cpu"), 2ull << 30);
    EXPECT_LT(c.keep_alive.count(), 0);
    unsetenv("ACCEL_POOL_FALLBACK");
    unsetenv("ACCEL_POOL_BUDGET_CPU");
    unsetenv("ACCEL_POOL_KEEP_ALIVE_S");
}

TEST(PoolConfig, MalformedFileNamesFileLineAndKey) {
    test::TempDir dir;
    test::write_file(dir / "bad.toml", "[pool]\nmargin = \"lots\"\n");
    try {
        pool::load_pool_config(dir / "bad.toml");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
        const std::string m = e.what();
        EXPECT_NE(m.find("bad.toml:2: pool.margin"), std::string::npos) << m;
    }
    test::write_file(dir / "syntax.toml", "[pool\nmargin = 1\n");
    EXPECT_THROW(pool::load_pool_config(dir / "syntax.toml"), Error);
    test::write_file(dir / "policy.toml", "[pool]\nfallback = \"sometimes\"\n");
    EXPECT_THROW(pool::load_pool_config(dir / "policy.toml"), Error);
}

}  // namespace
