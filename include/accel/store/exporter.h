#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "accel/store/database.h"
#include "accel/store/record_batch.h"

namespace accel::store {

struct ExportOptions {
    std::string format = "parquet";  // "parquet" or "csv"
    std::filesystem::path out_dir{};
    std::string where{};  // optional SQL condition on results (alias r), e.g. "r.device = 'cpu'"
};

// Writes <out>/results/ and <out>/samples/ partitioned by machine_id and date (hive layout:
// machine_id=.../date=YYYY-MM-DD/), and runs, machines, builds, models, failures as single files, for the runs the
// exported results belong to. Returns the number of result rows written. Throws Error{invalid_input} for a bad
// --where, Error{io} when the folder cannot be written.
int64_t export_results(Database& db, const ExportOptions& opts);

// Merges other accel DuckDB files or Parquet export folders into db in one transaction, skipping rows whose id is
// present (results, failures, runs, machines, builds, models; samples go with their new results).
WriteCounts merge_sources(Database& db, const std::vector<std::filesystem::path>& sources);

}  // namespace accel::store
