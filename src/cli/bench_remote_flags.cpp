// accel bench --target's flags, and the two ends of a distributed load: a generator's shard, and the merge.
#include "bench_remote_flags.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/load_shard.h"
#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "bench_output.h"
#include "campaign_printer.h"

namespace accel::cli {
namespace {

Error usage(const std::string& why) { return Error(ErrorKind::invalid_input, why); }

std::string read_api_key(const std::string& path) {
    std::ifstream is(path);
    std::string key;
    if (!is || !std::getline(is, key) || key.empty()) {
        throw usage(fmt::format("--api-key-file {}: cannot read a key from its first line", path));
    }
    return key;
}

}  // namespace

void add_remote_target_options(CLI::App& cmd, RemoteTargetFlags& f) {
    cmd.add_option("--target", f.target, "An OpenAI-compatible server http://HOST:PORT (latency, offline, server)");
    cmd.add_option("--served-model", f.served_model, "--target: the served model's id (default: the first listed)");
    cmd.add_option("--workload", f.workload, "--target: plain|shared-prefix:N|multi-turn:T|prompts:FILE, '+'-joined");
    cmd.add_option("--tokenizer", f.tokenizer, "--target: the served model's GGUF, counts tokens without usage");
    cmd.add_option("--max-lateness-ms", f.max_lateness_ms, "--target server: INVALID if >1% are sent this late")
        ->default_val(10);
    cmd.add_option("--max-in-flight", f.max_in_flight, "--target server: most open requests")->default_val(256);
    cmd.add_option("--api-key-file", f.api_key_file,
                   "--target: send the first line of FILE as 'Authorization: Bearer' (accel serve --api-key-file)");
    cmd.add_option("--load-shard", f.load_shard,
                   "--target server, distributed load: this generator issues the queries with index % K == I (I/K)");
    cmd.add_option("--start-at", f.start_at_ms,
                   "--load-shard: the common start of the schedule, ms since the Unix epoch (every host's clock)");
    cmd.add_option("--samples-out", f.samples_out, "--load-shard: write this generator's raw per-query samples here");
    cmd.add_option("--merge-samples", f.merge_samples,
                   "Merge the generators' samples files in DIR into one point (exact percentiles) and store it");
}

void apply_remote_flags(const RemoteTargetFlags& f, const std::vector<bench::PointSpec>& points,
                        bench::CampaignOptions& copts) {
    if (!f.api_key_file.empty()) {
        if (f.target.empty()) throw usage("--api-key-file goes with --target");
        copts.point.target_api_key = read_api_key(f.api_key_file);
    }
    const bool sharded = !f.load_shard.empty() || f.start_at_ms != 0 || !f.samples_out.empty();
    if (!sharded) return;
    if (f.load_shard.empty() || f.start_at_ms <= 0 || f.samples_out.empty()) {
        throw usage("distributed load needs --load-shard I/K, --start-at EPOCH_MS and --samples-out FILE together");
    }
    if (f.target.empty()) throw usage("--load-shard goes with --target");
    if (points.size() != 1 || points.front().scenario != bench::Scenario::server) {
        throw usage(fmt::format("--load-shard: the sweep has {} points; distributed load runs one point of the server "
                                "scenario (one --qps, one --parallel, one -p/-n or --lengths)",
                                points.size()));
    }
    bench::LoadShard shard = bench::parse_load_shard(f.load_shard);
    shard.start_at_ms = f.start_at_ms;
    shard.samples_out = std::filesystem::absolute(f.samples_out);
    copts.point.load_shard = shard;
    copts.store = false;
    fmt::print(stderr, "bench: generator {}/{}: samples go to {}; merge every generator's file with accel bench "
                       "--merge-samples DIR\n",
               shard.index, shard.count, shard.samples_out.string());
}

int run_merge_samples(const RemoteTargetFlags& f, bool no_store, const std::string& db,
                      const std::vector<std::string>& tags, Format format) {
    if (!f.target.empty()) throw usage("--merge-samples reads the target from the samples files: drop --target");
    const bench::MergedLoad merged = bench::merge_load_shards(f.merge_samples);
    const std::string dir = std::filesystem::absolute(f.merge_samples).string();
    const bench::CampaignOptions copts{
        .store = !no_store,
        .db = db.empty() ? paths::default_db() : std::filesystem::path(db),
        .command = "accel bench --merge-samples " + dir,
        .tags = tags,
        .run_extra_json = nlohmann::json{{"load_generators", merged.generators}, {"merged_from", dir}}.dump()};
    BenchPrinter printer(format == Format::jsonl);
    bench::Campaign campaign(copts, printer, 1);
    campaign.run(bench::point_label(merged.point.spec), [&] { return merged.point; });
    const bench::CampaignOutcome out = campaign.finish();
    for (const auto& g : merged.generators) fmt::print(stderr, "bench: merged the samples of {}\n", g);
    print_bench_results(out, format);
    print_stored_run("bench", out.run_id, out.stored_in.string(), out.spooling);
    return bench_exit_code(out);
}

}  // namespace accel::cli
