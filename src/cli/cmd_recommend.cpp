// accel recommend: flags and the exit code. The evidence, the search and the scoring are in tune/ (recommend_run.h);
// the output is in recommend_printer.cpp.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "accel/bench/price_table.h"
#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "accel/tune/recommend.h"
#include "accel/tune/recommend_run.h"
#include "campaign_printer.h"
#include "commands.h"
#include "output.h"
#include "recommend_printer.h"

namespace accel::cli {
namespace {

struct RecommendOptions {
    std::string model;
    std::string objective;
    std::string weights;
    std::optional<double> max_p99_ms, max_memory_gb, min_tokens_per_s;
    std::string search = "none";
    std::string db;
    int32_t reps = 3;
    int32_t n_gen = 128;
    int32_t max_points = 16;
    int32_t confirm_rounds = 2;
    int32_t timeout_s = 600;
    std::optional<double> price_per_hour;
    FormatOption format;
};

// Every flag is checked before the database is touched or anything measured.
tune::RecommendRequest request_from(const RecommendOptions& o) {
    if (o.model.empty()) throw Error(ErrorKind::invalid_input, "--model is required");
    if (!o.objective.empty() && !o.weights.empty()) {
        throw Error(ErrorKind::invalid_input, "--objective and --weights cannot be combined: give one");
    }
    const auto weights = !o.weights.empty()
                             ? tune::parse_weights(o.weights)
                             : std::vector<tune::ObjectiveWeight>{
                                   {tune::parse_objective(o.objective.empty() ? "throughput" : o.objective), 1.0}};
    const auto positive = [](const char* flag, const std::optional<double>& v) {
        if (v && (!std::isfinite(*v) || *v <= 0)) {
            throw Error(ErrorKind::invalid_input, fmt::format("{} must be a positive number, not {:g}", flag, *v));
        }
    };
    positive("--max-p99-ms", o.max_p99_ms);
    positive("--max-memory", o.max_memory_gb);
    positive("--min-tokens-per-s", o.min_tokens_per_s);
    positive("--price-per-hour", o.price_per_hour);
    if (o.search != "none" && o.search != "quick") {
        throw Error(ErrorKind::invalid_input, fmt::format("--search: unknown mode '{}' (expected none or quick)", o.search));
    }
    if (o.reps < 1) throw Error(ErrorKind::invalid_input, "-r must be at least 1");
    if (o.n_gen < 1) throw Error(ErrorKind::invalid_input, "-n must be at least 1");
    if (o.max_points < 1) throw Error(ErrorKind::invalid_input, "--max-points must be at least 1");
    if (o.confirm_rounds < 0) throw Error(ErrorKind::invalid_input, "--confirm-rounds must be 0 or more");
    return {.db = o.db.empty() ? paths::default_db() : std::filesystem::path(o.db),
            .model = o.model,
            .weights = weights,
            .constraints = {.max_p99_ms = o.max_p99_ms, .max_memory_gb = o.max_memory_gb,
                            .min_tokens_per_s = o.min_tokens_per_s},
            .search = o.search == "quick",
            .reps = o.reps,
            .n_gen = o.n_gen,
            .max_points = o.max_points,
            .confirm_rounds = o.confirm_rounds,
            .timeout = std::chrono::seconds(o.timeout_s),
            .prices = bench::resolve_prices(o.price_per_hour, paths::config_file())};
}

int run_recommend(const RecommendOptions& o) {
    const tune::RecommendRequest request = request_from(o);
    const Format format = o.format.resolve();
    CampaignPrinter printer("recommend");
    const tune::RecommendOutcome out = tune::run_recommend(request, printer);
    print_stored_run("recommend", out.run_id, out.stored_in, out.spooling);
    if (format == Format::json) {
        print_recommendation_json(out, o.model);
    } else {
        print_recommendation(out, o.model);
    }
    return out.recommendation.feasible() ? exit_ok : exit_check;
}

}  // namespace

void register_recommend(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<RecommendOptions>();
    auto* cmd = app.add_subcommand(
        "recommend",
        "Recommend a configuration for a model from the stored results: constraints filter, objectives rank.\n"
        "A configuration is device, model variant (same model, other quantization), KV cache types, flash attention,\n"
        "threads, batch sizes and GPU layers. Exit 3 when no configuration meets the constraints.\n"
        "--search quick measures the missing neighbours (a hill-climb that stops below a 5% gain) and stores them.");
    cmd->add_option("--model,-m", o->model, "Model file (matched to stored results by its sha256)");
    cmd->add_option("--objective", o->objective, "throughput (default), latency, memory or energy");
    cmd->add_option("--weights", o->weights, "Several objectives, e.g. throughput=0.7,latency=0.3 (see docs)");
    cmd->add_option("--max-p99-ms", o->max_p99_ms, "Constraint: p99 per-token latency at most this many ms");
    cmd->add_option("--max-memory", o->max_memory_gb, "Constraint: peak RSS + device memory at most this many GB");
    cmd->add_option("--min-tokens-per-s", o->min_tokens_per_s, "Constraint: generation tokens/s at least this");
    cmd->add_option("--search", o->search, "none (stored results only) or quick (measure the gaps)")->default_val("none");
    cmd->add_option("--price-per-hour", o->price_per_hour,
                    "Your price of one machine-hour (any currency): a cost per million tokens next to tokens/s; "
                    "replaces the config file's [price] (per machine fingerprint or device)");
    cmd->add_option("--db", o->db, "Results database (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)");
    cmd->add_option("-r,--repetitions", o->reps, "--search quick: timed repetitions per point")->default_val(3);
    cmd->add_option("-n,--n-gen", o->n_gen, "--search quick: tokens generated per tg point")->default_val(128);
    cmd->add_option("--max-points", o->max_points, "--search quick: measurements at most")->default_val(16);
    cmd->add_option("--confirm-rounds", o->confirm_rounds,
                    "--search quick: re-measure the best against the default, interleaved A B / B A, this many rounds "
                    "before claiming a gain (0: no check)")
        ->default_val(2);
    cmd->add_option("--timeout", o->timeout_s, "--search quick: seconds per point before it is killed")->default_val(600);
    add_format_option(*cmd, o->format, {"table", "json"});
    cmd->callback([o, &exit_code] { exit_code = run_recommend(*o); });
}

}  // namespace accel::cli
