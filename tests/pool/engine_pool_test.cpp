// The pool over the real engine: greedy output unchanged through it, corrupt and missing models rejected
// while the pool stays usable.
#include <algorithm>
#include <thread>

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
        std::string out;
        engine::generate(*lease.session(), prompt, {.n_predict = n}, [&](std::string_view p) {
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

// Whether the weights are mapped is part of the key: a load without mmap is a separate resident model whose
// weights live in buffers llama.cpp allocated (it reads the file), and the same request again is a hit on it.
TEST_F(EnginePool, MmapOffIsItsOwnResidentModel) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto acquire = [&](bool mmap) {
        auto lease = pool.acquire({.model = stories, .devices = {"cpu"}, .options = {.n_ctx = 256, .use_mmap = mmap}});
        return lease.hit();
    };
    EXPECT_FALSE(acquire(true));
    EXPECT_FALSE(acquire(false));  // not served by the mapped one
    EXPECT_TRUE(acquire(false));
    EXPECT_TRUE(acquire(true));
    ASSERT_EQ(pool.stats().entries.size(), 2u);
    EXPECT_NE(pool.stats().entries[0].options.use_mmap, pool.stats().entries[1].options.use_mmap);
}

// Threads belong to the lease, not to the cached session: each acquire of the same resident model gets its own
// count, and a lease that asks for none gets the default (one per logical core), not the previous caller's.
TEST_F(EnginePool, EachLeaseGetsItsOwnThreadCount) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto threads_of = [&](int32_t n_threads) {
        auto lease = pool.acquire({.model = stories, .devices = {"cpu"}, .options = {.n_ctx = 256},
                                   .n_threads = n_threads});
        return lease.session()->n_threads();
    };
    const auto all_cores = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    EXPECT_EQ(threads_of(3), 3);
    EXPECT_EQ(threads_of(1), 1);
    EXPECT_EQ(threads_of(0), all_cores);
    EXPECT_EQ(threads_of(2), 2);
    ASSERT_EQ(pool.stats().entries.size(), 1u);
    EXPECT_EQ(pool.stats().entries.at(0).hits, 3u);  // one session, reused by every lease
}

TEST_F(EnginePool, LeaseExposesModelAndPlacement) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    auto lease = pool.acquire({.model = stories, .devices = {"cpu"}, .options = {.n_ctx = 256}});
    const pool::SessionGuard guard = lease.session();
    EXPECT_EQ(guard.model().architecture(), "llama");
    EXPECT_EQ(&guard->model(), &guard.model());
    EXPECT_EQ(guard.placement().device, "cpu");
    EXPECT_EQ(guard.placement().n_gpu_layers, 0);
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
