#pragma once

// The matrix of a merged campaign: one row per measured configuration (model, test, device, threads), one column
// per machine (the Slurm node name the shard ran on, else the host), mean tokens/s (texts/s for embed) in cells.

#include <optional>
#include <string>
#include <vector>

#include "accel/store/database.h"

namespace accel::fleet {

struct CampaignMatrix {
    std::string campaign;
    std::vector<std::string> machines;
    struct Row {
        std::string model, test, device;
        int32_t n_threads = 0;
        std::vector<std::optional<double>> avg_ts;  // one per machine; nullopt: not measured there
    };
    std::vector<Row> rows;
};

// Reads the runs tagged campaign:<campaign> (run-shard tags them). Throws what Database::query throws; an
// unknown campaign gives an empty matrix.
CampaignMatrix campaign_matrix(store::Database& db, const std::string& campaign);

}  // namespace accel::fleet
