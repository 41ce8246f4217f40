#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accel/store/database.h"
#include "accel/store/records.h"

namespace accel::store {

// A run's end: its final status and time.
struct RunEnd {
    std::string run_id{};
    RunStatus status = RunStatus::complete;
    int64_t ended_at_ns = 0;
};

// Everything one transaction writes. The unit of the writer, the spool, ingest and import.
struct RecordBatch {
    std::vector<MachineRecord> machines{};
    std::vector<BuildRecord> builds{};
    std::vector<ModelRecord> models{};
    std::vector<RunRecord> runs{};
    std::vector<ResultRecord> results{};
    std::vector<FailureRecord> failures{};
    std::vector<RunEnd> ends{};
    // Set by the writer, whose result and failure ids are new UUIDs v4: skips the look-up of existing ids.
    bool fresh_ids = false;
    bool empty() const;
};

// Rows written per table by write_batch (rows already present are skipped, not counted).
struct WriteCounts {
    int64_t machines = 0, builds = 0, models = 0, runs = 0, results = 0, samples = 0, failures = 0;
    int64_t skipped_results = 0;  // ids already present (re-import, merge, re-ingested spool)
    WriteCounts& operator+=(const WriteCounts& o);
};

// Writes the batch inside the caller's transaction through DuckDB appenders. Machines, builds, models and runs
// that exist are kept; results and failures whose id exists are skipped with their samples. References are
// checked: a result or failure must name a run in this batch or in the database (Error{invalid_input}).
// Throws Error{io} on write failures; the caller's transaction then rolls back.
WriteCounts write_batch(Database& db, const RecordBatch& batch);

}  // namespace accel::store
