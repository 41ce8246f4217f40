#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accel/bench/sweep.h"
#include "accel/tune/recommend.h"

namespace accel::tune {

// The dimensions the quick search may move along.
struct SearchSpace {
    std::vector<std::string> devices{"cpu"};  // ggml device names present here; ngl moves only on non-cpu ones
    int32_t n_logical_cores = 1;
    std::vector<Config> variants;             // other files of the model (sha256, path, label) that exist here
};

struct SearchOptions {
    std::vector<ObjectiveWeight> weights{{Objective::throughput, 1.0}};
    Constraints constraints;
    int32_t n_gen = 128;      // every configuration is measured as one tg point of this length
    double min_gain = 0.05;   // stop when the best neighbour is less than this much better
    int32_t max_points = 16;  // measurements at most (stored points are free)
};

// What one measurement gave: the observation, or why the point failed. The callee stores it (bench::RunRecorder).
struct Measured {
    std::optional<Observation> observation;
    std::string failure;
};
// Measures the tg point `spec` of configuration `config`. Injected so tests can substitute exact figures.
using MeasureFn = std::function<Measured(const bench::PointSpec& spec, const Config& config)>;

struct SearchStep {
    Config config;
    std::string source;  // "stored", "measured", "failed"
    std::string result_id;  // stored points only (a fresh measurement gets its id when stored)
    std::optional<double> tokens_per_s;
    std::optional<double> p99_token_ms;
    std::optional<double> memory_bytes;
    bool feasible = false;
    std::string failure;
    bool chosen = false;  // the climb moved to (or started at) this configuration
};

struct SearchLog {
    std::vector<SearchStep> steps;  // every configuration evaluated, in order
    Config best;
    int32_t n_measured = 0;
    int32_t n_reused = 0;
    std::string stop_reason;
    std::vector<Observation> measured;  // the fresh observations (result ids empty)
};

// The configurations one step away from c: threads halved/doubled (within the cores), n_ubatch halved/doubled
// (within n_batch), n_batch halved/doubled (not below n_ubatch, at most 4096), the KV cache types f16, q8_0, q4_0
// (a quantised V cache turns flash attention on: llama.cpp needs it), flash attention on/off/auto, every other
// device, ngl 0/-1 on a non-cpu device, and the same configuration on every variant.
std::vector<Config> neighbours(const Config& c, const SearchSpace& space);

// The key of c's tg point of length n_gen for reuse (bench::spec_key with the model's sha256 in place of its path).
std::string point_key(const Config& c, int32_t n_gen);

// Hill-climb from `start`: evaluate every neighbour of the current configuration (a stored tg point of the same key
// is reused, otherwise `measure` is called), move to the best one when it beats the current by at least
// min_gain (a feasible one always beats an infeasible one; between infeasible ones the smaller violation wins),
// and stop when no neighbour gains that much or max_points measurements are spent.
SearchLog quick_search(const std::vector<Observation>& stored, const Config& start, const SearchSpace& space,
                       const SearchOptions& options, const MeasureFn& measure);

}  // namespace accel::tune
