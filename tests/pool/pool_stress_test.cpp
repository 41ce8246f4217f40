// 16 threads, thousands of acquire/release calls across 3 models with a budget that fits 2.
// Run under the tsan preset (make test-tsan) for data races; the invariants are checked in every build.
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "pool_fakes.h"

namespace {

using namespace accel;
using namespace accel::test;
using namespace std::chrono_literals;

TEST(PoolStress, SixteenThreadsThreeModelsBudgetForTwo) {
    FakeLoader loader;
    FakeMonitor monitor;
    monitor.total = {{"cpu", 1000 * MiB}};
    ModelFiles files;
    std::vector<std::filesystem::path> models;
    for (const char* name : {"a.gguf", "b.gguf", "c.gguf"}) {
        loader.size[name] = 100 * MiB;
        models.push_back(files.make(name));
    }
    pool::PoolConfig config;
    config.margin_bytes = 0;
    config.margin_fraction = 0;
    config.budget_bytes = {{"cpu", 200 * MiB}};
    config.keep_alive = 0ms;  // maximum churn: unload whenever idle
    config.queue_size = 64;
    config.low_memory = pool::LowMemoryMode::off;
    pool::ResourcePool p(config, loader, monitor);

    std::atomic<int> ok{0}, busy{0}, oom{0}, dead_lease{0};
    std::atomic<bool> accounting_broken{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<uint32_t>(t));
            for (int i = 0; i < 300; ++i) {
                const auto& m = models[rng() % models.size()];
                try {
                    pool::Request r{.model = m, .devices = {"cpu"}, .fallback = pool::Fallback::wait,
                                    .wait_timeout = 5000ms};
                    auto lease = p.acquire(r);
                    auto& res = static_cast<FakeResident&>(lease.resident());
                    if (!res.alive || res.name != m.filename().string()) ++dead_lease;
                    ++ok;
                } catch (const Error& e) {
                    (e.kind() == ErrorKind::busy ? busy : oom)++;
                }
                if (i % 16 == 0) {
                    // Accounting equals the sum of the entries' bytes, and never exceeds the budget.
                    const auto s = p.stats();
                    uint64_t sum = 0;
                    for (const auto& e : s.entries) sum += e.bytes.at("cpu");
                    if (sum != s.devices.at(0).used_bytes || sum > 200 * MiB) accounting_broken = true;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok + busy + oom, 16 * 300);
    EXPECT_GT(ok, 16 * 300 * 9 / 10);
    EXPECT_EQ(oom, 0);
    EXPECT_EQ(dead_lease, 0);
    EXPECT_FALSE(accounting_broken);
    const auto s = p.stats();
    EXPECT_TRUE(s.entries.empty());  // keep-alive 0: everything unloaded once idle
    EXPECT_EQ(loader.live, 0);       // no leak
    EXPECT_EQ(s.devices.at(0).used_bytes, 0u);
    EXPECT_EQ(s.load_failures, 0u);
}

}  // namespace
