#pragma once

#include <filesystem>
#include <string>

#include "accel/fleet/campaign_merge.h"
#include "output.h"

namespace accel::cli {

// The shards of a campaign merge, one row each, then a summary line on stderr. Returns exit_check when a shard
// is missing, failed or unplaceable, else exit_ok.
int print_campaign_merge(const fleet::CampaignMergeReport& r, Format format);

// accel report --campaign C: the campaign's matrix across machines (fleet::campaign_matrix) as a Markdown table
// (or --format json/csv). Throws Error{invalid_input} when the database has no run of the campaign.
int print_campaign_matrix(const std::filesystem::path& db, const std::string& campaign, Format format);

}  // namespace accel::cli
