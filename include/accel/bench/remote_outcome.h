#pragma once

#include <cstdint>
#include <span>

#include "accel/bench/load_runner.h"
#include "accel/bench/remote_stats.h"
#include "accel/bench/remote_target.h"
#include "accel/bench/server_scenario.h"

namespace accel::bench {

struct RemoteOutcome {
    ServerOutcome outcome;  // the measurement (per request E2E, TTFT, TPOT) and the server figures
    RemoteStats stats;
};

// The figures of one run_load over a RemoteSut. from_schedule: latencies count from the scheduled arrival (server)
// rather than from the send time (closed loops). Failed requests are left out of the latencies and make the point
// INVALID. The lateness rule (server): the point is INVALID when more than 1% of the requests were sent more than
// max_lateness_ms after they were due: the client could not keep the schedule.
RemoteOutcome remote_outcome(const LoadRun& run, std::span<const RemoteResponse> responses, bool from_schedule,
                             double target_qps, int32_t concurrency, const ServerSlo& slo, double max_lateness_ms);

}  // namespace accel::bench
