#pragma once

// accel db merge on a campaign folder (OUT/<campaign>/, which run-shard fills and holds plan.json): imports each
// shard's latest complete attempt once, removes a superseded attempt a previous merge imported, and says which
// planned shards are missing, failed, unplaceable or were run more than once.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "accel/store/database.h"
#include "accel/store/record_batch.h"

namespace accel::fleet {

struct ShardMergeState {
    int32_t index = 0;
    std::string id;
    std::string requirement_class;
    std::string state;                  // "merged", "already merged", "missing", "failed", "unplaceable"
    std::string reason;                 // why, for failed and unplaceable
    int32_t attempt = -1;               // the attempt imported; -1 for none
    int32_t n_complete_attempts = 0;    // more than 1: a duplicate (retried) shard, de-duplicated
    int32_t n_unfinished_attempts = 0;  // hidden folders of attempts that never finished (a killed node)
    int64_t n_points_planned = 0;
    int64_t n_results = 0;              // results rows of the imported attempt in the warehouse
};

struct CampaignMergeReport {
    std::string campaign;
    std::vector<ShardMergeState> shards;
    store::WriteCounts counts;          // rows written by this merge
    int64_t n_superseded_results = 0;   // rows of earlier attempts removed
    int n_missing = 0, n_failed = 0, n_unplaceable = 0, n_duplicate = 0;
    bool complete() const { return n_missing == 0 && n_failed == 0 && n_unplaceable == 0; }
};

// The campaign folders at path: path itself when it holds a plan.json (run-shard copies the plan there), else its
// sub-folders that do (a results folder of several campaigns); empty for anything else (a DuckDB file, an export).
std::vector<std::filesystem::path> campaign_dirs(const std::filesystem::path& path);

// Merges one campaign folder into db. Throws Error{invalid_input} for a malformed plan or attempt, Error{io} when
// a file cannot be read; what the store's merge throws.
CampaignMergeReport merge_campaign(store::Database& db, const std::filesystem::path& campaign_dir);

}  // namespace accel::fleet
