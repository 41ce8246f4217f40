#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accel/bench/point_result.h"
#include "accel/bench/price_table.h"

// Recommendations: constraints filter the measured configurations, objectives rank them (Triton model_analyzer's
// model). Plain structs in, a Recommendation out; nothing here reads the database or measures (see
// recommend_data.h and recommend_search.h). docs/recommend.md states the scoring formula.
namespace accel::tune {

enum class Objective : uint8_t { throughput, latency, memory, energy };
std::string_view to_string(Objective o);
// Throws Error{invalid_input} naming `flag` and the text, listing the accepted names.
Objective parse_objective(std::string_view text, std::string_view flag = "--objective");

struct ObjectiveWeight {
    Objective objective = Objective::throughput;
    double weight = 1.0;  // > 0; weights are divided by their sum
};
// "throughput=0.7,latency=0.3". Throws Error{invalid_input} with a one-line message for an unknown objective, a
// weight that is not a positive finite number, a repeated objective or an empty list.
std::vector<ObjectiveWeight> parse_weights(std::string_view text);

// Limits a configuration must meet; unset limits are not checked.
struct Constraints {
    std::optional<double> max_p99_ms;        // p99 per-token latency
    std::optional<double> max_memory_gb;     // peak RSS + device memory, GB = 1e9 bytes
    std::optional<double> min_tokens_per_s;  // generation throughput
};

// One point of the configuration space. The requested settings (what `accel bench` was asked for), so that the
// default configuration and already measured points can be recognised exactly.
struct Config {
    std::string device = "cpu";
    std::string model_sha256;
    std::string variant;     // the model's type as stored (models.file_type, e.g. "llama 100M Q4_0")
    std::string model_path;  // the file it was measured from (the quick search runs it again)
    std::string type_k = "f16";
    std::string type_v = "f16";
    std::string flash_attn = "auto";  // on, off, auto
    int32_t n_threads = 0;            // 0: one per logical core
    int32_t n_batch = 2048;
    int32_t n_ubatch = 512;
    int32_t n_gpu_layers = -1;        // -1: placement decides
};
// Identity of a configuration: every field except the path and the variant label.
std::string config_key(const Config& c);
// accel bench's defaults (src/cli/cmd_bench.cpp BenchOptions) for the model with this sha256.
Config default_config(const std::string& model_sha256);
// A tg point of this configuration (n_prompt 0), as the quick search measures it.
bench::PointSpec tg_spec(const Config& c, int32_t n_gen);
// "cpu t=4 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1".
std::string describe(const Config& c);

// One stored (or just measured) result, reduced to what recommend needs.
struct Observation {
    std::string result_id;
    std::string run_id;
    std::string machine_id;  // the run's machine (fingerprint id), for its price
    Config config;
    std::string scenario;  // tg, pg, pp, latency (others are ignored)
    int32_t n_prompt = 0;
    int32_t n_gen = 0;
    std::optional<double> tokens_per_s;          // avg_ts
    std::optional<double> p99_token_ms;          // p99 over repetitions of the time per output token
    std::optional<uint64_t> peak_rss_bytes;
    std::optional<uint64_t> device_memory_bytes;
    std::optional<double> joules_per_token;
    std::string energy_unavailable;              // why joules_per_token is unset
    int32_t n_samples = 0;
    bool noisy = false;
    std::vector<int64_t> samples_ns{};  // the raw time of each timed repetition (empty for imported results)
};

// The observation of a measured point. Energy: the RAPL package domains summed (sub-domains such as core or dram
// are inside a package and would count twice; without package domains the top-level ones are summed), plus any
// other stored counter (a GPU's), over the tokens of the timed repetitions. The counter window also covers loading
// and warm-up, so it is an upper bound.
Observation observation_from_point(const bench::PointResult& r, const std::string& result_id,
                                   const std::string& run_id, const std::string& variant);

// What a configuration achieved, with the result ids each figure comes from.
struct Metrics {
    std::optional<double> tokens_per_s;
    std::optional<double> p99_token_ms;
    std::optional<double> memory_bytes;   // peak RSS + device memory (the largest over the config's results)
    std::optional<double> joules_per_token;
    std::string energy_unavailable;
    std::vector<std::string> evidence;    // every result id of this configuration
    std::string machine_id;               // the machine of the throughput figure (for the cost)
    int32_t min_samples = 0;              // fewest samples behind the throughput/latency figures
    bool noisy = false;
};
std::optional<double> metric(const Metrics& m, Objective o);
bool higher_is_better(Objective o);

struct ConstraintVerdict {
    std::string name;   // max_p99_ms, max_memory_gb, min_tokens_per_s
    double limit = 0;
    std::optional<double> value;  // unset: not measured for this configuration
    bool pass = false;
    double margin = 0;  // how far inside (>= 0) or outside (< 0) the limit, in the limit's unit
    std::string text;   // "p99 12.0 ms within the 20 ms limit", "p99 25.1 ms exceeds the 20 ms limit by 5.1 ms (26%)"
};

struct Candidate {
    Config config;
    Metrics metrics;
    std::vector<ConstraintVerdict> verdicts;
    bool feasible = false;
    std::optional<double> score;   // (0, 1]; unset when an objective's figure is missing
    double violation = 0;          // sum over failed constraints of |margin| / limit (0 when feasible)
    std::vector<std::string> vs_default;  // "1.80x the tokens/s of the default", one per objective
    bool is_default = false;
    // With a price given (apply_prices): its machine-hour price and the cost of a million generated tokens at the
    // measured tokens/s; unset without a price or a throughput.
    std::optional<double> price_per_hour;
    std::optional<double> cost_per_million_tokens;
};

struct Recommendation {
    std::vector<ObjectiveWeight> weights;  // normalised to sum 1
    Constraints constraints;
    std::vector<Candidate> ranked;      // feasible, best first
    std::vector<Candidate> unranked;    // feasible, but missing a figure an objective needs
    std::vector<Candidate> infeasible;  // nearest first (smallest violation)
    std::optional<Candidate> default_config;
    int32_t n_configurations = 0;
    std::vector<std::string> notes;     // thin evidence, unavailable figures, what failed
    bool feasible() const { return !ranked.empty() || !unranked.empty(); }
};

struct RecommendInput {
    std::string model_sha256;               // the model asked about; its default config is the baseline
    std::vector<Observation> observations;  // of the model and its variants
    std::vector<ObjectiveWeight> weights;   // one entry for a single objective
    Constraints constraints;
    int32_t thin_configs = 3;  // fewer configurations than this: the evidence is called thin
};

// Groups observations by configuration, checks the constraints and ranks. Never throws for missing figures: they
// become notes and verdicts.
Recommendation recommend(const RecommendInput& in);

// Score of a configuration's metrics against a reference (ratio to the reference per objective, weighted sum):
// used by the quick search, where the best of all candidates is not known yet. Unset when a figure is missing.
std::optional<double> relative_score(const Metrics& m, const Metrics& reference,
                                     const std::vector<ObjectiveWeight>& weights);
Metrics aggregate(const std::vector<const Observation*>& obs);
// Fills each candidate's price and cost per million tokens from the user's prices (the machine and device of its
// throughput figure); adds a note naming the price. No price, no cost: nothing changes.
void apply_prices(Recommendation& rec, const bench::PriceTable& prices);
std::vector<ConstraintVerdict> check(const Metrics& m, const Constraints& c);

}  // namespace accel::tune
