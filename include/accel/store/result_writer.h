#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "accel/store/records.h"

namespace accel::store {

struct WriterOptions {
    std::filesystem::path db{};         // empty: accel::paths::default_db()
    std::filesystem::path spool_dir{};  // empty: accel::paths::data_dir()/spool
    // How long one write waits for another process that holds the database; after that the writer spools.
    std::chrono::milliseconds lock_wait{30000};
};

enum class WriteOutcome : uint8_t { stored, spooled };

// Writes one run. Each call is one transaction that opens the database, writes, commits and closes it again, so
// readers (`accel db query`, `report`) and other writers get the file between calls.
//
// When the database cannot be written (held by another process past lock_wait, read-only, disk full), the writer
// logs a warning naming the reason and from then on appends this run's records to a JSONL spool file
// (<spool_dir>/<run id>.jsonl, fsync'd per call) that `accel db ingest` loads later. A record is never dropped:
// if the spool cannot be written either, the call throws Error{io} naming both failures.
//
// Not thread-safe: one writer per run, used from one thread.
class ResultWriter {
public:
    // Stores the machine, the build and the run with status running. Fills in, where empty or zero: run.id (UUID
    // v4), started_at, pid, boot id, host, machine_id and build_id. Throws Error{invalid_input} for a machine
    // without an id.
    static ResultWriter begin(const WriterOptions& opts, RunRecord run, const MachineRecord& machine,
                              const BuildRecord& build);
    // A run that was not finished is marked failed during exception unwinding, otherwise interrupted (best effort).
    ~ResultWriter();
    ResultWriter(ResultWriter&&) noexcept;
    ResultWriter& operator=(ResultWriter&&) = delete;

    const std::string& run_id() const;
    WriteOutcome add_model(const ModelRecord& model);
    // All of `results` (with their samples) in one transaction. Fills in empty ids (UUID v4), run, machine and
    // build ids, and created_at. Returns the ids in `ids_out` when given.
    WriteOutcome add_results(std::vector<ResultRecord> results, std::vector<std::string>* ids_out = nullptr);
    WriteOutcome add_failures(std::vector<FailureRecord> failures);
    // Marks the run complete (or failed); later calls throw Error{internal}.
    WriteOutcome finish(RunStatus status = RunStatus::complete);

    bool spooling() const;
    std::filesystem::path spool_file() const;

private:
    struct Impl;
    explicit ResultWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_{};
};

// What `accel db ingest` loaded.
struct IngestReport {
    int64_t files = 0, results = 0, samples = 0, failures = 0, runs = 0, skipped_results = 0;
    int64_t truncated_lines = 0;  // a final line cut short by a crash while it was written, left out
};

// Loads spool files (or every *.jsonl in a spool folder) into the database, one transaction per file, and removes
// each file once its transaction has committed. Throws Error{invalid_input} naming FILE:LINE for a malformed line
// (that file is left in place and nothing from it stored), Error{busy}/Error{io} when the database cannot be written.
IngestReport ingest_spool(const std::filesystem::path& db_path, const std::vector<std::filesystem::path>& inputs,
                          std::chrono::milliseconds lock_wait = std::chrono::milliseconds(30000));

}  // namespace accel::store
