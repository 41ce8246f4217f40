#pragma once

#include "accel/bench/point_result.h"
#include "accel/bench/point_runner.h"

namespace accel::bench {

// A point whose spec names a remote target (accel bench --target): the latency, offline and server scenarios
// against an OpenAI-compatible endpoint through RemoteSut and the load harness, with the target's identity, the
// server's /metrics deltas and --verify (greedy answers under load against the single-stream answers). Throws
// Error for a failure of the point (run_point records it); failed requests make the point INVALID instead.
void measure_remote_point(PointResult& r, const PointSpec& spec, const PointOptions& options);

}  // namespace accel::bench
