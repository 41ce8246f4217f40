// bench/target.h: the engine-neutral Target<Input> and its batch-throughput scenario, on a fake target whose work
// takes a known time, so that the figures are checked against values computed here.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "accel/bench/target.h"

namespace {

using namespace std::chrono_literals;

// An "image" target: each call sleeps 2 ms and reports the images it got and 16 tokens per image.
struct FakeImage {
    int id = 0;
};

class FakeImageTarget : public accel::bench::Target<FakeImage> {
public:
    std::string_view name() const override { return "fake"; }
    std::string_view kind() const override { return "image"; }
    accel::bench::WorkDone run(std::span<const FakeImage> inputs) override {
        ++calls;
        std::this_thread::sleep_for(2ms);
        return {.n_items = static_cast<int64_t>(inputs.size()), .n_tokens = 16 * static_cast<int64_t>(inputs.size())};
    }
    int calls = 0;
};

TEST(Target, RunBatchesWarmsUpThenTimesUntilTheRulesAreMet) {
    FakeImageTarget target;
    const std::vector<FakeImage> batch(4);
    const accel::bench::RunRules rules{.n_warmup = 2, .n_min_reps = 5, .n_max_reps = 50};
    const accel::bench::Measurement m = accel::bench::run_batches<FakeImage>(target, batch, rules);
    EXPECT_EQ(target.calls, 2 + 5);  // the warm-up calls are not timed
    ASSERT_EQ(m.samples_ns.size(), 5u);
    ASSERT_EQ(m.samples_ts.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_GE(m.samples_ns[i], 2'000'000);  // at least the target's 2 ms
        // Items per second of this very sample: 4 images over its duration.
        EXPECT_DOUBLE_EQ(m.samples_ts[i], 4 * 1e9 / static_cast<double>(m.samples_ns[i]));
        EXPECT_LE(m.samples_ts[i], 4 / 0.002);
    }
    EXPECT_EQ(m.ts.count, 5u);
}

TEST(Target, RunBatchesKeepsGoingUntilTheMinimumDuration) {
    FakeImageTarget target;
    const std::vector<FakeImage> batch(1);
    const accel::bench::RunRules rules{.n_warmup = 0, .n_min_reps = 1, .min_duration = 20ms, .n_max_reps = 1000};
    const accel::bench::Measurement m = accel::bench::run_batches<FakeImage>(target, batch, rules);
    EXPECT_GE(m.wall, 20ms);
    EXPECT_GE(m.samples_ns.size(), 2u);
    EXPECT_LE(m.samples_ns.size(), 11u);  // each sample takes at least 2 ms
}

}  // namespace
