// accel tradeoffs: flags, variants and the exit code. The run is bench::run_tradeoffs (bench/tradeoffs_campaign.h);
// the output is in tradeoffs_printer.cpp.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/sweep.h"
#include "accel/bench/tradeoffs.h"
#include "accel/bench/tradeoffs_campaign.h"
#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "accel/core/sha256_cache.h"
#include "accel/engine/quality.h"
#include "accel/engine/quantize.h"
#include "accel/hw/device.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"
#include "campaign_printer.h"
#include "commands.h"
#include "output.h"
#include "tradeoffs_printer.h"

namespace accel::cli {
namespace {

struct TradeoffsCliOptions {
    std::string models;
    std::string types;
    std::string ctk = "f16,q8_0,q4_0";
    std::string fa = "on,off";
    std::string ctx = "512";
    std::string mmap = "on,off";
    std::string ngl;
    std::string device = "auto";
    int32_t n_prompt = 128;
    int32_t n_gen = 32;
    int32_t reps = 2;
    int32_t threads = 0;
    std::string text = engine::default_corpus_path;
    int32_t chunks = 4;
    int32_t quality_ctx = 256;
    bool no_quality = false;
    bool full_grid = false;
    bool warm = false;
    int32_t timeout_s = 600;
    std::vector<std::string> tags;
    bool no_store = false;
    std::string db;
    FormatOption format;
};

// --types quantizes the one --model into the cache, in a folder per input content, so a changed input is never
// compared with stale outputs; outputs already there are reused.
std::vector<std::string> variant_paths(const TradeoffsCliOptions& o) {
    std::vector<std::string> paths = bench::parse_str_list("--model", o.models);
    if (o.types.empty()) return paths;
    if (paths.size() != 1) {
        throw Error(ErrorKind::invalid_input, "--types needs exactly one --model (the model to quantize)");
    }
    const std::string input = paths.front();
    const auto types = bench::parse_str_list("--types", o.types);
    for (const auto& t : types) {
        try {
            (void)engine::parse_quant_type(t);
        } catch (const Error& e) {
            throw Error(ErrorKind::invalid_input, std::string("--types: ") + e.what());
        }
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(input, ec)) {
        throw Error(ErrorKind::invalid_input, fmt::format("model {} not found", input));
    }
    (void)bench::describe_variant(input);  // refuses what cannot be measured before quantizing it
    const auto dir = paths::cache_dir() / "quantized" / sha256_file_cached(input).substr(0, 16);
    paths::ensure_dir(dir);
    fmt::print(stderr, "tradeoffs: quantizing {} to {} in {} (outputs already there are reused)\n", input, o.types,
               dir.string());
    for (auto& p : bench::quantize_variants(input, types, dir, std::chrono::seconds(o.timeout_s))) {
        paths.push_back(std::move(p));
    }
    return paths;
}

std::vector<bool> parse_on_off(const std::string& flag, const std::string& text) {
    std::vector<bool> out;
    for (const auto& v : bench::parse_str_list(flag, text, {"on", "off"})) out.push_back(v == "on");
    return out;
}

// The axes from --ctk, --fa, --ctx and --mmap; --ngl waits for the device.
bench::TradeoffsAxes axes_from(const TradeoffsCliOptions& o) {
    bench::TradeoffsAxes axes;
    axes.type_k.clear();
    for (model::KvType k : bench::parse_list("--ctk", o.ctk, model::parse_kv_type)) {
        axes.type_k.emplace_back(model::to_string(k));
    }
    axes.flash_attn.clear();
    for (model::FlashAttn fa : bench::parse_list("--fa", o.fa, model::parse_flash_attn)) {
        if (fa == model::FlashAttn::auto_) {
            throw Error(ErrorKind::invalid_input, "--fa " + o.fa + ": tradeoffs compares on with off; auto is neither");
        }
        axes.flash_attn.emplace_back(model::to_string(fa));
    }
    axes.n_ctx.clear();
    for (int32_t c : bench::parse_int_list("--ctx", o.ctx)) {
        if (c < 1) throw Error(ErrorKind::invalid_input, fmt::format("--ctx {}: a context needs at least 1 token", c));
        if (o.n_prompt > c || o.n_gen > c) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("--ctx {}: -p {} and -n {} must fit in the context", c, o.n_prompt, o.n_gen));
        }
        axes.n_ctx.push_back(static_cast<uint32_t>(c));
    }
    axes.mmap = parse_on_off("--mmap", o.mmap);
    return axes;
}

int run_tradeoffs(const TradeoffsCliOptions& o) {
    if (o.models.empty()) throw Error(ErrorKind::invalid_input, "--model is required");
    if (o.reps < 1) throw Error(ErrorKind::invalid_input, "-r must be at least 1");
    if (o.n_prompt < 1 || o.n_gen < 1) throw Error(ErrorKind::invalid_input, "-p and -n must be at least 1");
    if (o.chunks < 1) throw Error(ErrorKind::invalid_input, "--chunks must be at least 1");
    if (o.quality_ctx < 8) throw Error(ErrorKind::invalid_input, "--quality-ctx must be at least 8");
    bench::TradeoffsAxes axes = axes_from(o);
    // Variants: every file is checked before anything is measured.
    std::vector<bench::TradeoffsVariant> variants;
    for (const auto& p : variant_paths(o)) variants.push_back(bench::describe_variant(p));
    const bench::TradeoffsVariant& ref = bench::reference_variant(variants);
    const std::string device = bench::tradeoffs_device(hw::parse_device_id(o.device));
    const bool have_gpu = device != "cpu";
    axes.n_gpu_layers = bench::parse_int_list("--ngl", o.ngl.empty() ? (have_gpu ? "999" : "0") : o.ngl);
    for (int32_t n : axes.n_gpu_layers) {
        if (n < 0) throw Error(ErrorKind::invalid_input, fmt::format("--ngl {}: layers cannot be negative", n));
    }
    bench::TradeoffsOptions topts{.device = device,
                                  .n_prompt = o.n_prompt,
                                  .n_gen = o.n_gen,
                                  .reps = o.reps,
                                  .n_threads = o.threads,
                                  .cold = !o.warm,
                                  .timeout = std::chrono::seconds(o.timeout_s)};
    if (!o.no_quality) {
        topts.text = engine::read_corpus(o.text);
        topts.quality_ctx = static_cast<uint32_t>(o.quality_ctx);
        topts.quality_chunks = o.chunks;
    }
    topts.quality = !o.no_quality;

    std::vector<bench::SkippedPoint> skipped;
    const auto points = bench::plan_points(axes, o.full_grid, have_gpu, skipped);
    for (const auto& s : skipped) {
        fmt::print(stderr, "tradeoffs: skipping ctk {} fa {} ctx {} mmap {} ngl {}: {}\n", s.point.type_k,
                   s.point.flash_attn, s.point.n_ctx, s.point.mmap ? "on" : "off", s.point.n_gpu_layers, s.reason);
    }
    const Format format = o.format.resolve();
    CampaignPrinter printer("tradeoffs");
    const bench::TradeoffsRun run = bench::run_tradeoffs(
        variants, ref, points, topts,
        {.point = {.cold = !o.warm},
         .store = !o.no_store,
         .db = o.db.empty() ? paths::default_db() : std::filesystem::path(o.db),
         .command = "accel tradeoffs --model " + o.models,
         .tags = o.tags,
         .run_extra_json = nlohmann::json{{"tradeoffs_reference", ref.name}}.dump(),
         .provenance = false},
        printer);
    print_tradeoffs(run, ref, skipped, format);
    const bench::CampaignOutcome& out = run.outcome;
    print_stored_run("tradeoffs", out.run_id, out.stored_in.string(), out.spooling);
    if (!run.failures.empty()) {
        fmt::print(stderr, "tradeoffs: {} of {} points failed\n", run.failures.size(), out.counts.n_points);
    }
    return out.counts.all_failed() ? exit_runtime : exit_ok;
}

}  // namespace

void register_tradeoffs(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<TradeoffsCliOptions>();
    auto* cmd = app.add_subcommand(
        "tradeoffs",
        "Measure what weight types, KV cache types, flash attention, context size, mmap and GPU offload cost and\n"
        "save here: file size, weights/KV/compute buffer bytes (from llama.cpp's buffers) against the estimator,\n"
        "peak RSS, load time and time to first token (cold), pp/tg t/s, and perplexity/KL (cosine for embedding\n"
        "models) against the highest-precision variant. The first value of each list is the baseline; the others\n"
        "are varied one at a time (--grid: every combination). Each point runs in its own process.\n"
        "Exit codes: 0 ok, 1 every point failed, 2 invalid input.");
    cmd->add_option("--model,-m", o->models, "Model file(s), comma-separated: the variants to compare");
    cmd->add_option("--types", o->types,
                    "Quantize the one --model to these types (q8_0,q4_k_m,q4_0,...) into the cache and compare them "
                    "with it");
    cmd->add_option("--ctk,--cache-type-k", o->ctk, "KV cache types (K and V): f16, q8_0, q4_0")
        ->default_val("f16,q8_0,q4_0");
    cmd->add_option("--fa,--flash-attn", o->fa, "Flash attention: on, off")->default_val("on,off");
    cmd->add_option("--ctx", o->ctx, "Context sizes (tokens)")->default_val("512");
    cmd->add_option("--mmap", o->mmap, "Load with mmap (on) or a full read (off)")->default_val("on,off");
    cmd->add_option("--ngl,--n-gpu-layers", o->ngl, "GPU layers, a list or range (default: all with a GPU, else 0)");
    cmd->add_option("--device", o->device, "Device the GPU layers go to (default: the first GPU)")->default_val("auto");
    cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens (pp test and time to first token)")->default_val(128);
    cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens (tg test)")->default_val(32);
    cmd->add_option("-r,--repetitions", o->reps, "Timed repetitions of pp and tg")->default_val(2);
    cmd->add_option("-t,--threads", o->threads, "CPU threads (0: one per logical core)")->default_val(0);
    cmd->add_option("--text", o->text, "Quality corpus (default: the GPL-3 text)")
        ->default_val(engine::default_corpus_path);
    cmd->add_option("--chunks", o->chunks, "Quality: chunks of the text scored")->default_val(4);
    cmd->add_option("--quality-ctx", o->quality_ctx, "Quality: tokens per chunk")->default_val(256);
    cmd->add_flag("--no-quality", o->no_quality, "Skip perplexity, KL divergence and cosine");
    cmd->add_flag("--grid", o->full_grid, "Run every combination of the lists, not one axis at a time");
    cmd->add_flag("--warm", o->warm, "Leave the page cache alone (default: evict each file before its load)");
    cmd->add_option("--timeout", o->timeout_s, "Seconds per point before it is killed and recorded")->default_val(600);
    cmd->add_option("--tag", o->tags, "Label the run (repeatable)");
    cmd->add_flag("--no-store", o->no_store, "Do not write to the results database");
    cmd->add_option("--db", o->db, "Results database (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)");
    add_format_option(*cmd, o->format, {"table", "json", "csv", "markdown"});
    cmd->callback([o, &exit_code] { exit_code = run_tradeoffs(*o); });
}

}  // namespace accel::cli
