#pragma once

// What `accel plan` writes beside plan.json: a Slurm job array per requirement class and a script that submits
// them, a Kubernetes Indexed Job per class, and a plain list of run-shard commands (GNU parallel, ssh).

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "accel/fleet/plan.h"

namespace accel::fleet {

// The shards of each requirement class, in the order the classes first appear in the plan.
struct RequirementClass {
    std::string name;
    HardwareRequirement requirement;
    std::vector<int32_t> shards;
    double max_estimate_s = 0;
};
std::vector<RequirementClass> requirement_classes(const Plan& plan);

// One #SBATCH array script: --array=0-(n-1) over the class's shards, --requeue, a --time limit of time_factor x
// the longest shard's estimate plus 5 minutes, the class's GRES and constraint. The task runs
// "${ACCEL:-accel} run-shard --plan PLAN --index I --out RESULTS".
std::string slurm_script(const Plan& plan, const RequirementClass& cls, const std::filesystem::path& plan_file);
// Submits every class's script with sbatch; a class sbatch refuses (no node has its GRES or feature) is reported
// as unplaceable and written to RESULTS/CAMPAIGN/<shard>/unplaceable.txt for `accel db merge`. Exits 3 then.
std::string slurm_submit_script(const Plan& plan, const std::vector<RequirementClass>& classes);
// Kubernetes Indexed Jobs (batch/v1), one YAML document per class: completionMode Indexed,
// JOB_COMPLETION_INDEX selecting the shard, nodeSelector and GPU resource limits from the requirement, the
// campaign's volume claim mounted at /accel (the plan at /accel/plan.json, results under /accel/results).
std::string kubernetes_manifest(const Plan& plan, const std::vector<RequirementClass>& classes);
// One run-shard command per line, in shard order.
std::string commands_text(const Plan& plan, const std::filesystem::path& plan_file);

// The Slurm time limit of a class, "D-HH:MM:SS".
std::string slurm_time_limit(const Plan& plan, const RequirementClass& cls);

struct PlanFiles {
    std::filesystem::path plan, commands, kubernetes, slurm_submit;
    std::vector<std::filesystem::path> slurm_scripts;
};

// Writes plan.json, commands.txt, kubernetes.yaml, submit-slurm.sh and slurm/<class>.sbatch into out_dir (each
// written whole, then renamed). An empty plan.run.results_dir becomes out_dir/results first. Throws Error{io}.
PlanFiles write_plan_outputs(Plan& plan, const std::filesystem::path& out_dir);

}  // namespace accel::fleet
