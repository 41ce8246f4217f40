#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "accel/bench/batching_sut.h"
#include "accel/bench/load_runner.h"
#include "accel/bench/load_stats.h"
#include "accel/bench/measurement.h"
#include "accel/bench/request_lengths.h"

namespace accel::bench {

// One offline or server test of an LLM through continuous batching with the target's n_slots() slots.
struct LoadTest {
    RequestLengths lengths = fixed_lengths(128, 64);
    int32_t n_queries = 64;  // the minimum count per run (LoadGen's min_query_count)
    double target_qps = 1;   // server
    uint64_t seed = 42;      // prompts, lengths and the arrival schedule
    ServerSlo slo;           // server
    bool find_peak = false;  // server: search the highest QPS that meets slo (which must be given)
};

struct OfflineOutcome {
    // Per repetition: samples_ns the time to serve every query, samples_ts generated tokens/s; ttft_ns/tpot_ns per
    // query over all repetitions.
    Measurement measurement;
    OfflineStats stats;
};

struct ServerOutcome {
    // Per query: samples_ns the latency (queueing included), ttft_ns, tpot_ns; samples_ts holds the run's one aggregate
    // of generated tokens/s. Never flagged noisy: the spread is the result.
    Measurement measurement;
    ServerStats stats;
};

// The queries of a test: lengths drawn from test.lengths, random prompt tokens (BOS first where the model wants
// one), all from test.seed.
std::vector<LlmQuery> make_queries(const ParallelLlmTarget& target, const LoadTest& test, size_t n);

// Offline: every query issued at once; repeated until rules' count and duration are met (after untimed warm-ups).
OfflineOutcome run_offline(ParallelLlmTarget& target, const LoadTest& test, const RunRules& rules);

// Server: Poisson arrivals at test.target_qps (poisson_arrivals with test.seed), max(n_queries, min_duration x qps)
// queries, issued on schedule whether or not earlier ones finished. With an SLO, a run that misses it is INVALID
// with the reason. With find_peak, probes QPS values (find_peak) and returns the run at the peak, with the probes.
ServerOutcome run_server(ParallelLlmTarget& target, const LoadTest& test, const RunRules& rules);

// The server scenario over any SUT: one_run(test.target_qps), or with test.find_peak the probes of find_peak over
// one_run and the run at the peak (INVALID, with the reason, when no probed QPS met the SLO).
ServerOutcome run_server_search(const std::function<ServerOutcome(double)>& one_run, const LoadTest& test);

// The server figures from one run's timestamps; n_gen per query (empty when the SUT is not an LLM: no TTFT/TPOT).
ServerOutcome server_outcome(const LoadRun& run, std::span<const int32_t> n_gen, double target_qps, int32_t n_parallel,
                             const ServerSlo& slo);

}  // namespace accel::bench
