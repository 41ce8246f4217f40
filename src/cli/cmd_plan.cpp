// accel plan: a campaign cut into shards for a scheduler (fleet/).
#include <memory>
#include <string>

#include <fmt/core.h>

#include "accel/fleet/plan.h"
#include "accel/fleet/scheduler_outputs.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct PlanCli {
    std::string spec;
    std::string out = "accel-plan";
    FormatOption format;
};

int run_plan(const PlanCli& o) {
    fleet::Plan plan = fleet::plan_from_spec(o.spec);
    const fleet::PlanFiles files = fleet::write_plan_outputs(plan, o.out);
    Table t{.columns = {"index", "shard", "class", "requirement", "points", "estimate_s"},
            .numeric = {true, false, false, false, true, true},
            .rows = {}};
    for (const auto& s : plan.shards) {
        t.rows.push_back({std::to_string(s.index), s.id, s.requirement.class_name(), s.requirement.describe(),
                          std::to_string(s.points.size()), fmt::format("{:.0f}", s.estimate_s)});
    }
    print_table(t, o.format.resolve());
    fmt::print(stderr, "plan: campaign {}: {} shards in {} requirement class(es); wrote {}\n", plan.campaign,
               plan.shards.size(), files.slurm_scripts.size(), files.plan.parent_path().string());
    fmt::print(stderr, "plan: Slurm: {}; Kubernetes: {}; commands: {}; results go to {}\n",
               files.slurm_submit.string(), files.kubernetes.string(), files.commands.string(), plan.run.results_dir);
    return exit_ok;
}

}  // namespace

void register_plan(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<PlanCli>();
    auto* cmd = app.add_subcommand(
        "plan",
        "Cut a benchmark campaign (SPEC.toml: models x devices x configurations x scenarios) into shards with\n"
        "stable ids and hardware requirements; writes plan.json, Slurm job arrays (submit-slurm.sh), Kubernetes\n"
        "Indexed Jobs (kubernetes.yaml) and commands.txt. See docs/multinode.md.");
    cmd->add_option("spec", o->spec, "The campaign spec (TOML)")->required();
    cmd->add_option("--out", o->out, "Folder for the plan and the scheduler files")->default_val("accel-plan");
    add_format_option(*cmd, o->format, {"table", "csv", "json", "markdown"});
    cmd->callback([o, &exit_code] { exit_code = run_plan(*o); });
}

}  // namespace accel::cli
