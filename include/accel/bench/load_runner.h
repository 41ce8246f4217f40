#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/bench/server_sut.h"

namespace accel::bench {

// The timestamps of one offline or server run, per query (in query order), in ns from the schedule's start.
struct LoadRun {
    std::vector<int64_t> arrival_ns;               // when the query was due (the schedule)
    std::vector<std::optional<int64_t>> first_ns;  // first token, when the SUT reported one
    std::vector<int64_t> done_ns;
    int64_t span_ns = 0;                           // the schedule's start to the last completion
    int64_t max_issue_lag_ns = 0;                  // the issuing thread's worst lateness against the schedule
    std::chrono::steady_clock::time_point t0{};    // the schedule's start (for a SUT's own time points)
};

// LoadGen's loop: a serving thread runs sut.serve() while this thread issues query i at arrivals_s[i] (seconds
// from the start; all zero for offline), whether or not earlier queries finished, then calls finish() and waits.
// Latency is counted from the scheduled arrival, so time a query waits (in the queue, or behind a late issuer)
// is included. The clock is steady_clock; the observer only stores time points (no allocation, no logging).
// Throws what the SUT's serve() threw (Error), after the serving thread ended. start: the schedule's start (a
// distributed load's common start, load_shard.h), else now.
LoadRun run_load(ServerSut& sut, std::span<const double> arrivals_s,
                 std::optional<std::chrono::steady_clock::time_point> start = std::nullopt);

}  // namespace accel::bench
