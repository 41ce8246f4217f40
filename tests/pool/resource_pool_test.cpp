// ResourcePool rules, each tied to a complaint users have about model servers (see docs/pool.md).
#include <future>

#include <gtest/gtest.h>

#include "pool_fakes.h"

namespace {

using namespace accel;
using namespace accel::test;
using namespace std::chrono_literals;

struct PoolFixture : ::testing::Test {
    FakeLoader loader;
    FakeMonitor monitor;
    FakeClock clock;
    ModelFiles files;
    pool::PoolConfig config;

    PoolFixture() {
        monitor.total = {{"cpu", 1000 * MiB}, {"cuda0", 1000 * MiB}};
        config.margin_bytes = 0;
        config.margin_fraction = 0;
        config.budget_bytes = {{"cpu", 300 * MiB}, {"cuda0", 300 * MiB}};
        config.keep_alive = 60s;
        config.low_memory = pool::LowMemoryMode::off;
        config.unload_wait = 50ms;
    }

    std::filesystem::path model(const std::string& name, uint64_t mib) {
        loader.size[name] = mib * MiB;
        return files.make(name);
    }

    pool::Request req(const std::filesystem::path& m, std::vector<std::string> devices = {"cpu"}) {
        return pool::Request{.model = m, .devices = std::move(devices), .wait_timeout = 2000ms};
    }

    static std::vector<std::string> resident(const pool::PoolStats& s) {
        std::vector<std::string> out;
        for (const auto& e : s.entries) out.push_back(std::filesystem::path(e.model).filename().string() + "@" + e.device);
        std::sort(out.begin(), out.end());
        return out;
    }

    static uint64_t used(const pool::PoolStats& s, const std::string& dev) {
        for (const auto& d : s.devices) {
            if (d.device == dev) return d.used_bytes;
        }
        return 0;
    }
};

TEST_F(PoolFixture, SecondAcquireIsAHitWithoutReload) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 100);
    {
        auto lease = p.acquire(req(a));
        EXPECT_FALSE(lease.hit());
        EXPECT_EQ(lease.device(), "cpu");
    }
    auto lease = p.acquire(req(a));
    EXPECT_TRUE(lease.hit());
    EXPECT_EQ(loader.loads, 1);
    EXPECT_EQ(p.stats().entries.at(0).hits, 1u);
}

TEST_F(PoolFixture, ThreadsAreNotPartOfTheKey) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 100);
    auto r = req(a);
    r.n_threads = 4;
    p.acquire(r).release();
    r.n_threads = 1;
    EXPECT_TRUE(p.acquire(r).hit());
    EXPECT_EQ(loader.loads.load(), 1);
}

TEST_F(PoolFixture, SessionNeedsAnEngineModel) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto lease = p.acquire(req(model("a.gguf", 100)));
    try {
        (void)lease.session();
        FAIL() << "a fake resident has no engine session";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::internal);
    }
    EXPECT_THROW((void)pool::Lease{}.session(), Error);
}

TEST_F(PoolFixture, LargerResidentContextServesSmallerRequest) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 50);
    auto r = req(a);
    r.options.n_ctx = 4096;
    p.acquire(r).release();
    r.options.n_ctx = 2048;
    EXPECT_TRUE(p.acquire(r).hit());
    r.options.n_ctx = 8192;
    EXPECT_FALSE(p.acquire(r).hit());
    EXPECT_EQ(loader.loads, 2);
    r.options.type_k = accel::model::KvType::q8_0;  // a different KV type is a different memory footprint: a new entry
    EXPECT_FALSE(p.acquire(r).hit());
}

TEST_F(PoolFixture, SameModelMayLiveOnTwoDevices) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 100);
    auto l1 = p.acquire(req(a, {"cpu"}));
    auto l2 = p.acquire(req(a, {"cuda0"}));
    EXPECT_EQ(resident(p.stats()), (std::vector<std::string>{"a.gguf@cpu", "a.gguf@cuda0"}));
}

TEST_F(PoolFixture, EvictsLeastRecentlyUsedIdleModelsInOnePass) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 100), b = model("b.gguf", 100), c = model("c.gguf", 100), d = model("d.gguf", 150);
    for (const auto& m : {a, b, c}) {
        p.acquire(req(m)).release();
        clock.advance(1s);
    }
    auto lease = p.acquire(req(d));
    EXPECT_EQ(resident(p.stats()), (std::vector<std::string>{"c.gguf@cpu", "d.gguf@cpu"}));
    EXPECT_EQ(p.stats().evictions_lru, 2u);
    EXPECT_EQ(used(p.stats(), "cpu"), 250 * MiB);
    EXPECT_EQ(loader.live, 2);
}

TEST_F(PoolFixture, EvictionWeighsBytesFreed) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto small = model("small.gguf", 20), big = model("big.gguf", 200), d = model("d.gguf", 150);
    p.acquire(req(small)).release();  // older, but frees little
    clock.advance(1s);
    p.acquire(req(big)).release();
    clock.advance(1s);
    auto lease = p.acquire(req(d));
    EXPECT_EQ(resident(p.stats()), (std::vector<std::string>{"d.gguf@cpu", "small.gguf@cpu"}));
}

TEST_F(PoolFixture, LeasedModelIsNeverEvicted) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 200), b = model("b.gguf", 200);
    auto held = p.acquire(req(a));
    auto r = req(b);
    r.fallback = pool::Fallback::forbid;
    try {
        p.acquire(r);
        FAIL() << "expected out of memory";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::out_of_memory);
        const std::string msg = e.what();
        // A refusal names the budget, the need, and what holds the memory.
        EXPECT_NE(msg.find("needs 200.0 MiB"), std::string::npos) << msg;
        EXPECT_NE(msg.find("300.0 MiB budget"), std::string::npos) << msg;
        EXPECT_NE(msg.find("a.gguf (200.0 MiB, leased)"), std::string::npos) << msg;
    }
    EXPECT_EQ(resident(p.stats()), (std::vector<std::string>{"a.gguf@cpu"}));
    EXPECT_EQ(loader.live, 1);
}

TEST_F(PoolFixture, KeepAliveStartsAtLastRelease) {
    config.keep_alive = 1000ms;
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10);
    auto l1 = p.acquire(req(a));
    auto l2 = p.acquire(req(a));
    l1.release();
    clock.advance(5s);  // still leased: no timer yet
    p.collect();
    EXPECT_EQ(p.stats().entries.size(), 1u);
    l2.release();
    clock.advance(999ms);
    p.collect();
    EXPECT_EQ(p.stats().entries.size(), 1u);
    clock.advance(2ms);
    p.collect();
    EXPECT_TRUE(p.stats().entries.empty());
    EXPECT_EQ(p.stats().evictions_ttl, 1u);
}

TEST_F(PoolFixture, ZeroKeepAliveUnloadsWhenIdleAndNegativePins) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10), b = model("b.gguf", 10);
    auto r = req(a);
    r.keep_alive = 0ms;
    p.acquire(r).release();
    EXPECT_TRUE(p.stats().entries.empty());
    auto rb = req(b);
    rb.keep_alive = -1ms;
    p.acquire(rb).release();
    clock.advance(std::chrono::hours(24 * 365));
    p.collect();
    ASSERT_EQ(p.stats().entries.size(), 1u);
    EXPECT_TRUE(p.stats().entries[0].pinned);
    EXPECT_TRUE(p.pin(b, false));
    clock.advance(61s);
    p.collect();
    EXPECT_TRUE(p.stats().entries.empty());
}

TEST_F(PoolFixture, PinnedModelsAreEvictedLast) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 100), b = model("b.gguf", 100), c = model("c.gguf", 100), d = model("d.gguf", 100);
    p.acquire(req(a)).release();
    ASSERT_TRUE(p.pin(a, true));
    clock.advance(1s);
    p.acquire(req(b)).release();
    clock.advance(1s);
    p.acquire(req(c)).release();
    auto lease = p.acquire(req(d));
    EXPECT_EQ(resident(p.stats()), (std::vector<std::string>{"a.gguf@cpu", "c.gguf@cpu", "d.gguf@cpu"}));
}

TEST_F(PoolFixture, FallbackAllowMovesToNextDeviceAndSaysSo) {
    config.budget_bytes["cuda0"] = 50 * MiB;
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 100);
    auto lease = p.acquire(req(a, {"cuda0", "cpu"}));
    EXPECT_EQ(lease.device(), "cpu");
    std::string all;
    for (const auto& r : lease.reasons()) all += r + "\n";
    EXPECT_NE(all.find("does not fit cuda0"), std::string::npos) << all;
    EXPECT_NE(all.find("fallback: placed on cpu"), std::string::npos) << all;
}

TEST_F(PoolFixture, FallbackForbidFails) {
    config.budget_bytes["cuda0"] = 50 * MiB;
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto r = req(model("a.gguf", 100), {"cuda0", "cpu"});
    r.fallback = pool::Fallback::forbid;
    EXPECT_THROW(p.acquire(r), Error);
    EXPECT_EQ(loader.loads, 0);
}

TEST_F(PoolFixture, FallbackWaitQueuesUntilRoom) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 200), b = model("b.gguf", 200);
    auto held = p.acquire(req(a, {"cuda0"}));
    auto r = req(b, {"cuda0", "cpu"});
    r.fallback = pool::Fallback::wait;
    auto fut = std::async(std::launch::async, [&] { return p.acquire(r).device(); });
    EXPECT_EQ(fut.wait_for(200ms), std::future_status::timeout);  // waiting, not falling back to cpu
    held.release();  // a becomes idle and evictable
    EXPECT_EQ(fut.get(), "cuda0");
}

TEST_F(PoolFixture, DriverFreeMemoryLimitsPlacement) {
    monitor.driver_free["cuda0"] = 80 * MiB;  // another process uses the GPU
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto lease = p.acquire(req(model("a.gguf", 100), {"cuda0", "cpu"}));
    EXPECT_EQ(lease.device(), "cpu");
    const auto s = p.stats();
    for (const auto& d : s.devices) {
        if (d.device == "cuda0") {
            EXPECT_EQ(d.free_bytes, 80 * MiB);
        }
    }
}

TEST_F(PoolFixture, CountLimitEvictsUnderTheSameLock) {
    config.max_loaded = 2;
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 1), b = model("b.gguf", 1), c = model("c.gguf", 1);
    p.acquire(req(a)).release();
    clock.advance(1s);
    p.acquire(req(b)).release();
    auto lease = p.acquire(req(c));
    EXPECT_EQ(resident(p.stats()), (std::vector<std::string>{"b.gguf@cpu", "c.gguf@cpu"}));
}

TEST_F(PoolFixture, MeasuredBytesReplaceTheEstimate) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 100);
    loader.measured_size["a.gguf"] = 120 * MiB;
    auto lease = p.acquire(req(a));
    EXPECT_EQ(used(p.stats(), "cpu"), 120 * MiB);
}

TEST_F(PoolFixture, FailedLoadLeavesPoolConsistentAndIsNotCached) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto bad = model("bad.gguf", 10), good = model("good.gguf", 10);
    loader.fail.insert("bad.gguf");
    EXPECT_THROW(p.acquire(req(bad)), Error);
    EXPECT_THROW(p.acquire(req(bad)), Error);
    EXPECT_EQ(loader.loads, 2);  // not cached as success, nor as failure
    EXPECT_EQ(p.stats().load_failures, 2u);
    EXPECT_TRUE(p.stats().entries.empty());
    EXPECT_EQ(used(p.stats(), "cpu"), 0u);
    auto lease = p.acquire(req(good));
    EXPECT_TRUE(lease);
}

TEST_F(PoolFixture, MissingModelIsInvalidInput) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    try {
        p.acquire(req(files.dir / "nope.gguf"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("nope.gguf"), std::string::npos);
    }
}

TEST_F(PoolFixture, FirstOutOfMemoryIsRetriedAfterEvictingIdle) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10), b = model("b.gguf", 10);
    p.acquire(req(a)).release();
    loader.oom_once.insert("b.gguf");
    auto lease = p.acquire(req(b));
    EXPECT_TRUE(lease);
    const auto s = p.stats();
    EXPECT_EQ(s.oom_retries, 1u);
    EXPECT_EQ(s.evictions_explicit, 1u);
    EXPECT_EQ(resident(s), (std::vector<std::string>{"b.gguf@cpu"}));
}

TEST_F(PoolFixture, ExplicitUnloadOnlyWhenIdle) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10);
    auto lease = p.acquire(req(a));
    EXPECT_FALSE(p.unload(a));
    lease.release();
    EXPECT_TRUE(p.unload(a));
    EXPECT_EQ(loader.live, 0);
}

TEST_F(PoolFixture, LowMemoryModeKeepsOneIdleModelPerDevice) {
    config.low_memory = pool::LowMemoryMode::auto_;
    config.low_memory_threshold_bytes = 1ull << 30;
    monitor.available = 2ull << 30;
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10), b = model("b.gguf", 10), c = model("c.gguf", 10);
    p.acquire(req(a)).release();
    clock.advance(1s);
    p.acquire(req(b)).release();
    EXPECT_EQ(p.stats().entries.size(), 2u);
    monitor.available = 100 * MiB;
    std::this_thread::sleep_for(1100ms);  // available memory is sampled at most once a second
    clock.advance(1s);
    p.acquire(req(c)).release();
    const auto s = p.stats();
    EXPECT_TRUE(s.low_memory_active);
    EXPECT_EQ(resident(s), (std::vector<std::string>{"c.gguf@cpu"}));
    EXPECT_GE(s.evictions_low_memory, 1u);
}

// ---- behaviour with a slow loader ----

TEST_F(PoolFixture, HitCompletesWhileAnotherModelLoads) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto fast = model("fast.gguf", 10), slow = model("slow.gguf", 10);
    p.acquire(req(fast)).release();
    loader.close_gate();
    auto loading = std::async(std::launch::async, [&] { return p.acquire(req(slow)).device(); });
    while (loader.loads < 2) std::this_thread::sleep_for(1ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto lease = p.acquire(req(fast));
    EXPECT_TRUE(lease.hit());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);  // not blocked behind the load
    EXPECT_EQ(loading.wait_for(0ms), std::future_status::timeout);
    loader.open_gate();
    EXPECT_EQ(loading.get(), "cpu");
}

TEST_F(PoolFixture, ConcurrentRequestsShareOneLoad) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10);
    loader.delay["a.gguf"] = 100ms;
    std::vector<std::future<bool>> futs;
    for (int i = 0; i < 8; ++i) {
        futs.push_back(std::async(std::launch::async, [&] { return static_cast<bool>(p.acquire(req(a))); }));
    }
    for (auto& f : futs) EXPECT_TRUE(f.get());
    EXPECT_EQ(loader.loads, 1);
}

TEST_F(PoolFixture, WaiterGivingUpDoesNotCancelSharedLoad) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10);
    loader.close_gate();
    auto first = std::async(std::launch::async, [&] { return static_cast<bool>(p.acquire(req(a))); });
    while (loader.loads < 1) std::this_thread::sleep_for(1ms);
    auto impatient = req(a);
    impatient.wait_timeout = 50ms;
    try {
        p.acquire(impatient);
        FAIL() << "expected busy";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::busy);
        EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos);
    }
    loader.open_gate();
    EXPECT_TRUE(first.get());
    EXPECT_EQ(loader.loads, 1);
    EXPECT_TRUE(p.acquire(req(a)).hit());
}

TEST_F(PoolFixture, FullWaitQueueAnswersBusyAtOnce) {
    config.queue_size = 1;
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto a = model("a.gguf", 10);
    loader.close_gate();
    auto loader_thread = std::async(std::launch::async, [&] { return static_cast<bool>(p.acquire(req(a))); });
    while (loader.loads < 1) std::this_thread::sleep_for(1ms);
    auto waiter = std::async(std::launch::async, [&] { return static_cast<bool>(p.acquire(req(a))); });
    for (int i = 0; i < 200 && waiter.wait_for(5ms) == std::future_status::timeout; ++i) {
        if (p.stats().busy_rejections > 0) break;
    }
    std::this_thread::sleep_for(50ms);  // let the waiter take the only queue slot
    const auto t0 = std::chrono::steady_clock::now();
    try {
        p.acquire(req(a));
        FAIL() << "expected busy";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::busy);
        EXPECT_NE(std::string(e.what()).find("busy"), std::string::npos);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
    loader.open_gate();
    EXPECT_TRUE(loader_thread.get());
    EXPECT_TRUE(waiter.get());
}

TEST_F(PoolFixture, FailedLoadIsReportedToEveryWaiter) {
    pool::ResourcePool p(config, loader, monitor, clock.fn());
    auto bad = model("bad.gguf", 10);
    loader.fail.insert("bad.gguf");
    loader.close_gate();
    std::vector<std::future<std::string>> futs;
    for (int i = 0; i < 4; ++i) {
        futs.push_back(std::async(std::launch::async, [&]() -> std::string {
            try {
                p.acquire(req(bad));
                return "ok";
            } catch (const Error& e) {
                return e.what();
            }
        }));
    }
    // The load fails only once all three others wait on it (a sleep here raced a loaded machine: a late caller
    // found the failed load over and started a second one).
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while ((loader.loads < 1 || p.stats().waiting < 3) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    EXPECT_EQ(p.stats().waiting, 3u);
    loader.open_gate();
    for (auto& f : futs) EXPECT_EQ(f.get(), "corrupt model bad.gguf");
    EXPECT_EQ(loader.loads, 1);
}

}  // namespace
