#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "accel/bench/point_result.h"
#include "accel/bench/provenance.h"
#include "accel/store/records.h"
#include "accel/store/result_writer.h"

namespace accel::bench {

// A stable key of a point's parameters, for --resume and for finding gaps in the stored results.
std::string spec_key(const PointSpec& p);

// The keys of the points stored for a run (empty when none, with a warning).
std::set<std::string> stored_point_keys(const std::filesystem::path& db, const std::string& run_id);

// The warehouse record of a measured point, samples included.
store::ResultRecord to_result_record(const PointResult& r);

// Stores every result of one run through one ResultWriter: models once each (with their classification),
// results and failures as they come. All bench-like commands (bench, recommend --search, tradeoffs) use it, so a
// stored point looks the same whoever measured it.
class RunRecorder {
public:
    // Opens the run. `command` is the reproducing command line; `run_extra_json` is merged into the run's extra.
    static RunRecorder begin(const std::filesystem::path& db, const std::string& command,
                             const std::vector<std::string>& tags, const RunProvenance& prov,
                             const std::string& run_extra_json = "{}");

    // Stores one point: a failure when !r.ok, otherwise the model (first time) and the result.
    void add(const PointResult& r);
    void finish(store::RunStatus status);

    const std::string& run_id() const { return writer_.run_id(); }
    bool spooling() const { return writer_.spooling(); }
    std::filesystem::path location() const;

private:
    explicit RunRecorder(store::ResultWriter w, std::filesystem::path db) : writer_(std::move(w)), db_(std::move(db)) {}
    store::ResultWriter writer_;
    std::filesystem::path db_;
    std::set<std::string> models_stored_;
};

}  // namespace accel::bench
