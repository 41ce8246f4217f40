// Printing for campaigns (fleet/): the merge's per-shard states and `accel report --campaign`'s matrix.
#include "campaign_report.h"

#include <chrono>
#include <cstdio>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/fleet/campaign_matrix.h"
#include "accel/store/database.h"
#include "commands.h"

namespace accel::cli {

int print_campaign_merge(const fleet::CampaignMergeReport& r, Format format) {
    Table t{.columns = {"campaign", "index", "shard", "class", "state", "attempt", "attempts", "unfinished", "planned",
                        "results", "reason"},
            .numeric = {false, true, false, false, false, true, true, true, true, true, false},
            .rows = {}};
    for (const auto& s : r.shards) {
        t.rows.push_back({r.campaign, std::to_string(s.index), s.id, s.requirement_class, s.state,
                          s.attempt >= 0 ? std::optional(std::to_string(s.attempt)) : std::nullopt,
                          std::to_string(s.n_complete_attempts), std::to_string(s.n_unfinished_attempts),
                          std::to_string(s.n_points_planned), std::to_string(s.n_results), s.reason});
    }
    print_table(t, format);
    fmt::print(stderr,
               "db merge: campaign {}: {} shards, {} missing, {} failed, {} unplaceable, {} run more than once "
               "(latest complete attempt kept); {} results written, {} superseded removed\n",
               r.campaign, r.shards.size(), r.n_missing, r.n_failed, r.n_unplaceable, r.n_duplicate, r.counts.results,
               r.n_superseded_results);
    return r.complete() ? exit_ok : exit_check;
}

int print_campaign_matrix(const std::filesystem::path& db_path, const std::string& campaign, Format format) {
    store::Database db = store::Database::open(db_path, {.lock_wait = std::chrono::milliseconds(30000)});
    const fleet::CampaignMatrix m = fleet::campaign_matrix(db, campaign);
    if (m.rows.empty()) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("--campaign {}: no results of that campaign in {} (merge it with accel db merge DIR)",
                                campaign, db_path.string()));
    }
    Table t{.columns = {"model", "test", "device", "threads"}, .numeric = {false, false, false, true}, .rows = {}};
    for (const auto& machine : m.machines) {
        t.columns.push_back(machine + " t/s");
        t.numeric.push_back(true);
    }
    for (const auto& row : m.rows) {
        std::vector<std::optional<std::string>> cells{row.model, row.test, row.device, std::to_string(row.n_threads)};
        for (const auto& v : row.avg_ts) cells.push_back(v ? std::optional(fmt::format("{:.2f}", *v)) : std::nullopt);
        t.rows.push_back(std::move(cells));
    }
    print_table(t, format);
    return exit_ok;
}

}  // namespace accel::cli
