#pragma once

// accel tradeoffs' run: quality once per variant, then every point of every variant, each in a process of its own,
// through one Campaign (stored as one run as the points come).

#include <string>
#include <vector>

#include "accel/bench/campaign.h"
#include "accel/bench/tradeoffs.h"

namespace accel::bench {

// A point that failed: the variant, the stage and reason, and the point's settings as stored (to_json_text's object).
struct TradeoffsFailure {
    std::string variant;
    std::string stage;
    std::string reason;
    std::string point_json;
};

struct TradeoffsRun {
    std::vector<TradeoffsMeasure> measures;  // the points measured, variant by variant
    std::vector<TradeoffsFailure> failures;
    std::vector<ClaimCheck> claims;          // check_claims over the measures
    CampaignOutcome outcome;
};

// The ggml device --ngl offloads to: "auto" is the first GPU, else cpu. The devices are listed in a child process
// (probe_devices), so the caller may fork measuring children afterwards. Throws Error{invalid_input} for a device
// that is not a GPU here.
std::string tradeoffs_device(const std::string& asked);

// Measures the quality of each variant against the reference (skipped with a note when options.quality is false),
// then each point of each variant through a Campaign with campaign_options; a point's quality is attached before it
// is stored, so every row is stored complete. Notes (which quality is being measured, and why it is unavailable) and
// progress go to the observer. The caller must have no other threads running (points fork). Throws what Campaign
// throws.
TradeoffsRun run_tradeoffs(const std::vector<TradeoffsVariant>& variants, const TradeoffsVariant& reference,
                           const std::vector<TradeoffsPoint>& points, const TradeoffsOptions& options,
                           const CampaignOptions& campaign_options, CampaignObserver& observer);

}  // namespace accel::bench
