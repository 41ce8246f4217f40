#pragma once

// The whole of `accel recommend` below the command line: the stored evidence, the quick search (its points measured
// through one bench::Campaign, stored as one run) and the recommendation. The caller parses the flags, gives an
// observer that prints the campaign's progress, and prints the outcome.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel/bench/campaign.h"
#include "accel/bench/price_table.h"
#include "accel/tune/gain_check.h"
#include "accel/tune/recommend.h"
#include "accel/tune/recommend_data.h"
#include "accel/tune/recommend_search.h"

namespace accel::tune {

struct RecommendRequest {
    std::filesystem::path db;  // the results database
    std::string model;         // the model file asked about
    std::vector<ObjectiveWeight> weights{{Objective::throughput, 1.0}};
    Constraints constraints;
    bool search = false;  // run the quick search: measure the missing neighbours and store them
    int32_t reps = 3;     // search: timed repetitions per point
    int32_t n_gen = 128;  // search: tokens per tg point
    int32_t max_points = 16;
    // search: before claiming a gain, the best and the default are measured again this many times each, interleaved
    // (A B / B A; gain_check.h), beyond max_points; 0 skips the check.
    int32_t confirm_rounds = 2;
    std::chrono::seconds timeout{600};  // search: per point
    bench::PriceTable prices{};  // the user's machine-hour prices: a cost per million tokens next to tokens/s
};

struct RecommendOutcome {
    Evidence evidence;  // with the search's fresh results
    Recommendation recommendation;
    std::optional<SearchLog> search;  // when searched
    std::optional<GainCheck> gain_check;  // when the search's best is not the default
    std::string run_id;               // the search's run; "" when it measured nothing
    std::string stored_in;            // the database, or the spool file when spooling
    bool spooling = false;
};

// Reads the evidence, runs the quick search when asked (the campaign opens at the first point it measures, so
// nothing is stored when it measures none), and recommends, with the evidence's notes first. Throws what
// load_evidence and the campaign throw.
RecommendOutcome run_recommend(const RecommendRequest& request, bench::CampaignObserver& observer);

}  // namespace accel::tune
