#pragma once

// accel run-shard: one shard of a plan, measured through bench's campaign runner, written under
// OUT/<campaign>/<shard id>/attempt-<n>/ (result.json, provenance.json, parquet/ as `accel db export` writes it,
// raw samples included). The attempt is built in a hidden folder beside it and renamed into place when whole, so
// a retry replaces only its own attempt and a killed one leaves nothing that `accel db merge` reads.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "accel/bench/campaign.h"
#include "accel/fleet/plan.h"

namespace accel::fleet {

struct ShardRunOptions {
    int32_t index = 0;
    std::filesystem::path out_dir;   // the shared results folder
    std::optional<int32_t> attempt;  // nullopt: $SLURM_RESTART_COUNT under Slurm, else the next unused number
    std::string command;             // the reproducing command line stored with the run
};

struct ShardOutcome {
    std::string shard_id;
    int32_t attempt = 0;
    std::string status;              // "complete", "failed" (every point failed) or "unplaceable"
    std::string reason;              // why, when not complete
    std::filesystem::path dir;       // the attempt's folder
    bench::CampaignCounts counts;
    std::string run_id;
};

// Checks the shard's hardware requirement on this machine (non-cpu kinds: the devices from a probing child),
// runs its points and writes the attempt. An unmet requirement is not an exception: the attempt is written with
// status "unplaceable" and the reason. Throws Error{invalid_input} for an index outside the plan, Error{io} when
// the folder cannot be written. Not thread-safe (points fork).
ShardOutcome run_shard(const Plan& plan, const ShardRunOptions& options, bench::CampaignObserver& observer);

// Why this machine cannot run a shard with this requirement, or nullopt when it can. devices: what
// bench::probe_devices returned.
std::optional<std::string> unmet_requirement(const HardwareRequirement& r, const std::vector<hw::Device>& devices);

}  // namespace accel::fleet
