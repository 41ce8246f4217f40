#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "accel/bench/measurement.h"
#include "accel/bench/statistics.h"
#include "accel/bench/sweep.h"
#include "accel/core/error.h"

namespace {

using namespace accel;
using namespace accel::bench;

// Reference values are numpy.percentile(x, q) with the default (linear, Hyndman-Fan type 7) method.
TEST(Statistics, PercentilesMatchType7Exactly) {
    const std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    EXPECT_DOUBLE_EQ(percentile_sorted(x, 0.50), 5.5);
    EXPECT_DOUBLE_EQ(percentile_sorted(x, 0.90), 9.1);
    EXPECT_DOUBLE_EQ(percentile_sorted(x, 0.95), 9.55);
    EXPECT_NEAR(percentile_sorted(x, 0.99), 9.91, 1e-12);
    EXPECT_NEAR(percentile_sorted(x, 0.999), 9.991, 1e-12);
    EXPECT_DOUBLE_EQ(percentile_sorted(x, 0.0), 1.0);
    EXPECT_DOUBLE_EQ(percentile_sorted(x, 1.0), 10.0);
    const std::vector<double> y{15, 20, 35, 40, 50};
    EXPECT_DOUBLE_EQ(percentile_sorted(y, 0.40), 29.0);
    EXPECT_DOUBLE_EQ(percentile_sorted(y, 0.75), 40.0);
    const std::vector<double> one{7};
    EXPECT_DOUBLE_EQ(percentile_sorted(one, 0.99), 7.0);
}

TEST(Statistics, SummaryOfKnownData) {
    const std::vector<double> x{9, 2, 4, 4, 5, 4, 7, 5};  // unsorted on purpose
    const Summary s = summarize(x);
    EXPECT_EQ(s.count, 8u);
    EXPECT_DOUBLE_EQ(s.mean, 5.0);
    EXPECT_NEAR(s.stddev, std::sqrt(32.0 / 7.0), 1e-12);
    EXPECT_NEAR(s.cv, std::sqrt(32.0 / 7.0) / 5.0, 1e-12);
    EXPECT_EQ(s.min, 2);
    EXPECT_EQ(s.max, 9);
    EXPECT_DOUBLE_EQ(s.p50, 4.5);
    EXPECT_EQ(summarize(std::vector<double>{}).count, 0u);
}

TEST(Statistics, ExponentialDistribution) {
    std::mt19937_64 rng(7);
    std::exponential_distribution<double> dist(2.0);
    std::vector<double> x(100000);
    for (auto& v : x) v = dist(rng);
    const Summary s = summarize(x);
    EXPECT_NEAR(s.mean, 0.5, 0.005);
    EXPECT_NEAR(s.stddev, 0.5, 0.01);
    EXPECT_NEAR(s.p50, std::log(2.0) / 2.0, 0.01);
    EXPECT_NEAR(s.p99, std::log(100.0) / 2.0, 0.05);
}

TEST(Measurement, NoisyAndInvalidAreFlagged) {
    Measurement m;
    m.samples_ns = {100, 200, 100, 200};
    m.samples_ts = {1, 1, 1, 1};
    m.wall = std::chrono::nanoseconds(600);
    finish_measurement(m, {.n_min_reps = 5, .min_duration = std::chrono::milliseconds(1), .max_cv = 0.05});
    EXPECT_TRUE(m.noisy);
    EXPECT_FALSE(m.valid);
    ASSERT_EQ(m.reasons.size(), 3u);
    EXPECT_NE(m.reasons[0].find("min count not met: 4 of 5"), std::string::npos);
    EXPECT_NE(m.reasons[1].find("min duration not met"), std::string::npos);
    EXPECT_NE(m.reasons[2].find("noisy"), std::string::npos);
    Measurement steady;
    steady.samples_ns = {100, 101, 100, 99, 100};
    steady.samples_ts = {1, 1, 1, 1, 1};
    finish_measurement(steady, {.n_min_reps = 5});
    EXPECT_TRUE(steady.valid);
    EXPECT_FALSE(steady.noisy);
}

TEST(Sweep, ListsAndRangesAsLlamaBench) {
    EXPECT_EQ(parse_int_list("-b", "1,8,32"), (std::vector<int32_t>{1, 8, 32}));
    EXPECT_EQ(parse_int_list("-t", "1-4"), (std::vector<int32_t>{1, 2, 3, 4}));
    EXPECT_EQ(parse_int_list("-p", "128-512+128"), (std::vector<int32_t>{128, 256, 384, 512}));
    EXPECT_EQ(parse_int_list("-b", "1-64*2"), (std::vector<int32_t>{1, 2, 4, 8, 16, 32, 64}));
    EXPECT_EQ(parse_int_list("-p", "16,64-128*2"), (std::vector<int32_t>{16, 64, 128}));
    for (const char* bad : {"a", "5-3", "1,,2", "1-8*1", "-3", "1-2+0"}) {
        try {
            parse_int_list("-p", bad);
            FAIL() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
            EXPECT_NE(std::string(e.what()).find("-p"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(parse_str_list("-fa", "on,maybe", {"on", "off", "auto"}), Error);
    EXPECT_EQ(parse_pg("512,128"), (std::pair<int32_t, int32_t>{512, 128}));
}

TEST(Sweep, CartesianProductWithLlamaBenchTestSemantics) {
    SweepSpec s;
    s.models = {"a.gguf", "b.gguf"};
    s.n_prompt = {128, 512};
    s.n_gen = {64};
    s.pg = {{16, 8}};
    s.n_threads = {1, 2};
    const auto points = expand(s);
    // (pp128, pp512, tg64, pp16+tg8) x 2 thread counts x 2 models
    ASSERT_EQ(points.size(), 16u);
    EXPECT_EQ(points[0].test_name(), "pp128");
    EXPECT_EQ(points[0].n_gen, 0);
    EXPECT_EQ(points[4].test_name(), "tg64");
    EXPECT_EQ(points[4].n_prompt, 0);
    EXPECT_EQ(points[6].test_name(), "pp16+tg8");
    EXPECT_EQ(points[8].model, "b.gguf");
}

}  // namespace
