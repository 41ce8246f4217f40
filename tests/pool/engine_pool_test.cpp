// The pool over the real engine: greedy output unchanged through it, corrupt and missing models rejected
// while the pool stays usable.
#include <mutex>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/engine/generator.h"
#include "accel/hw/device.h"
#include "accel/pool/engine_loader.h"
#include "accel/pool/resource_pool.h"
#include "test_support.h"

namespace {

using namespace accel;

struct EnginePool : ::testing::Test {
    std::vector<hw::Device> devices = hw::ggml_devices();
    pool::EngineLoader loader{devices};
    pool::SystemMonitor monitor{devices};
    pool::ResourcePool pool{pool::PoolConfig{}, loader, monitor};

    std::string greedy(const std::filesystem::path& model, const std::string& prompt, int n) {
        auto lease = pool.acquire({.model = model, .devices = {"cpu"}, .options = {.n_ctx = 256}});
        auto& res = static_cast<pool::EngineResident&>(lease.resident());
        std::lock_guard use(res.use);
        std::string out;
        engine::generate(*res.session, prompt, {.n_predict = n}, [&](std::string_view p) {
            out += p;
            return true;
        });
        return out;
    }
};

TEST_F(EnginePool, GreedyOutputUnchangedThroughThePool) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const std::string expected =
        ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red "
        "ball. She wanted to play with it,";
    EXPECT_EQ(greedy(stories, "Once upon a time", 48), expected);
    EXPECT_EQ(greedy(stories, "Once upon a time", 48), expected);  // a hit reuses the context: memory is cleared
    EXPECT_EQ(pool.stats().entries.at(0).hits, 1u);
    EXPECT_GT(pool.stats().entries.at(0).bytes.at("cpu"), 0u);
}

TEST_F(EnginePool, CorruptAndMissingModelsLeaveThePoolUsable) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const std::string bytes = test::read_file(stories);
    test::write_file(dir / "corrupt.gguf", bytes.substr(0, bytes.size() / 2));
    EXPECT_THROW(pool.acquire({.model = dir / "corrupt.gguf", .devices = {"cpu"}}), Error);
    EXPECT_THROW(pool.acquire({.model = dir / "missing.gguf", .devices = {"cpu"}}), Error);
    EXPECT_TRUE(pool.stats().entries.empty());
    EXPECT_EQ(greedy(stories, "Once upon a time", 4), ", there was a");
}

}  // namespace
