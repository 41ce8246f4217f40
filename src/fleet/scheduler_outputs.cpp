// Slurm, Kubernetes and plain-command outputs of a plan.
#include "accel/fleet/scheduler_outputs.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/core/paths.h"

namespace accel::fleet {
namespace {

// A word for bash: single-quoted, with ' written as '\''.
std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A YAML scalar: a JSON string is a valid double-quoted YAML scalar.
std::string yq(const std::string& s) {
    return nlohmann::json(s).dump();
}

// A Kubernetes name or label value: lower-case letters, digits and '-', starting and ending alphanumeric.
std::string dns_label(const std::string& s, size_t max_len) {
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
    }
    if (out.size() > max_len) out.resize(max_len);
    while (!out.empty() && out.back() == '-') out.pop_back();
    while (!out.empty() && out.front() == '-') out.erase(out.begin());
    return out.empty() ? "accel" : out;
}

std::string index_list(const std::vector<int32_t>& shards) {
    std::string out;
    for (int32_t i : shards) out += (out.empty() ? "" : " ") + std::to_string(i);
    return out;
}

void write_file(const std::filesystem::path& path, const std::string& text, bool executable) {
    PartialFile f(path);
    {
        std::ofstream out(f.path());
        out << text;
        if (!out.flush()) throw Error(ErrorKind::io, path.string() + ": cannot write");
    }
    if (executable) {
        std::filesystem::permissions(f.path(), std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec |
                                                   std::filesystem::perms::others_exec,
                                     std::filesystem::perm_options::add);
    }
    f.commit();
}

std::string run_shard_line(const Plan& plan, const std::string& plan_file, const std::string& index) {
    return fmt::format("run-shard --plan {} --index {} --out {}", plan_file, index,
                       plan.run.results_dir.empty() ? std::string("results") : sh_quote(plan.run.results_dir));
}

}  // namespace

std::vector<RequirementClass> requirement_classes(const Plan& plan) {
    std::vector<RequirementClass> out;
    for (const Shard& s : plan.shards) {
        const std::string name = s.requirement.class_name();
        auto it = std::find_if(out.begin(), out.end(), [&](const RequirementClass& c) { return c.name == name; });
        if (it == out.end()) it = out.insert(out.end(), RequirementClass{.name = name, .requirement = s.requirement});
        it->shards.push_back(s.index);
        it->max_estimate_s = std::max(it->max_estimate_s, s.estimate_s);
    }
    return out;
}

std::string slurm_time_limit(const Plan& plan, const RequirementClass& cls) {
    const auto minutes = static_cast<int64_t>(std::ceil(cls.max_estimate_s * plan.slurm.time_factor / 60.0)) + 5;
    return fmt::format("{}-{:02}:{:02}:00", minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
}

std::string slurm_script(const Plan& plan, const RequirementClass& cls, const std::filesystem::path& plan_file) {
    const std::string logs = (std::filesystem::path(plan.run.results_dir) / plan.campaign / "logs").string();
    std::string s = fmt::format(
        "#!/bin/bash\n"
        "# accel campaign {}, requirement class {}: {} ({} shard(s)).\n"
        "# Written by accel plan; submit-slurm.sh submits it.\n"
        "#SBATCH --job-name=accel-{}-{}\n"
        "#SBATCH --array=0-{}\n"
        "#SBATCH --requeue\n"
        "#SBATCH --time={}\n"
        "#SBATCH --nodes=1\n"
        "#SBATCH --ntasks=1\n"
        "#SBATCH --open-mode=append\n"
        "#SBATCH --output={}/%x_%A_%a.out\n",
        plan.campaign, cls.name, cls.requirement.describe(), cls.shards.size(), plan.campaign, cls.name,
        cls.shards.size() - 1, slurm_time_limit(plan, cls), logs);
    if (!cls.requirement.slurm_gres.empty()) s += "#SBATCH --gres=" + cls.requirement.slurm_gres + "\n";
    if (!cls.requirement.slurm_constraint.empty()) {
        s += "#SBATCH --constraint=" + cls.requirement.slurm_constraint + "\n";
    }
    if (!plan.slurm.partition.empty()) s += "#SBATCH --partition=" + plan.slurm.partition + "\n";
    for (const auto& e : plan.slurm.extra) s += "#SBATCH " + e + "\n";
    s += fmt::format(
        "set -euo pipefail\n"
        "# Array task -> the plan's shard index. A requeued task sees SLURM_RESTART_COUNT and writes a new attempt.\n"
        "shards=({})\n"
        "exec \"${{ACCEL:-accel}}\" {}\n",
        index_list(cls.shards),
        run_shard_line(plan, sh_quote(plan_file.string()), "\"${shards[$SLURM_ARRAY_TASK_ID]}\""));
    return s;
}

std::string slurm_submit_script(const Plan& plan, const std::vector<RequirementClass>& classes) {
    const std::filesystem::path campaign_dir = std::filesystem::path(plan.run.results_dir) / plan.campaign;
    std::string s = fmt::format(
        "#!/bin/bash\n"
        "# Submits campaign {}'s Slurm arrays, one per requirement class. A class that sbatch refuses (no node\n"
        "# has its GRES or feature) is reported as unplaceable, written to <shard>/unplaceable.txt for\n"
        "# accel db merge, and the other classes are still submitted. Prints one 'CLASS: job ID' line per array; exits 3 when a class\n"
        "# could not be placed.\n"
        "set -uo pipefail\n"
        "cd \"$(dirname \"$0\")\"\n"
        "campaign_dir={}\n"
        "mkdir -p \"$campaign_dir/logs\"\n"
        "status=0\n"
        "submit() {{\n"
        "    local cls=$1 script=$2 out id\n"
        "    shift 2\n"
        "    if out=$(sbatch --parsable \"$script\" 2>&1); then\n"
        "        echo \"$cls: job ${{out%%;*}}\"\n"
        "        return\n"
        "    fi\n"
        "    out=$(tr '\\n' ' ' <<<\"$out\")\n"
        "    echo \"$cls: unplaceable: $out\" >&2\n"
        "    status=3\n"
        "    for id in \"$@\"; do\n"
        "        mkdir -p \"$campaign_dir/$id\"\n"
        "        printf 'class %s: sbatch refused it: %s\\n' \"$cls\" \"$out\" >\"$campaign_dir/$id/unplaceable.txt\"\n"
        "    done\n"
        "}}\n",
        plan.campaign, sh_quote(campaign_dir.string()));
    for (const auto& c : classes) {
        std::string ids;
        for (int32_t i : c.shards) ids += " " + plan.shards.at(static_cast<size_t>(i)).id;
        s += fmt::format("submit {} slurm/{}.sbatch{}\n", sh_quote(c.name), c.name, ids);
    }
    return s + "exit $status\n";
}

std::string kubernetes_manifest(const Plan& plan, const std::vector<RequirementClass>& classes) {
    std::string y;
    for (const auto& c : classes) {
        const std::string name = dns_label("accel-" + plan.campaign + "-" + c.name, 52);  // room for pod suffixes
        const size_t n = c.shards.size();
        const auto limit = static_cast<size_t>(plan.kubernetes.parallelism);
        const size_t parallel = limit > 0 ? std::min(n, limit) : n;
        const std::string cmd = fmt::format("shards=({}); exec accel {}", index_list(c.shards),
                                            fmt::format("run-shard --plan /accel/plan.json --index "
                                                        "\"${{shards[$JOB_COMPLETION_INDEX]}}\" --out /accel/results"));
        y += fmt::format(
            "---\n"
            "# accel campaign {}, requirement class {}: {}\n"
            "apiVersion: batch/v1\n"
            "kind: Job\n"
            "metadata:\n"
            "  name: {}\n"
            "  namespace: {}\n"
            "  labels:\n"
            "    app.kubernetes.io/name: accel\n"
            "    accel.dev/campaign: {}\n"
            "spec:\n"
            "  completionMode: Indexed\n"
            "  completions: {}\n"
            "  parallelism: {}\n"
            "  backoffLimit: {}\n"
            "  template:\n"
            "    metadata:\n"
            "      labels:\n"
            "        app.kubernetes.io/name: accel\n"
            "        accel.dev/campaign: {}\n"
            "    spec:\n"
            "      restartPolicy: Never\n"
            "      nodeSelector:\n"
            "        kubernetes.io/os: linux\n",
            plan.campaign, c.name, c.requirement.describe(), name, yq(plan.kubernetes.namespace_name),
            yq(dns_label(plan.campaign, 63)), n, parallel, 3 * n, yq(dns_label(plan.campaign, 63)));
        for (const auto& [k, v] : c.requirement.node_selector) y += fmt::format("        {}: {}\n", yq(k), yq(v));
        y += fmt::format(
            "      containers:\n"
            "        - name: accel\n"
            "          image: {}\n"
            "          command: [\"bash\", \"-c\", {}]\n",
            yq(plan.kubernetes.image), yq(cmd));
        if (!c.requirement.k8s_resource.empty()) {
            y += fmt::format("          resources:\n            limits:\n              {}: 1\n",
                             yq(c.requirement.k8s_resource));
        }
        y += fmt::format(
            "          volumeMounts:\n"
            "            - name: campaign\n"
            "              mountPath: /accel\n"
            "      volumes:\n"
            "        - name: campaign\n"
            "          persistentVolumeClaim:\n"
            "            claimName: {}\n",
            yq(plan.kubernetes.volume_claim));
    }
    return y;
}

std::string commands_text(const Plan& plan, const std::filesystem::path& plan_file) {
    std::string out;
    for (const Shard& s : plan.shards) {
        out += "accel " + run_shard_line(plan, sh_quote(plan_file.string()), std::to_string(s.index)) + "\n";
    }
    return out;
}

PlanFiles write_plan_outputs(Plan& plan, const std::filesystem::path& out_dir) {
    const std::filesystem::path dir = std::filesystem::absolute(out_dir).lexically_normal();
    if (plan.run.results_dir.empty()) plan.run.results_dir = (dir / "results").string();
    paths::ensure_dir(dir / "slurm");
    PlanFiles f{.plan = dir / "plan.json",
                .commands = dir / "commands.txt",
                .kubernetes = dir / "kubernetes.yaml",
                .slurm_submit = dir / "submit-slurm.sh",
                .slurm_scripts = {}};
    const auto classes = requirement_classes(plan);
    write_file(f.plan, plan_to_json(plan), false);
    write_file(f.commands, commands_text(plan, f.plan), false);
    write_file(f.kubernetes, kubernetes_manifest(plan, classes), false);
    for (const auto& c : classes) {
        f.slurm_scripts.push_back(dir / "slurm" / (c.name + ".sbatch"));
        write_file(f.slurm_scripts.back(), slurm_script(plan, c, f.plan), true);
    }
    write_file(f.slurm_submit, slurm_submit_script(plan, classes), true);
    return f;
}

}  // namespace accel::fleet
