#pragma once

// A campaign plan: a benchmark matrix (models x devices x configurations x scenarios, bench's sweep syntax) cut
// into shards that a scheduler (Slurm, Kubernetes, GNU parallel) places on the machines that have the hardware.
// A shard's id is a hash of its content, so re-planning the same spec gives the same ids.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "accel/bench/point_runner.h"
#include "accel/bench/sweep.h"

namespace accel::fleet {

// What a shard needs to run: a device of one kind (the --device id without its number: "cpu", "cuda", "vulkan")
// with at least min_memory_bytes, and how each scheduler asks for it.
struct HardwareRequirement {
    std::string kind = "cpu";
    std::string device = "cpu";          // the device id the shard's points run on ("cpu", "cuda0")
    uint64_t min_memory_bytes = 0;       // 0: any amount
    std::string slurm_gres;              // "gpu:1"; "" asks for none
    std::string slurm_constraint;        // a Slurm node feature; "" for none
    std::vector<std::pair<std::string, std::string>> node_selector;  // Kubernetes node labels
    std::string k8s_resource;            // "nvidia.com/gpu"; "" requests none

    // The requirement class: shards of one class share one Slurm array and one Kubernetes Job ("cpu",
    // "cuda0-24g").
    std::string class_name() const;
    // "any cpu", "a cuda device (cuda0) with at least 24 GiB".
    std::string describe() const;
};

// How each point is measured (bench's flags of the same names) and where the shards write.
struct RunSettings {
    int32_t repetitions = 5;
    int32_t warmup = 1;
    double min_duration_s = 0;
    double max_cv = 0.05;
    int32_t timeout_s = 600;
    uint64_t seed = 42;
    int32_t n_queries = 64;
    std::string results_dir;  // the shared folder run-shard writes to (absolute)
};

struct SlurmSettings {
    std::string partition;                 // "" : the cluster's default
    double time_factor = 2.0;              // time limit = factor x the shard's estimate + 5 minutes
    std::vector<std::string> extra;        // more #SBATCH lines' options ("--account=x")
};

struct KubernetesSettings {
    std::string image = "accel:latest";
    std::string namespace_name = "default";
    std::string volume_claim = "accel-campaign";  // mounted at /accel: the plan at /accel/plan.json, results below
    int32_t parallelism = 0;                      // 0: all of a Job's shards at once
};

struct Shard {
    int32_t index = 0;       // position in the plan: run-shard --index
    std::string id;          // 16 hex digits of the sha256 of the shard's content
    HardwareRequirement requirement;
    std::vector<bench::PointSpec> points;
    double estimate_s = 0;   // bench's --dry-run guess for its points (assumed speeds, not a measurement)
};

struct Plan {
    std::string campaign;    // [A-Za-z0-9._-]+
    std::string spec_file;   // where it came from
    RunSettings run;
    SlurmSettings slurm;
    KubernetesSettings kubernetes;
    std::vector<Shard> shards;
};

// Reads a campaign spec (TOML, docs/multinode.md) and cuts it into shards. Throws Error{invalid_input} with one
// line naming the file and the key ("spec.toml: sweep.p: ..."), Error{io} when the file cannot be read.
Plan plan_from_spec(const std::filesystem::path& spec_file);

// The plan file (plan.json, with a schema_version) and back. read_plan throws Error{invalid_input} naming the
// file for a malformed plan, Error{io} when it cannot be read.
std::string plan_to_json(const Plan& plan);
Plan read_plan(const std::filesystem::path& plan_file);

// The shard's id: a hash of the campaign, the run settings, the requirement and the points.
std::string shard_id(const Plan& plan, const Shard& shard);

// The point options a shard's points are measured with.
bench::PointOptions point_options(const RunSettings& run);

// Checks a campaign name, shard or class name: letters, digits, '.', '_' and '-'. Throws Error{invalid_input}
// naming what.
void check_name(const std::string& what, const std::string& name);

}  // namespace accel::fleet
