#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "accel/bench/point_result.h"
#include "accel/bench/point_runner.h"

namespace accel::bench {

// A child process that measures points one after another (run_point), so that a campaign pays for a process,
// the ggml backends and the machine's roofline once per model instead of once per point, as llama-bench reuses a
// model across its tests. Each point still loads its model in a fresh pool. A crash (a GGML_ASSERT abort, a
// segfault) or a point past its timeout ends the worker: that point is recorded as failed, like
// run_point_isolated's, and the caller starts a fresh worker for the points left.
//
// Peak RSS of a point is the worker's high-water mark from the point's start (reset through
// /proc/self/clear_refs), so it includes what the worker keeps resident between points.
//
// Test hook: with ACCEL_TEST_WORKER_ABORT=<test name> (e.g. "pp32") in the environment the worker aborts at the
// start of a point of that test, so a crash mid-campaign can be exercised.
class PointWorker {
public:
    // Forks the worker. It holds a copy of points (taken by the fork) and loads the ggml backends and the roofline
    // before its first point, while the caller goes on. The caller must have no other threads running (fork).
    // Throws Error{io} when the process cannot be started.
    PointWorker(const std::vector<PointSpec>& points, const PointOptions& options);
    ~PointWorker();  // ends the worker: closes its socket, waits for it, kills it if it does not leave
    PointWorker(const PointWorker&) = delete;
    PointWorker& operator=(const PointWorker&) = delete;

    // Measures points[index] in the worker. Never throws for a failure of the point; after a crash or a timeout
    // the result says so and alive() is false.
    PointResult measure(size_t index);
    bool alive() const { return pid_ > 0; }

private:
    PointResult failed(size_t index, const IsolatedOutcome& why);
    const std::vector<PointSpec>& points_;
    PointOptions options_;
    pid_t pid_ = -1;
    int fd_ = -1;  // our end of the socket pair
};

}  // namespace accel::bench
