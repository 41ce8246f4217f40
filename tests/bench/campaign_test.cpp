// The campaign runner's bookkeeping on fake points (no model, no child process): counting, fail-fast, the order
// of the observer's events and the ETA.
#include "accel/bench/campaign.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using accel::bench::Campaign;
using accel::bench::CampaignProgress;
using accel::bench::PointResult;

struct Recorder : accel::bench::CampaignObserver {
    std::vector<std::string> events;
    std::vector<CampaignProgress> progress;
    bool saw_start = false;
    void started(const accel::bench::RunProvenance* prov, const std::string& run_id) override {
        saw_start = true;
        EXPECT_EQ(prov, nullptr);  // neither stored nor asked for
        EXPECT_EQ(run_id, "");
    }
    void point_started(const std::string& label, const CampaignProgress& p) override {
        events.push_back("start " + label);
        progress.push_back(p);
    }
    void point_done(const std::string& label, const PointResult& r, const CampaignProgress&) override {
        events.push_back(std::string(r.ok ? "ok " : "failed ") + label);
    }
};

PointResult ok_point(bool valid = true) {
    PointResult r;
    r.ok = true;
    r.measurement.valid = valid;
    return r;
}

PointResult failed_point() {
    PointResult r;
    r.failure_stage = "crash";
    r.failure_reason = "test";
    return r;
}

TEST(Campaign, CountsEachKindOfOutcome) {
    Recorder obs;
    Campaign c({.store = false, .provenance = false}, obs, 4);
    EXPECT_TRUE(obs.saw_start);
    c.run("a", [] { return ok_point(); });
    c.run("b", [] { return failed_point(); });
    c.run("c", [] { return ok_point(false); });
    c.run("d", [] {
        PointResult r = ok_point();
        r.verify = accel::bench::VerifyOutcome{.pass = false, .summary = "rejected"};
        return r;
    });
    EXPECT_FALSE(c.stopped());  // no --fail-fast
    const auto out = c.finish();
    EXPECT_EQ(out.counts.n_points, 4);
    EXPECT_EQ(out.counts.n_failed, 1);
    EXPECT_EQ(out.counts.n_invalid, 1);
    EXPECT_EQ(out.counts.n_verify_failed, 1);
    EXPECT_FALSE(out.counts.all_failed());
    ASSERT_EQ(out.results.size(), 4u);
    EXPECT_EQ(obs.events, (std::vector<std::string>{"start a", "ok a", "start b", "failed b", "start c", "ok c",
                                                    "start d", "ok d"}));
    // Progress: index and total as given; no ETA before the first point has finished.
    ASSERT_EQ(obs.progress.size(), 4u);
    EXPECT_EQ(obs.progress[0].index, 0u);
    EXPECT_EQ(obs.progress[3].index, 3u);
    EXPECT_EQ(obs.progress[2].total, 4u);
    EXPECT_EQ(obs.progress[0].eta.count(), 0.0);
}

TEST(Campaign, FailFastStopsAfterTheFirstFailure) {
    Recorder obs;
    Campaign c({.store = false, .fail_fast = true, .provenance = false}, obs, 3);
    c.run("a", [] { return failed_point(); });
    EXPECT_TRUE(c.stopped());
    const auto out = c.finish();
    EXPECT_TRUE(out.counts.all_failed());
}

TEST(Campaign, EveryPointFailedIsAllFailed) {
    Recorder obs;
    Campaign c({.store = false, .provenance = false}, obs, 0);
    c.run("a", [] { return failed_point(); });
    c.run("b", [] { return failed_point(); });
    EXPECT_TRUE(c.finish().counts.all_failed());
}

TEST(Campaign, NoPointIsNotAllFailed) {
    Recorder obs;
    Campaign c({.store = false, .provenance = false}, obs, 0);
    EXPECT_FALSE(c.finish().counts.all_failed());
}

}  // namespace
