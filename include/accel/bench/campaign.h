#pragma once

// The campaign runner: runs a list of points in order, each isolated from the caller's process, and owns what
// every measuring command shares: provenance, the RunRecorder, --resume, --fail-fast, failure counting and
// progress events (with an ETA). The caller gives it an observer that prints; it never prints itself.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accel/bench/point_result.h"
#include "accel/bench/point_runner.h"
#include "accel/bench/run_recorder.h"

namespace accel::bench {

struct CampaignOptions {
    PointOptions point;            // how each point is measured (rules, timeout, cpu mask, cold, …)
    bool store = true;             // false: nothing is written (--no-store)
    std::filesystem::path db;      // the results database
    std::string command;           // the reproducing command line stored with the run
    std::vector<std::string> tags;
    std::string run_extra_json = "{}";  // merged into the run's extra
    std::string resume;            // a run id: its stored points are skipped
    bool fail_fast = false;        // stop after the first failed point
    bool provenance = true;        // read the provenance even when not storing (bench prints it with --json)
};

// Where a campaign stands when a point starts or ends. total is 0 when the number of points is not known ahead
// (a search that asks for one point at a time); eta is then 0 too.
struct CampaignProgress {
    size_t index = 0;  // 0-based index of the point
    size_t total = 0;
    std::chrono::duration<double> elapsed{0};
    std::chrono::duration<double> eta{0};
};

// What a campaign reports while it runs, in order: notes at any time, started once, then for each point
// point_started and point_done. Called on the caller's thread; the default implementations ignore the event.
class CampaignObserver {
public:
    virtual ~CampaignObserver() = default;
    // A one-line message for the user (e.g. "--resume R: 3 points left to run").
    virtual void note(const std::string& text) { (void)text; }
    // The run is open: its provenance (null when not read) and run id ("" when not stored).
    virtual void started(const RunProvenance* provenance, const std::string& run_id) {
        (void)provenance;
        (void)run_id;
    }
    virtual void point_started(const std::string& label, const CampaignProgress& progress) {
        (void)label;
        (void)progress;
    }
    // r.ok is false for a failed point; failure_stage and failure_reason say why.
    virtual void point_done(const std::string& label, const PointResult& r, const CampaignProgress& progress) {
        (void)label;
        (void)r;
        (void)progress;
    }
};

// The counts a command maps to its exit code.
struct CampaignCounts {
    int n_points = 0;         // points run (fewer than asked after --fail-fast)
    int n_failed = 0;
    int n_invalid = 0;        // measured, but the measurement is not valid
    int n_verify_failed = 0;  // --verify found a mismatch
    int n_slo_missed = 0;     // server points that missed their SLO (with --find-peak: no probed QPS met it)
    bool all_failed() const { return n_failed > 0 && n_failed == n_points; }
};

struct CampaignOutcome {
    std::vector<PointResult> results;  // one per point run, in order, failures included
    std::optional<RunProvenance> provenance;
    CampaignCounts counts;
    std::string run_id;                // "" when not stored
    std::filesystem::path stored_in;   // the database, or the spool file when spooling
    bool spooling = false;
    int n_workers = 0;                 // measuring processes run_points started (one per model, plus restarts)
};

// One run: provenance, the recorder, counting and progress. run_points() is the usual way in; a command that
// decides its next point from the last result (recommend's search) or measures its own kind of point (tradeoffs)
// drives a Campaign itself. Not thread-safe; the caller must have no other threads running (points fork).
class Campaign {
public:
    // Reads the provenance (in a child process) unless given or not wanted, and opens the recorder when storing.
    // total: the number of points, for the ETA (0: unknown). Throws what RunRecorder::begin and
    // read_run_provenance throw.
    Campaign(CampaignOptions options, CampaignObserver& observer, size_t total,
             std::optional<RunProvenance> provenance = std::nullopt);

    // Runs one point through measure (which must not throw for a failure of the point), stores and counts it.
    PointResult run(const std::string& label, const std::function<PointResult()>& measure);
    // A point measured in a process of its own (run_point_isolated). label "": point_label(spec).
    PointResult run(const PointSpec& spec, const std::string& label = "");

    // True after a failure with fail_fast: the caller should run no more points.
    bool stopped() const { return stopped_; }
    const std::optional<RunProvenance>& provenance() const { return outcome_.provenance; }
    const std::string& run_id() const { return outcome_.run_id; }

    // Closes the run (failed when every point failed, else complete) and hands back everything.
    CampaignOutcome finish();

private:
    CampaignProgress progress(size_t index) const;
    void count(const PointResult& r);

    CampaignOptions options_;
    CampaignObserver& observer_;
    size_t total_ = 0;
    std::chrono::steady_clock::time_point start_;
    std::optional<RunRecorder> recorder_;
    CampaignOutcome outcome_;
    bool stopped_ = false;
};

// The label of a point in progress lines: "stories260K.gguf pp512 on cpu".
std::string point_label(const PointSpec& p);

// Drops the points that options.resume's run has stored already and notes how many are left; nothing without
// resume. Throws Error{invalid_input} for a malformed run id.
void drop_resumed(std::vector<PointSpec>& points, const CampaignOptions& options, CampaignObserver& observer);

// Runs every point (after drop_resumed) and returns the outcome. The points run in order in worker processes
// (PointWorker): one per run of consecutive points of the same model, reused across them, and a fresh one for the
// points left after a crash or a timeout, which costs only the point that caused it.
CampaignOutcome run_points(std::vector<PointSpec> points, const CampaignOptions& options,
                           CampaignObserver& observer);

}  // namespace accel::bench
