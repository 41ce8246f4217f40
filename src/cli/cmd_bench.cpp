// accel bench: flags, printing and exit codes. The points run through bench::run_points.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/campaign.h"
#include "accel/bench/campaign_json.h"
#include "accel/bench/default_suite.h"
#include "accel/bench/remote_target.h"
#include "accel/bench/request_lengths.h"
#include "accel/bench/sweep.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/hw/device.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"
#include "bench_output.h"
#include "bench_remote_flags.h"
#include "campaign_printer.h"
#include "commands.h"
#include "output.h"
#include "runtime_files.h"

namespace accel::cli {
namespace {

struct BenchOptions {
    std::string models, scenarios = "llm", devices = "cpu", n_prompt = "512", n_gen = "128", depth = "0";
    std::vector<std::string> pg;
    std::string n_batch = "2048", n_ubatch = "512", threads = "0", ctk = "f16", ctv = "f16", fa = "auto", ngl = "-1";
    std::string embed_batch = "1,8";
    int32_t reps = 5;
    double min_duration_s = 0.0;
    int32_t warmup = 1;
    double max_cv = 0.05;
    int32_t timeout_s = 600;
    bool fail_fast = false;
    bool dry_run = false;
    std::vector<std::string> tags;
    bool no_store = false;
    std::string db;
    std::string resume;
    bool cold = false;
    std::string cpu_mask;
    uint64_t seed = 42;
    bool verify = false;
    // Load scenarios (server, offline).
    std::string parallel = "1";
    std::string qps = "1";
    std::string lengths;
    int32_t n_queries = 64;
    double slo_p99_ms = 0, slo_ttft_ms = 0, slo_tpot_ms = 0;  // 0: no limit
    bool find_peak = false;
    RemoteTargetFlags remote;  // --target and its options, distributed load (bench_remote_flags.h)
    FormatOption format;
};

bench::SweepSpec sweep_from(const BenchOptions& o) {
    bench::SweepSpec s;
    s.scenarios.clear();
    for (const auto& sc :
         bench::parse_str_list("--scenario", o.scenarios,
                               {"llm", "embed", "latency", "server", "offline", "audio", "vision"})) {
        s.scenarios.push_back(bench::parse_scenario(sc));
    }
    bench::set_remote_target(s, o.remote.target, o.remote.served_model, o.remote.workload, !o.models.empty(),
                             o.remote.tokenizer);
    if (o.remote.target.empty()) s.models = bench::parse_str_list("--model", o.models);
    s.devices = bench::parse_list("--device", o.devices, hw::parse_device_id);
    s.n_prompt = bench::parse_int_list("-p", o.n_prompt);
    s.n_gen = bench::parse_int_list("-n", o.n_gen);
    for (const auto& pg : o.pg) s.pg.push_back(bench::parse_pg(pg));
    s.n_depth = bench::parse_int_list("--depth", o.depth);
    s.n_batch = bench::parse_int_list("-b", o.n_batch);
    s.n_ubatch = bench::parse_int_list("-ub", o.n_ubatch);
    s.n_threads = bench::parse_int_list("-t", o.threads);
    s.type_k = bench::parse_list("-ctk", o.ctk, model::parse_kv_type);
    s.type_v = bench::parse_list("-ctv", o.ctv, model::parse_kv_type);
    s.flash_attn = bench::parse_list("-fa", o.fa, model::parse_flash_attn);
    s.n_gpu_layers.clear();
    for (const auto& v : bench::parse_str_list("-ngl", o.ngl)) {
        s.n_gpu_layers.push_back(v == "-1" ? -1 : bench::parse_int_list("-ngl", v).front());
    }
    s.embed_batch = bench::parse_int_list("--embed-batch", o.embed_batch);
    s.n_parallel = bench::parse_int_list("--parallel", o.parallel);
    for (int32_t n : s.n_parallel) {
        if (n < 1 || n > 256) {
            throw Error(ErrorKind::invalid_input, fmt::format("--parallel {}: use 1 to 256 slots", o.parallel));
        }
    }
    s.target_qps = bench::parse_positive_list("--qps", o.qps);
    if (!o.lengths.empty()) {
        // Checked here so a bad spec or an unreadable file is a usage error; the file travels as an absolute path.
        bench::parse_request_lengths(o.lengths);
        s.lengths = o.lengths.rfind("file:", 0) == 0
                        ? "file:" + std::filesystem::absolute(o.lengths.substr(5)).string()
                        : o.lengths;
    }
    for (const auto& b : s.n_batch) {
        if (b == 0) throw Error(ErrorKind::invalid_input, "-b must be at least 1");
    }
    for (const auto& m : s.models) {
        if (!std::filesystem::exists(m)) {
            ACCEL_LOG_WARN("model {} not found; its points will be recorded as failures", m);
        }
    }
    return s;
}

bench::PointOptions point_options(const BenchOptions& o) {
    if (o.reps < 1) throw Error(ErrorKind::invalid_input, "-r must be at least 1");
    if (o.n_queries < 1) throw Error(ErrorKind::invalid_input, "--queries must be at least 1");
    for (const auto& [flag, v] : {std::pair{"--slo-p99-ms", o.slo_p99_ms}, std::pair{"--slo-ttft-ms", o.slo_ttft_ms},
                                  std::pair{"--slo-tpot-ms", o.slo_tpot_ms}}) {
        if (v < 0) throw Error(ErrorKind::invalid_input, fmt::format("{} {:g}: must be positive", flag, v));
    }
    const auto limit = [](double v) { return v > 0 ? std::optional(v) : std::nullopt; };
    const bench::ServerSlo slo{.p99_ms = limit(o.slo_p99_ms), .ttft_p99_ms = limit(o.slo_ttft_ms),
                               .tpot_p99_ms = limit(o.slo_tpot_ms)};
    if (o.find_peak && !slo.any()) {
        throw Error(ErrorKind::invalid_input, "--find-peak needs an SLO: give --slo-p99-ms, --slo-ttft-ms or --slo-tpot-ms");
    }
    return {.rules = {.n_warmup = o.warmup,
                      .n_min_reps = o.reps,
                      .min_duration = std::chrono::milliseconds(static_cast<int64_t>(o.min_duration_s * 1000)),
                      .max_cv = o.max_cv},
            .cold = o.cold,
            .cpu_mask = o.cpu_mask,
            .timeout = std::chrono::seconds(o.timeout_s),
            .seed = o.seed,
            .verify = o.verify,
            .n_queries = o.n_queries,
            .slo = slo,
            .find_peak = o.find_peak,
            .max_lateness_ms = o.remote.max_lateness_ms,
            .max_in_flight = o.remote.max_in_flight};
}

int run_bench(const BenchOptions& o) {
    const bench::PointOptions popts = point_options(o);
    const Format format = o.format.resolve();
    if (!o.remote.merge_samples.empty()) return run_merge_samples(o.remote, o.no_store, o.db, o.tags, format);
    BenchPrinter printer(format == Format::jsonl);
    const bool is_default = o.models.empty() && o.remote.target.empty();
    std::vector<bench::PointSpec> points =
        is_default ? bench::default_suite(bench::parse_int_list("-t", o.threads).front(), vocab_dir(), printer, o.dry_run)
                   : bench::expand(sweep_from(o));
    std::string cmdline;
    for (const auto& t : o.tags) cmdline += " --tag " + t;
    bench::CampaignOptions copts{.point = popts,
                                 .store = !o.no_store,
                                 .db = o.db.empty() ? paths::default_db() : std::filesystem::path(o.db),
                                 .command = "accel bench" + cmdline,
                                 .tags = o.tags,
                                 .run_extra_json = nlohmann::json{{"resume_of", o.resume}}.dump(),
                                 .resume = o.resume,
                                 .fail_fast = o.fail_fast};
    apply_remote_flags(o.remote, points, copts);
    if (o.dry_run) {
        bench::drop_resumed(points, copts, printer);
        return print_dry_run(points, popts);
    }
    const bench::CampaignOutcome out = bench::run_points(std::move(points), copts, printer);
    print_bench_results(out, format);
    print_stored_run("bench", out.run_id, out.stored_in.string(), out.spooling);
    if (is_default) {
        fmt::print(stderr, "bench: results are in {} (try: accel db query \"SELECT * FROM results\")\n",
                   copts.db.string());
    }
    return bench_exit_code(out);
}

}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<BenchOptions>();
    auto* cmd = app.add_subcommand(
        "bench",
        "Benchmark models: llm (pp/tg/pg), latency (single stream), embed, offline and server scenarios over a sweep.\n"
        "Every list flag takes comma lists and ranges (1-8, 1-64*2, 128-512+128); the cartesian product runs.\n"
        "Without --model: the default suite (a synthetic ~100M llama q4_0 with RANDOM WEIGHTS, stories260K when\n"
        "available, a synthetic BERT for embeddings). Each point runs in its own process.");
    cmd->add_option("--model,-m", o->models, "Model file(s), comma-separated");
    cmd->add_option("--scenario", o->scenarios,
                    "llm, latency, embed, offline, server, audio (Whisper, Wav2Vec2 or CLAP: -p gives clip seconds), "
                    "vision (ViT, CLIP, DETR, X-CLIP: -p gives the source's long side) (comma list)")
        ->default_val("llm");
    cmd->add_option("--device", o->devices, "Device(s): cpu, cuda0, ...")->default_val("cpu");
    cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt sizes (pp tests)")->default_val("512");
    cmd->add_option("-n,--n-gen", o->n_gen, "Generation lengths (tg tests)")->default_val("128");
    cmd->add_option("--pg", o->pg, "Prompt+generation test N,M (repeatable)");
    cmd->add_option("-d,--depth,--n-depth", o->depth, "Prefilled context depth before the test (llama-bench -d)")->default_val("0");
    cmd->add_option("-b,--batch-size", o->n_batch, "Logical batch size (llama-bench -b)")->default_val("2048");
    cmd->add_option("--ub,--ubatch-size", o->n_ubatch, "Physical batch size (-ub)")->default_val("512");
    cmd->add_option("-t,--threads", o->threads, "CPU threads (0: one per logical core)")->default_val("0");
    cmd->add_option("--ctk,--cache-type-k", o->ctk, "KV cache type K: f16, q8_0, q4_0, ...")->default_val("f16");
    cmd->add_option("--ctv,--cache-type-v", o->ctv, "KV cache type V")->default_val("f16");
    cmd->add_option("--fa,--flash-attn", o->fa, "Flash attention: on|1, off|0, auto|-1")->default_val("auto");
    cmd->add_option("--ngl,--n-gpu-layers", o->ngl, "GPU layers (-1: placement decides)")->default_val("-1");
    cmd->add_option("--embed-batch", o->embed_batch,
                    "embed scenario: texts per call; vision: images (X-CLIP: clips) per forward pass")
        ->default_val("1,8");
    cmd->add_option("-r,--repetitions", o->reps, "Minimum timed repetitions")->default_val(5);
    cmd->add_option("--min-duration", o->min_duration_s, "Minimum timed seconds per point (both minimums must be met)")
        ->default_val(0.0);
    cmd->add_option("--warmup", o->warmup, "Untimed warm-up runs per point")->default_val(1);
    cmd->add_option("--max-cv", o->max_cv, "Flag a point noisy above this coefficient of variation")->default_val(0.05);
    cmd->add_option("--timeout", o->timeout_s, "Seconds per point before it is killed and recorded")->default_val(600);
    cmd->add_flag("--fail-fast", o->fail_fast, "Stop at the first failing point");
    cmd->add_flag("--dry-run", o->dry_run, "Print the points and an ETA; measure nothing");
    cmd->add_option("--tag", o->tags, "Label the run (repeatable)");
    cmd->add_flag("--no-store", o->no_store, "Do not write to the results database");
    cmd->add_option("--db", o->db, "Results database (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)");
    cmd->add_option("--resume", o->resume, "Skip the points already stored by this run id");
    cmd->add_flag("--cold", o->cold, "Evict the model file from the page cache before each load");
    cmd->add_option("--cpu-mask", o->cpu_mask, "Pin the measuring threads to these CPUs (hex mask)");
    cmd->add_option("--seed", o->seed, "Seed of the random input tokens")->default_val(42)
        ->check(accel::cli::non_negative);
    cmd->add_flag("--verify", o->verify,
                  "Compare each point with the CPU reference (LLMs: logits top-1, top-5 and greedy tokens; embed: "
                  "cosine and max abs difference); exit 3 on a mismatch");
    cmd->add_option("--parallel", o->parallel,
                    "offline/server: sequences decoded together by continuous batching (list)")
        ->default_val("1");
    cmd->add_option("--qps", o->qps, "server: target queries per second, Poisson arrivals (list)")->default_val("1");
    cmd->add_option("--lengths", o->lengths,
                    "offline/server request lengths: fixed:P,G | uniform:PMIN-PMAX,GMIN-GMAX | file:PATH (one 'P G' "
                    "per line); default: each -p x -n pair, fixed");
    cmd->add_option("--queries", o->n_queries,
                    "offline/server: queries per run (server: at least, and at least --min-duration x QPS)")
        ->default_val(64);
    cmd->add_option("--slo-p99-ms", o->slo_p99_ms, "server: p99 end-to-end latency limit (queueing included)");
    cmd->add_option("--slo-ttft-ms", o->slo_ttft_ms, "server: p99 time-to-first-token limit");
    cmd->add_option("--slo-tpot-ms", o->slo_tpot_ms, "server: p99 time-per-output-token limit");
    cmd->add_flag("--find-peak", o->find_peak,
                  "server: search the highest QPS that meets the SLO, starting from each --qps value");
    add_remote_target_options(*cmd, o->remote);
    add_format_option(*cmd, o->format, {"table", "json", "jsonl", "csv", "markdown"});
    cmd->callback([o, &exit_code] { exit_code = run_bench(*o); });
}

}  // namespace accel::cli
