#pragma once

// Distributed load for accel bench --target (docs/multinode.md): k load-generator processes, on as many hosts,
// drive one server with one arrival schedule. Every generator draws the same seeded Poisson schedule and the same
// requests; generator i of k issues the queries whose index % k == i, from a common wall-clock start, and writes its
// raw per-query samples to a file. merge_load_shards() puts the files back together into one point whose
// percentiles come from the union of the samples (never an average of per-generator percentiles), through the same
// statistics, validity and early-stopping rules as a single generator's point (remote_outcome).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/bench/load_runner.h"
#include "accel/bench/point_result.h"
#include "accel/bench/remote_outcome.h"
#include "accel/bench/remote_target.h"

namespace accel::bench {

// --load-shard I/K --start-at EPOCH_MS --samples-out FILE.
struct LoadShard {
    int32_t index = 0;
    int32_t count = 1;
    int64_t start_at_ms = 0;            // the schedule's start, ms since the Unix epoch on each host's system clock
    std::filesystem::path samples_out;  // "" when not sharded
    bool active() const { return !samples_out.empty(); }
};

// "I/K" with 0 <= I < K <= 1024. Throws Error{invalid_input} naming the flag.
LoadShard parse_load_shard(const std::string& text);

// The queries of a schedule of n that shard index of count issues: index, index + count, ... (ascending).
std::vector<uint32_t> shard_queries(size_t n, int32_t index, int32_t count);

// The steady_clock time of start_at_ms (system clock, ms since the epoch) on this host. Throws Error{invalid_input}
// when it is not in the future: every generator must be started, and warmed up, before the common start.
std::chrono::steady_clock::time_point steady_start(int64_t start_at_ms);

// This host's name (gethostname), "unknown" when it has none: names a generator in the merged point.
std::string generator_host();

// One query as a load generator saw it; times in ns from the schedule's start on the generator's own clock.
struct RemoteSample {
    uint32_t query = 0;  // index in the whole schedule
    int64_t due_ns = 0;  // when it was due (the schedule)
    int64_t sent_ns = 0;
    std::vector<int64_t> chunk_ns;  // each chunk with content (TTFT = chunk_ns[0] - due_ns)
    int64_t done_ns = 0;            // the stream's end (E2E = done_ns - due_ns)
    std::optional<int32_t> completion_tokens;
    std::optional<int32_t> prompt_tokens;
    std::optional<int32_t> tokenizer_tokens;  // the text's tokens by --tokenizer (when given)
    int32_t status = 0;                       // HTTP status; 0: no answer
    std::string error;   // "" for a complete 200 stream
};

// The samples of a run (run.t0 is the schedule's start); queries[j] is the schedule index of responses[j].
std::vector<RemoteSample> remote_samples(const LoadRun& run, std::span<const RemoteResponse> responses,
                                         std::span<const uint32_t> queries);

// remote_outcome over samples, as if one generator had measured them all (from the schedule: the server scenario).
RemoteOutcome remote_outcome_of_samples(std::span<const RemoteSample> samples, int64_t max_issue_lag_ns,
                                        double target_qps, int32_t concurrency, const ServerSlo& slo,
                                        double max_lateness_ms);

// One generator's file: its point as it measured it (its share only), what every shard must agree on, and samples.
struct LoadShardFile {
    std::filesystem::path path;  // where it was read from
    LoadShard shard;
    std::string host;  // the generator's hostname
    PointResult point;
    uint64_t seed = 0;       // --seed: the schedule's and the requests'
    int64_t n_schedule = 0;  // queries in the whole schedule
    ServerSlo slo;
    double max_lateness_ms = 0;
    int64_t max_issue_lag_ns = 0;
    std::vector<RemoteSample> samples;
};

// Writes the file (schema_version 1, kind "accel-load-shard") through a temporary file and a rename. Throws Error{io}.
void write_load_shard(const LoadShardFile& f);
// Throws Error{invalid_input} naming the file when it is not a shard file.
LoadShardFile read_load_shard(const std::filesystem::path& path);

// What every shard of one schedule must share ("target", "seed", ...), as "key=value" lines in a fixed order.
std::vector<std::pair<std::string, std::string>> schedule_identity(const LoadShardFile& f);

struct MergedLoad {
    PointResult point;                   // ready to store: one point, as a single generator's
    std::vector<std::string> generators; // "HOST (shard I/K, N queries)" per file, by shard
};

// Merges the shard files in dir (every regular *.json file). Throws Error{invalid_input} with one line naming the
// files for: no file, a file that is not a shard, shards of different schedules (target, served model, workload,
// lengths, seed, QPS, schedule size, shard count, start, rules), a shard given twice, a shard missing.
MergedLoad merge_load_shards(const std::filesystem::path& dir);
// The same over files already read (tests).
MergedLoad merge_load_shards(std::vector<LoadShardFile> files);

}  // namespace accel::bench
