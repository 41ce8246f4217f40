#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "accel/bench/load_shard.h"
#include "accel/bench/load_stats.h"
#include "accel/bench/measurement.h"
#include "accel/bench/point_result.h"
#include "accel/hw/device.h"

namespace accel::bench {

struct PointOptions {
    RunRules rules;
    bool cold = false;           // evict the model file from the page cache before loading
    std::string cpu_mask;        // hex; "" leaves the affinity alone
    std::chrono::seconds timeout{600};
    uint64_t seed = 42;
    bool verify = false;         // compare against the CPU reference after measuring
    // Load scenarios (server, offline).
    int32_t n_queries = 64;      // queries per run (server: at least; offline: issued at once per repetition)
    ServerSlo slo;               // server
    bool find_peak = false;      // server: search the highest QPS meeting slo
    // Remote targets (accel bench --target): the lateness rule's limit (remote_stats.h), and the most requests the
    // client keeps in flight in the server scenario.
    double max_lateness_ms = 10;
    int32_t max_in_flight = 256;
    std::string target_api_key;  // --api-key-file: sent to the target, never stored
    LoadShard load_shard;        // distributed load (load_shard.h): this generator's share of the schedule
    std::function<void()> before_load;  // test hook: called right before the model is loaded (after --cold's eviction)
};

// Measures one point in this process: loads the model through a resource pool, runs the scenario, reads the
// counters. Never throws for a failure of the point itself: the result says what failed and why.
PointResult run_point(const PointSpec& spec, const PointOptions& options);

// Loads what every point of a process needs once (the ggml backends, this machine's roofline), so that a process
// measuring many points pays for it before its first point. Optional: run_point does it when needed.
void prepare_point_process();

// The same in a child process, so that a crash (a GGML_ASSERT abort, a segfault) or a hang past the timeout is
// contained: the child is killed and the point recorded as failed with the signal or "timeout after N s".
// Peak RSS is then the child's own. The caller must have no other threads running (fork).
PointResult run_point_isolated(const PointSpec& spec, const PointOptions& options);

// What a child process sent back: its text, or why there is none.
struct IsolatedOutcome {
    bool ok = false;
    std::string text;            // what body returned, when ok
    std::string failure_stage;   // "timeout" or "crash" when !ok
    std::string failure_reason;
};

// Runs body in a forked child and returns the text it produced through a pipe; the child is killed after timeout.
// body must report its own errors in its text (an exception escaping it reads as a crash). Peak RSS read inside
// body is the child's own. The caller must have no other threads running (fork).
IsolatedOutcome run_isolated(const std::function<std::string()>& body, std::chrono::seconds timeout);

// A forked child connected to its parent by a Unix stream socket (SOCK_CLOEXEC). fd is this process's end (the
// other closed); pid is 0 in the child. stdout and stderr are flushed before the fork. Throws Error{io}.
struct ConnectedChild {
    int pid = -1;
    int fd = -1;
};
ConnectedChild fork_connected();

// The failed outcomes of a child: killed after timeout, or ended (wait_status from waitpid) without a result.
IsolatedOutcome timeout_outcome(std::chrono::seconds timeout);
IsolatedOutcome crash_outcome(int wait_status);

// The ggml devices ("cpu", "cuda0", …: id, type, name and memory), enumerated in a child process. CUDA does not survive fork():
// a process that has enumerated the ggml devices (which initialises CUDA) forks children that cannot use the GPU.
// Commands that fork measuring children (bench, conform, recommend --search, tradeoffs) therefore touch no ggml
// backend themselves and ask a child instead. Throws Error{backend} when the child fails.
std::vector<hw::Device> probe_devices(std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace accel::bench
