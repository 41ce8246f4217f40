// accel run-shard: one shard of a plan, written as an attempt folder for accel db merge (fleet/).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "accel/fleet/plan.h"
#include "accel/fleet/shard_runner.h"
#include "campaign_printer.h"
#include "commands.h"

namespace accel::cli {
namespace {

struct RunShardCli {
    std::string plan;
    int32_t index = 0;
    std::string out;
    int32_t attempt = -1;
};

int run_run_shard(const RunShardCli& o) {
    const fleet::Plan plan = fleet::read_plan(o.plan);
    CampaignPrinter printer("run-shard");
    const fleet::ShardOutcome r = fleet::run_shard(
        plan,
        {.index = o.index,
         .out_dir = o.out.empty() ? std::filesystem::path(plan.run.results_dir) : std::filesystem::path(o.out),
         .attempt = o.attempt >= 0 ? std::optional(o.attempt) : std::nullopt,
         .command = fmt::format("accel run-shard --plan {} --index {}", o.plan, o.index)},
        printer);
    fmt::print("shard {} (index {}) attempt {}: {}{}{}\n", r.shard_id, o.index, r.attempt, r.status,
               r.reason.empty() ? "" : ": ", r.reason);
    fmt::print("{}\n", r.dir.string());
    if (r.status != "complete") return exit_runtime;
    if (r.counts.n_failed > 0) {
        fmt::print(stderr, "run-shard: {} of {} points failed\n", r.counts.n_failed, r.counts.n_points);
        return exit_check;
    }
    return exit_ok;
}

}  // namespace

void register_run_shard(CLI::App& app, int& exit_code) {
    auto r = std::make_shared<RunShardCli>();
    auto* rs = app.add_subcommand(
        "run-shard",
        "Run one shard of a plan and write its results (Parquet, provenance, result.json) to\n"
        "OUT/<campaign>/<shard>/attempt-<n>/. Exit 1 when the shard failed or its hardware requirement is unmet\n"
        "(written as its result), 3 when some of its points failed.");
    rs->add_option("--plan", r->plan, "plan.json from accel plan")->required();
    rs->add_option("--index", r->index, "The shard's index in the plan")->required();
    rs->add_option("--out", r->out, "The shared results folder (default: the plan's results_dir)");
    rs->add_option("--attempt", r->attempt,
                   "Attempt number (default: $SLURM_RESTART_COUNT under Slurm, else the next unused one)");
    rs->callback([r, &exit_code] { exit_code = run_run_shard(*r); });
}

}  // namespace accel::cli
