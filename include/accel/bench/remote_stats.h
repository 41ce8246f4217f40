#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "accel/bench/target_identity.h"

namespace accel::bench {

// The definitions every remote figure follows, printed with the results and documented in docs/bench.md.
inline constexpr const char* remote_metric_definitions =
    "definitions: origin = when the request was due under the arrival schedule (server) or when it was sent "
    "(latency, offline: closed loops); E2E = end of the stream ([DONE]) - origin; TTFT = first chunk with non-empty "
    "content - origin; N = output tokens (the server's usage.completion_tokens, else the completion text's tokens by "
    "the model's own tokenizer (--tokenizer), else the count of content chunks; token_source says which); "
    "TPOT per request = (E2E - TTFT) / (N - 1), for N > 1; ITL = every gap between consecutive content chunks of a "
    "request, pooled over requests; goodput = requests meeting every given SLO (E2E, TTFT, TPOT each against its "
    "limit) per second of the run; lateness = sent - due (server only)";

struct LatencyFigures {
    int64_t count = 0;
    double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};
LatencyFigures latency_figures(std::span<const int64_t> ns);

// A remote point's client-side figures, stored under "remote" in the result's extra (docs/bench.md).
struct RemoteStats {
    TargetIdentity target;
    std::string api;           // "/v1/completions" or "/v1/chat/completions"
    std::string workload;      // Workload::text
    std::string origin;        // "scheduled" or "sent" (see remote_metric_definitions)
    // Which counting gave N: "usage", "tokenizer", "chunks", or several joined by '+' ("usage+chunks": some answers
    // without usage), in that order.
    std::string token_source;
    std::string tokenizer;     // the --tokenizer file ("" without one)
    int64_t n_resent = 0;      // requests sent twice (the server closed the reused keep-alive connection)
    int32_t concurrency = 1;   // client workers (offline: --parallel; server: enough for the schedule)
    int64_t n_requests = 0;
    int64_t n_failed = 0;
    std::string first_error;
    int64_t n_output_tokens = 0;
    std::optional<int64_t> n_prompt_tokens;  // summed usage.prompt_tokens, when every answer had it
    double span_s = 0;
    double requests_per_s = 0;
    double output_tokens_per_s = 0;
    std::optional<double> goodput_rps;       // with an SLO
    LatencyFigures e2e, ttft, tpot, itl;
    std::optional<LatencyFigures> lateness;  // server
    double max_lateness_ms = 0;              // the rule's limit
    int64_t n_late = 0;                      // requests sent more than max_lateness_ms after they were due
    std::vector<std::pair<std::string, double>> server_metrics_delta;  // /metrics after - before
    std::string server_metrics_note;         // why there is no delta
    // Distributed load (load_shard.h): the generators whose samples were merged, "HOST (shard I/K, N queries)";
    // empty for a single generator.
    std::vector<std::string> generators;
};

// How N was counted, for printing: token_source, with the tokenizer's file name when it counted
// ("tokenizer stories260K.gguf").
std::string token_source_text(const RemoteStats& s);

}  // namespace accel::bench
