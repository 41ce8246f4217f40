#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "accel/bench/campaign.h"
#include "output.h"

namespace accel::cli {

// accel bench's flags for a remote target (--target) and for distributed load across load generators
// (docs/multinode.md): --load-shard I/K --start-at EPOCH_MS --samples-out FILE on each generator, then
// --merge-samples DIR once.
struct RemoteTargetFlags {
    std::string target, served_model, workload, tokenizer;
    double max_lateness_ms = 10;
    int32_t max_in_flight = 256;
    std::string api_key_file;
    std::string load_shard;
    int64_t start_at_ms = 0;
    std::string samples_out;
    std::string merge_samples;
};

void add_remote_target_options(CLI::App& cmd, RemoteTargetFlags& f);

// Puts the API key and this generator's shard into copts.point; a generator stores nothing (its samples file is
// the result; --merge-samples stores the merged point). Throws Error{invalid_input} for a key file that cannot be
// read, distributed-load flags without each other or without --target, or a sweep of more than one server point.
void apply_remote_flags(const RemoteTargetFlags& f, const std::vector<bench::PointSpec>& points,
                        bench::CampaignOptions& copts);

// --merge-samples DIR: merges the generators' samples files into one point, stores it (not with no_store) and prints
// it like accel bench. Returns bench's exit code; shards that do not match throw Error{invalid_input} (exit 2).
int run_merge_samples(const RemoteTargetFlags& f, bool no_store, const std::string& db,
                      const std::vector<std::string>& tags, Format format);

}  // namespace accel::cli
