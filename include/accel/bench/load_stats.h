#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accel/bench/early_stopping.h"

namespace accel::bench {

// A latency SLO for the server scenario: each limit given applies to the 99th percentile. For LLMs the TTFT and
// TPOT limits are the usual ones; the end-to-end limit applies to any model.
struct ServerSlo {
    std::optional<double> p99_ms;       // --slo-p99-ms: end-to-end latency, queueing included
    std::optional<double> ttft_p99_ms;  // --slo-ttft-ms
    std::optional<double> tpot_p99_ms;  // --slo-tpot-ms
    bool any() const { return p99_ms || ttft_p99_ms || tpot_p99_ms; }
    std::string text() const;  // "p99 <= 500 ms, TTFT p99 <= 100 ms"; "" when none
    // One "SLO missed: p99 612.3 ms > 500 ms" per limit missed; empty when all are met. A limit on a figure that
    // was not measured (nullopt) is a miss with the reason "not measured".
    std::vector<std::string> misses(double p99, std::optional<double> ttft_p99, std::optional<double> tpot_p99) const;
};

// One probe of --find-peak.
struct PeakProbe {
    double qps = 0;
    double achieved_qps = 0;
    double p99_ms = 0;
    bool pass = false;
};

// The server scenario's figures, stored under "server" in the result's extra (see docs/bench.md).
struct ServerStats {
    double target_qps = 0;
    double achieved_qps = 0;     // completed queries / (schedule start .. last completion)
    int64_t n_queries = 0;
    int32_t n_parallel = 1;
    double p50_ms = 0;           // end-to-end latency from the scheduled arrival, queueing included
    double p90_ms = 0;
    double p99_ms = 0;
    std::optional<double> ttft_p99_ms;  // LLMs: scheduled arrival to first token
    std::optional<double> tpot_p99_ms;  // LLMs: per query, (completion - first token) / (n_gen - 1)
    std::optional<bool> slo_pass;       // null without an SLO
    std::string slo;                    // ServerSlo::text(); "" (null in JSON) without one
    // The limits themselves, for a chart's SLO line: "slo_limits": {"p99_ms", "ttft_p99_ms", "tpot_p99_ms"} in the
    // JSON, null without an SLO (and absent in results stored before session 7).
    ServerSlo slo_limits;
    double max_issue_lag_ms = 0;        // how far the issuing thread fell behind the schedule, at worst
    std::optional<double> peak_qps;     // --find-peak: the highest probed QPS that met the SLO
    std::vector<PeakProbe> probes;      // --find-peak: every probe in order
    // LoadGen's early-stopping rule for each p99 limit given: whether the run's count supports the claim.
    std::vector<EarlyStopping> early_stopping;
};

// The offline scenario's figures (all queries issued at once), stored under "offline".
struct OfflineStats {
    int64_t n_queries = 0;              // per repetition
    int32_t n_parallel = 1;
    double samples_per_s = 0;           // mean over repetitions
    double tokens_per_s = 0;            // generated tokens, mean over repetitions
    double prompt_tokens_per_s = 0;
    double p50_ms = 0;                  // per query, issue to completion (queueing included)
    double p90_ms = 0;
    double p99_ms = 0;
    std::optional<double> ttft_p99_ms;
    std::optional<double> tpot_p99_ms;
};

}  // namespace accel::bench
