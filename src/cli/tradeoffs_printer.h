#pragma once

#include <vector>

#include "accel/bench/tradeoffs_campaign.h"
#include "output.h"

namespace accel::cli {

// accel tradeoffs' output on stdout in the given format: the measured points, the reference, the points skipped
// and the claims checked (JSON adds the failures).
void print_tradeoffs(const bench::TradeoffsRun& run, const bench::TradeoffsVariant& ref,
                     const std::vector<bench::SkippedPoint>& skipped, Format format);

}  // namespace accel::cli
