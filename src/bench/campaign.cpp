// The campaign runner: the loop every measuring command shares (bench, tradeoffs, recommend --search).
#include "accel/bench/campaign.h"

#include <algorithm>
#include <filesystem>

#include <fmt/core.h>

#include "accel/bench/campaign_worker.h"
#include "accel/bench/provenance.h"
#include "accel/core/log.h"

namespace accel::bench {

std::string point_label(const PointSpec& p) {
    if (!p.target.empty()) {
        return fmt::format("{} at {} {}", p.served_model.empty() ? "served model" : p.served_model, p.target,
                           p.test_name());
    }
    return fmt::format("{} {} on {}", std::filesystem::path(p.model).filename().string(), p.test_name(), p.device);
}

Campaign::Campaign(CampaignOptions options, CampaignObserver& observer, size_t total,
                   std::optional<RunProvenance> provenance)
    : options_(std::move(options)), observer_(observer), total_(total) {
    if (!provenance && (options_.provenance || options_.store)) {
        provenance = read_run_provenance(options_.point.cpu_mask, options_.point.cold);
    }
    if (provenance && provenance->other_cpu_percent > 10) {
        ACCEL_LOG_WARN("other processes used {:.0f}% of the CPUs when the run started; figures may be noisy",
                       provenance->other_cpu_percent);
    }
    outcome_.provenance = std::move(provenance);
    if (options_.store) {
        recorder_.emplace(RunRecorder::begin(options_.db, options_.command, options_.tags, *outcome_.provenance,
                                             options_.run_extra_json));
        outcome_.run_id = recorder_->run_id();
        outcome_.stored_in = recorder_->location();
        outcome_.spooling = recorder_->spooling();
    }
    observer_.started(outcome_.provenance ? &*outcome_.provenance : nullptr, outcome_.run_id);
    start_ = std::chrono::steady_clock::now();
}

CampaignProgress Campaign::progress(size_t index) const {
    CampaignProgress p{.index = index, .total = total_};
    p.elapsed = std::chrono::steady_clock::now() - start_;
    if (index > 0 && total_ > index) {
        p.eta = p.elapsed / static_cast<double>(index) * static_cast<double>(total_ - index);
    }
    return p;
}

void Campaign::count(const PointResult& r) {
    ++outcome_.counts.n_points;
    if (!r.ok) {
        ++outcome_.counts.n_failed;
        if (options_.fail_fast) stopped_ = true;
        return;
    }
    if (!r.measurement.valid) ++outcome_.counts.n_invalid;
    if (r.verify_failed()) ++outcome_.counts.n_verify_failed;
    if (r.server && r.server->slo_pass) {
        // With --find-peak the check is that some QPS met the SLO; otherwise that this run did.
        const bool met = r.server->probes.empty() ? *r.server->slo_pass : r.server->peak_qps.has_value();
        if (!met) ++outcome_.counts.n_slo_missed;
    }
}

PointResult Campaign::run(const std::string& label, const std::function<PointResult()>& measure) {
    const size_t index = outcome_.results.size();
    observer_.point_started(label, progress(index));
    PointResult r = measure();
    count(r);
    if (recorder_) recorder_->add(r);
    observer_.point_done(label, r, progress(index + 1));
    outcome_.results.push_back(r);
    return r;
}

PointResult Campaign::run(const PointSpec& spec, const std::string& label) {
    return run(label.empty() ? point_label(spec) : label, [&] { return run_point_isolated(spec, options_.point); });
}

CampaignOutcome Campaign::finish() {
    if (recorder_) {
        recorder_->finish(outcome_.counts.all_failed() ? store::RunStatus::failed : store::RunStatus::complete);
        recorder_.reset();
    }
    return std::move(outcome_);
}

void drop_resumed(std::vector<PointSpec>& points, const CampaignOptions& options, CampaignObserver& observer) {
    if (options.resume.empty()) return;
    const auto done = stored_point_keys(options.db, options.resume);
    std::erase_if(points, [&](const PointSpec& p) { return done.count(spec_key(p)) > 0; });
    observer.note(fmt::format("--resume {}: {} points left to run", options.resume, points.size()));
}

namespace {

// The measuring processes of run_points: one per run of consecutive points of the same model, reused across them,
// and a fresh one for the points left after a crash or a timeout.
class Workers {
public:
    Workers(const std::vector<PointSpec>& points, const PointOptions& options) : points_(points), options_(options) {
        if (!points.empty()) start();
    }
    PointResult measure(size_t i) {
        if (!worker_->alive() || (i > 0 && points_[i].model != points_[i - 1].model)) start();
        return worker_->measure(i);
    }
    int started() const { return n_started_; }

private:
    void start() {
        worker_.reset();
        worker_.emplace(points_, options_);
        ++n_started_;
    }
    const std::vector<PointSpec>& points_;
    const PointOptions& options_;
    std::optional<PointWorker> worker_;
    int n_started_ = 0;
};

}  // namespace

CampaignOutcome run_points(std::vector<PointSpec> points, const CampaignOptions& options,
                           CampaignObserver& observer) {
    drop_resumed(points, options, observer);
    // The first worker starts before the provenance child, so that its start-up (the ggml backends, the roofline)
    // overlaps the child's inventory. Once the child has read the inventory, points are measured while it samples
    // the other processes' CPU share (accel's own processes left out): the campaign opens when the provenance is
    // in, and the points measured meanwhile are then stored and reported in order, as if measured after.
    std::optional<Workers> workers;
    workers.emplace(points, options.point);
    std::optional<ProvenanceProbe> probe;
    if (options.provenance || options.store) {
        probe.emplace(ProvenanceOptions{.cpu_mask = options.point.cpu_mask, .cold = options.point.cold},
                      "accel measured its first points");
        probe->wait_ready();
    }
    std::vector<PointResult> ahead;
    while (probe && ahead.size() < points.size() && !probe->done()) {
        ahead.push_back(workers->measure(ahead.size()));
        if (options.fail_fast && !ahead.back().ok) break;
    }
    if (probe) probe->stop_sampling();  // every point measured, or the probe is done anyway
    Campaign campaign(options, observer, points.size(), probe ? std::optional(probe->get()) : std::nullopt);
    for (size_t i = 0; i < points.size(); ++i) {
        campaign.run(point_label(points[i]), [&] { return i < ahead.size() ? ahead[i] : workers->measure(i); });
        if (campaign.stopped()) break;
    }
    const int n_workers = workers->started();
    workers.reset();
    CampaignOutcome out = campaign.finish();
    out.n_workers = n_workers;
    return out;
}

}  // namespace accel::bench
