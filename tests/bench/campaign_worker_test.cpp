// The campaign's reused workers on stories260K: one worker per model, and a crash costs only that worker, the
// points after it run in a fresh one.
#include "accel/bench/campaign.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "test_support.h"

namespace {

using accel::bench::PointSpec;
using accel::bench::Scenario;

accel::bench::CampaignOptions options() {
    return {.point = {.rules = {.n_warmup = 0, .n_min_reps = 1}, .timeout = std::chrono::seconds(60)},
            .store = false,
            .provenance = false};
}

std::vector<PointSpec> prompts(const std::string& model, std::initializer_list<int32_t> sizes) {
    std::vector<PointSpec> points;
    for (int32_t p : sizes) points.push_back({.scenario = Scenario::llm, .model = model, .n_prompt = p, .n_threads = 1});
    return points;
}

struct ScopedEnv {
    ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
    ~ScopedEnv() { ::unsetenv(name_); }
    const char* name_;
};

TEST(CampaignWorker, OneWorkerServesAllPointsOfAModel) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::bench::CampaignObserver quiet;
    const auto out = accel::bench::run_points(prompts(stories.string(), {16, 32, 64}), options(), quiet);
    ASSERT_EQ(out.results.size(), 3u);
    for (const auto& r : out.results) {
        EXPECT_TRUE(r.ok) << r.failure_reason;
        EXPECT_EQ(r.measurement.samples_ns.size(), 1u);
        EXPECT_GT(r.peak_rss_bytes, 0u);
    }
    EXPECT_EQ(out.n_workers, 1);
}

TEST(CampaignWorker, ACrashCostsOnlyThatWorkerAndTheRestRunInAFreshOne) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const ScopedEnv crash("ACCEL_TEST_WORKER_ABORT", "pp32");  // the worker aborts at the start of pp32
    accel::bench::CampaignObserver quiet;
    const auto out = accel::bench::run_points(prompts(stories.string(), {16, 32, 64, 128}), options(), quiet);
    ASSERT_EQ(out.results.size(), 4u);
    EXPECT_TRUE(out.results[0].ok) << out.results[0].failure_reason;
    EXPECT_FALSE(out.results[1].ok);
    EXPECT_EQ(out.results[1].failure_stage, "crash");
    EXPECT_NE(out.results[1].failure_reason.find("signal 6"), std::string::npos) << out.results[1].failure_reason;
    EXPECT_EQ(out.results[1].spec.n_prompt, 32);
    EXPECT_TRUE(out.results[2].ok) << out.results[2].failure_reason;
    EXPECT_TRUE(out.results[3].ok) << out.results[3].failure_reason;
    EXPECT_EQ(out.results[3].spec.n_prompt, 128);
    EXPECT_EQ(out.counts.n_failed, 1);
    EXPECT_EQ(out.n_workers, 2);  // the first, and the fresh one after the crash
}

TEST(CampaignWorker, EachModelGetsItsOwnWorker) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::test::TempDir dir;
    auto points = prompts(stories.string(), {16});
    auto missing = prompts((dir / "missing.gguf").string(), {16});
    points.insert(points.end(), missing.begin(), missing.end());
    points.push_back(prompts(stories.string(), {32}).front());
    accel::bench::CampaignObserver quiet;
    const auto out = accel::bench::run_points(points, options(), quiet);
    ASSERT_EQ(out.results.size(), 3u);
    EXPECT_TRUE(out.results[0].ok);
    EXPECT_FALSE(out.results[1].ok);
    EXPECT_EQ(out.results[1].failure_stage, "run");  // a failure of the point, not of the worker
    EXPECT_TRUE(out.results[2].ok);
    EXPECT_EQ(out.n_workers, 3);
}

// The provenance is read while the first points are measured: its CPU-share window says so, and the observer still
// sees the run start before any point, then every point in order, started before done. A crash while the probe
// samples is still that point's failure, and the points after it run in a fresh worker.
struct Recorder : accel::bench::CampaignObserver {
    void started(const accel::bench::RunProvenance* p, const std::string& /*run_id*/) override {
        events.push_back(p != nullptr ? "started" : "started without provenance");
    }
    void point_started(const std::string& label, const accel::bench::CampaignProgress& pr) override {
        events.push_back("start " + std::to_string(pr.index) + " " + label.substr(label.find(' ') + 1));
    }
    void point_done(const std::string&, const accel::bench::PointResult& r,
                    const accel::bench::CampaignProgress& pr) override {
        events.push_back("done " + std::to_string(pr.index - 1) + (r.ok ? "" : " failed"));
    }
    std::vector<std::string> events;
};

TEST(CampaignWorker, TheProvenanceIsSampledWhileTheFirstPointsAreMeasured) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const ScopedEnv crash("ACCEL_TEST_WORKER_ABORT", "pp32");
    auto opts = options();
    opts.provenance = true;
    Recorder rec;
    const auto out = accel::bench::run_points(prompts(stories.string(), {16, 32, 64}), opts, rec);
    ASSERT_TRUE(out.provenance);
    EXPECT_NE(out.provenance->json_text.find("while accel measured its first points; accel's own processes"),
              std::string::npos)
        << out.provenance->json_text;
    const std::vector<std::string> want = {"started",          "start 0 pp16 on cpu", "done 0",
                                           "start 1 pp32 on cpu", "done 1 failed",    "start 2 pp64 on cpu",
                                           "done 2"};
    EXPECT_EQ(rec.events, want);
    ASSERT_EQ(out.results.size(), 3u);
    EXPECT_TRUE(out.results[0].ok) << out.results[0].failure_reason;
    EXPECT_EQ(out.results[1].failure_stage, "crash");
    EXPECT_TRUE(out.results[2].ok) << out.results[2].failure_reason;
    EXPECT_EQ(out.n_workers, 2);
}

}  // namespace
