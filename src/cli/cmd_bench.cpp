// accel bench: flags, the default suite, printing and storing. The measuring is in bench/.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_runner.h"
#include "accel/bench/request_lengths.h"
#include "accel/bench/run_hygiene.h"
#include "accel/bench/run_recorder.h"
#include "accel/bench/sweep.h"
#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/core/units.h"
#include "accel/core/version.h"
#include "accel/engine/synthetic_model.h"
#include "accel/hw/inventory.h"
#include "accel/model/classifier.h"
#include "accel/model/gguf_file.h"
#include "accel/store/database.h"
#include "accel/store/result_writer.h"
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
    FormatOption format;
};

std::string params_text(uint64_t n) {
    if (n >= 1'000'000'000) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
    if (n >= 1'000'000) return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
    return fmt::format("{:.1f} K", static_cast<double>(n) / 1e3);
}

// The default run: a synthetic ~100M llama in q4_0 (made once and cached), plus stories260K when the shared test
// data is there, through pp512, tg128, a latency scenario, and embeddings on a synthetic BERT.
std::vector<bench::PointSpec> default_suite(const BenchOptions& o) {
    const auto dir = paths::cache_dir() / "models";
    if (!o.dry_run) paths::ensure_dir(dir);
    const auto make = [&](const std::string& arch, const std::string& size, engine::WeightType type) {
        const auto path = dir / fmt::format("{}-{}-{}-s1.gguf", arch, size, engine::to_string(type));
        if (o.dry_run) return path.string();  // --dry-run measures nothing and makes nothing: the path it would use
        if (!std::filesystem::exists(path)) {
            fmt::print(stderr, "bench: making synthetic {} {} {} (random weights: for speed only) -> {}\n", arch, size,
                       engine::to_string(type), path.string());
            engine::make_synthetic_model({.arch = arch, .n_params_target = engine::parse_param_count(size),
                                          .type = type, .seed = 1, .out = path, .vocab_dir = vocab_dir()});
        }
        return path.string();
    };
    const std::string llama = make("llama", "100M", engine::WeightType::q4_0);
    const std::string bert = make("bert", "25M", engine::WeightType::f16);
    std::vector<std::string> llms{llama};
    std::filesystem::path stories = "../shared/models/stories260K.gguf";
    if (const char* d = std::getenv("ACCEL_TEST_DATA"); d != nullptr && d[0] != '\0') {
        stories = std::filesystem::path(d) / "models" / "stories260K.gguf";
    }
    if (std::filesystem::exists(stories)) {
        llms.push_back(std::filesystem::absolute(stories).string());
    } else {
        fmt::print(stderr, "bench: {} not found; the default suite runs without it\n", stories.string());
    }
    std::vector<bench::PointSpec> points;
    const auto threads = bench::parse_int_list("-t", o.threads);
    for (const auto& m : llms) {
        for (auto [p, n] : {std::pair{512, 0}, std::pair{0, 128}}) {
            points.push_back({.scenario = bench::Scenario::llm, .model = m, .n_prompt = p, .n_gen = n,
                              .n_threads = threads.front()});
        }
    }
    points.push_back({.scenario = bench::Scenario::latency, .model = llama, .n_prompt = 64, .n_gen = 32,
                      .n_threads = threads.front()});
    for (int32_t b : {1, 8}) {
        points.push_back({.scenario = bench::Scenario::embed, .model = bert, .n_prompt = 64,
                          .n_threads = threads.front(), .embed_batch = b});
    }
    return points;
}

bench::SweepSpec sweep_from(const BenchOptions& o) {
    bench::SweepSpec s;
    s.scenarios.clear();
    for (const auto& sc :
         bench::parse_str_list("--scenario", o.scenarios, {"llm", "embed", "latency", "server", "offline"})) {
        s.scenarios.push_back(bench::parse_scenario(sc));
    }
    s.models = bench::parse_str_list("--model", o.models);
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

double estimate_seconds(const bench::PointSpec& p, const BenchOptions& o) {
    // A rough ETA for --dry-run: load plus (warm-up + reps) at an assumed 200 tokens/s prompt, 20 tokens/s decode.
    double per_rep = p.n_prompt / 200.0 + p.n_gen / 20.0 + p.n_depth / 200.0;
    if (p.scenario == bench::Scenario::server) return 1.0 + o.n_queries / p.target_qps;
    if (p.scenario == bench::Scenario::offline) per_rep *= static_cast<double>(o.n_queries) / p.n_parallel;
    return 1.0 + (o.warmup + o.reps) * std::max(per_rep, o.min_duration_s / std::max(1, o.reps));
}

// llama-bench's JSON field names where they mean the same; accel's own fields in the same style.
nlohmann::json result_json(const bench::PointResult& r, const nlohmann::json& provenance) {
    const BuildInfo& b = build_info();
    nlohmann::json j = nlohmann::json::parse(bench::to_json_text(r));
    j["schema_version"] = json_schema_version;
    j["build_commit"] = b.llama_cpp_commit.substr(0, 7);
    j["accel_version"] = b.accel_version;
    j["model_filename"] = r.spec.model;
    j["model_type"] = r.model_desc;
    j["test"] = r.spec.test_name();
    j["n_prompt"] = r.spec.n_prompt;
    j["n_gen"] = r.spec.n_gen;
    j["n_depth"] = r.spec.n_depth;
    j["n_batch"] = r.spec.n_batch;
    j["n_ubatch"] = r.spec.n_ubatch;
    j["n_threads"] = r.n_threads;
    j["type_k"] = std::string(model::to_string(r.spec.type_k));
    j["type_v"] = std::string(model::to_string(r.spec.type_v));
    j["flash_attn"] = std::string(model::to_string(r.spec.flash_attn));
    j["avg_ts"] = r.m.ts.mean;
    j["stddev_ts"] = r.m.ts.stddev;
    j["avg_ns"] = r.m.ns.mean;
    j["stddev_ns"] = r.m.ns.stddev;
    j["p50_ns"] = r.m.ns.p50;
    j["p90_ns"] = r.m.ns.p90;
    j["p95_ns"] = r.m.ns.p95;
    j["p99_ns"] = r.m.ns.p99;
    j["p999_ns"] = r.m.ns.p999;
    j["cv"] = r.m.ns.cv;
    j["provenance"] = provenance;
    return j;
}

std::string opt_ms(const std::optional<double>& v) { return v ? fmt::format("{:.2f} ms", *v) : "n/a"; }

// The load scenarios' figures under the table: what llama-bench's columns cannot show.
void print_load_lines(const bench::PointResult& r, const std::string& name) {
    if (r.server) {
        const auto& s = *r.server;
        std::string slo = "no SLO given";
        if (s.slo_pass) slo = fmt::format("SLO {}: {}", s.slo, *s.slo_pass ? "pass" : "MISSED");
        fmt::print("server: {} {}: target {:g} qps, achieved {:.2f} qps over {} queries with {} slot(s); latency "
                   "(queueing included) p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms; TTFT p99 {}; TPOT p99 {}; {}\n",
                   name, r.spec.test_name(), s.target_qps, s.achieved_qps, s.n_queries, s.n_parallel, s.p50_ms,
                   s.p90_ms, s.p99_ms, opt_ms(s.ttft_p99_ms), opt_ms(s.tpot_p99_ms), slo);
        if (!s.probes.empty()) {
            std::string probes;
            for (const auto& p : s.probes) {
                probes += fmt::format("{}{:g} qps ({}, p99 {:.1f} ms)", probes.empty() ? "" : ", ", p.qps,
                                      p.pass ? "pass" : "miss", p.p99_ms);
            }
            fmt::print("find-peak: {}: {}; probes: {}\n", name,
                       s.peak_qps ? fmt::format("peak {:g} qps meets the SLO {}", *s.peak_qps, s.slo)
                                  : fmt::format("no probed QPS met the SLO {}", s.slo),
                       probes);
        }
    }
    if (r.offline) {
        const auto& s = *r.offline;
        fmt::print("offline: {} {}: {} queries at once, {} slot(s): {:.2f} samples/s, {:.2f} generated tokens/s, "
                   "{:.2f} prompt tokens/s; latency p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms; TTFT p99 {}; "
                   "TPOT p99 {}\n",
                   name, r.spec.test_name(), s.n_queries, s.n_parallel, s.samples_per_s, s.tokens_per_s,
                   s.prompt_tokens_per_s, s.p50_ms, s.p90_ms, s.p99_ms, opt_ms(s.ttft_p99_ms), opt_ms(s.tpot_p99_ms));
    }
}

int run_bench(const BenchOptions& o) {
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
    const bool is_default = o.models.empty();
    std::vector<bench::PointSpec> points = is_default ? default_suite(o) : bench::expand(sweep_from(o));
    const std::filesystem::path db_path = o.db.empty() ? paths::default_db() : std::filesystem::path(o.db);
    if (!o.resume.empty()) {
        const auto done = bench::stored_point_keys(db_path, o.resume);
        std::erase_if(points, [&](const bench::PointSpec& p) { return done.count(bench::spec_key(p)) > 0; });
        fmt::print(stderr, "bench: --resume {}: {} points left to run\n", o.resume, points.size());
    }

    const bench::PointOptions popts{.rules = {.n_warmup = o.warmup,
                                              .n_min_reps = o.reps,
                                              .min_duration = std::chrono::milliseconds(
                                                  static_cast<int64_t>(o.min_duration_s * 1000)),
                                              .max_cv = o.max_cv},
                                    .cold = o.cold,
                                    .cpu_mask = o.cpu_mask,
                                    .timeout = std::chrono::seconds(o.timeout_s),
                                    .seed = o.seed,
                                    .verify = o.verify,
                                    .n_queries = o.n_queries,
                                    .slo = slo,
                                    .find_peak = o.find_peak};
    if (o.dry_run) {
        double total = 0;
        Table t{.columns = {"#", "model", "scenario", "test", "device", "threads", "batch", "ubatch", "ctk", "ctv", "fa", "ngl"},
                .numeric = {true, false, false, false, false, true, true, true, false, false, false, true}};
        for (size_t i = 0; i < points.size(); ++i) {
            const auto& p = points[i];
            total += estimate_seconds(p, o);
            t.rows.push_back({std::to_string(i + 1), std::filesystem::path(p.model).filename().string(),
                              bench::to_string(p.scenario), p.test_name(), p.device, std::to_string(p.n_threads),
                              std::to_string(p.n_batch), std::to_string(p.n_ubatch),
                              std::string(model::to_string(p.type_k)), std::string(model::to_string(p.type_v)),
                              std::string(model::to_string(p.flash_attn)), std::to_string(p.n_gpu_layers)});
        }
        fmt::print("{}", render_table(t));
        fmt::print("{} points; ETA about {:.0f} s (a rough guess from assumed speeds, not a measurement)\n",
                   points.size(), total);
        return exit_ok;
    }

    // Provenance: the machine, the build, and what the machine was doing when the run started.
    const bench::RunProvenance prov = bench::read_run_provenance(o.cpu_mask, o.cold);
    const nlohmann::json provenance = nlohmann::json::parse(prov.json_text);
    if (prov.other_cpu_percent > 10) {
        ACCEL_LOG_WARN("other processes used {:.0f}% of the CPUs when the run started; figures may be noisy",
                       prov.other_cpu_percent);
    }

    std::optional<bench::RunRecorder> writer;
    if (!o.no_store) {
        std::string cmdline;
        for (const auto& t : o.tags) cmdline += " --tag " + t;
        writer.emplace(bench::RunRecorder::begin(db_path, "accel bench" + cmdline, o.tags, prov,
                                                 nlohmann::json{{"resume_of", o.resume}}.dump()));
    }

    const Format format = o.format.resolve();
    const bool tty = isatty(STDERR_FILENO) != 0;
    std::vector<bench::PointResult> results;
    int failures = 0;
    int invalid = 0;
    int verify_failed = 0;
    int slo_missed = 0;
    const auto t_start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < points.size(); ++i) {
        const auto& p = points[i];
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        const double eta = i > 0 ? elapsed / static_cast<double>(i) * static_cast<double>(points.size() - i) : 0;
        const std::string line = fmt::format("bench: [{}/{}] {} {} on {} (elapsed {:.0f} s, ETA {:.0f} s)", i + 1,
                                             points.size(), std::filesystem::path(p.model).filename().string(),
                                             p.test_name(), p.device, elapsed, eta);
        if (tty) {
            fmt::print(stderr, "\r\033[K{}", line);
        } else {
            fmt::print(stderr, "{}\n", line);
        }
        bench::PointResult r = bench::run_point_isolated(p, popts);
        if (tty) fmt::print(stderr, "\r\033[K");
        if (!r.ok) {
            ++failures;
            fmt::print(stderr, "bench: {} {} failed ({}): {}\n", std::filesystem::path(p.model).filename().string(),
                       p.test_name(), r.failure_stage, r.failure_reason);
            if (writer) writer->add(r);
            results.push_back(std::move(r));
            if (o.fail_fast) break;
            continue;
        }
        if (!r.m.valid) ++invalid;
        if (r.verified && !r.verify_pass) ++verify_failed;
        if (r.server && r.server->slo_pass) {
            // With --find-peak the check is that some QPS met the SLO; otherwise that this run did.
            const bool met = r.server->probes.empty() ? *r.server->slo_pass : r.server->peak_qps.has_value();
            if (!met) ++slo_missed;
        }
        if (writer) writer->add(r);
        if (format == Format::jsonl) {
            fmt::print("{}\n", result_json(r, provenance).dump());
            std::fflush(stdout);
        }
        results.push_back(std::move(r));
    }

    if (format == Format::json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& r : results) {
            if (r.ok) arr.push_back(result_json(r, provenance));
        }
        print_json({{"schema_version", json_schema_version},
                    {"run_id", writer ? writer->run_id() : ""},
                    {"results", arr},
                    {"failures", failures}});
    } else if (format == Format::csv || format == Format::table || format == Format::markdown) {
        Table t{.columns = {"model", "size", "params", "device", "threads", "test", "t/s", "p50 ms", "p99 ms", "TTFT ms",
                            "RSS MiB", "note"},
                .numeric = {false, true, true, false, true, false, true, true, true, true, true, false}};
        for (const auto& r : results) {
            if (!r.ok) {
                t.rows.push_back({std::filesystem::path(r.spec.model).filename().string(), "", "", r.spec.device, "",
                                  r.spec.test_name(), "", "", "", "", "", "FAILED: " + r.failure_stage});
                continue;
            }
            std::string note = r.m.valid ? "" : "INVALID";
            if (r.m.noisy) note += std::string(note.empty() ? "" : ",") + "noisy";
            if (engine::has_random_weights(r.model_name)) note += std::string(note.empty() ? "" : ",") + "random weights";
            std::optional<std::string> ttft;
            if (!r.m.ttft_ns.empty()) {
                std::vector<double> tv(r.m.ttft_ns.begin(), r.m.ttft_ns.end());
                ttft = fmt::format("{:.2f}", bench::summarize(tv).mean / 1e6);
            }
            t.rows.push_back({std::filesystem::path(r.spec.model).filename().string(), mib(r.model_size),
                              params_text(r.model_n_params), r.device, std::to_string(r.n_threads), r.spec.test_name(),
                              fmt::format("{:.2f} ± {:.2f}", r.m.ts.mean, r.m.ts.stddev),
                              fmt::format("{:.2f}", r.m.ns.p50 / 1e6), fmt::format("{:.2f}", r.m.ns.p99 / 1e6), ttft,
                              fmt::format("{:.1f}", static_cast<double>(r.peak_rss_bytes) / 1048576.0), note});
        }
        fmt::print("{}", format == Format::csv ? render_csv(t) : format == Format::markdown ? render_markdown(t) : render_table(t));
        if (format != Format::csv) {
            if (std::any_of(results.begin(), results.end(),
                            [](const auto& r) { return r.ok && r.spec.scenario == bench::Scenario::embed; })) {
                fmt::print("embed rows: t/s counts texts (of the s tokens each) per second, b texts per call\n");
            }
            for (const auto& r : results) {
                if (!r.ok) continue;
                const std::string name = std::filesystem::path(r.spec.model).filename().string();
                if (r.verified) {
                    fmt::print("verify: {} {} on {}: {}\n", name, r.spec.test_name(), r.device, r.verify_summary);
                }
                print_load_lines(r, name);
                for (const auto& why : r.m.reasons) fmt::print("note: {} {}: {}\n", name, r.spec.test_name(), why);
                if (r.decode_bandwidth_pct) {
                    fmt::print("roofline: {} {}: {:.1f}% of measured memory bandwidth ({})\n", name,
                               r.spec.test_name(), *r.decode_bandwidth_pct, r.roofline_basis);
                }
                if (r.prefill_flops_pct) {
                    fmt::print("roofline: {} {}: {:.1f}% of measured matmul peak ({})\n", name,
                               r.spec.test_name(), *r.prefill_flops_pct, r.roofline_basis);
                }
            }
            const auto& any = results.empty() ? bench::PointResult{} : results.front();
            if (!any.roofline_basis.empty() && any.roofline_basis.rfind("unavailable", 0) == 0) {
                fmt::print("roofline: {}\n", any.roofline_basis);
            }
            // Each point's own energy status and --cold outcome: one point's counter may fail where another's did not.
            for (const auto& r : results) {
                if (!r.ok) continue;
                const std::string name = std::filesystem::path(r.spec.model).filename().string();
                std::string joules;
                for (const auto& [domain, j] : r.energy_j) {
                    joules += fmt::format("{}{} {:.3f} J", joules.empty() ? "" : ", ", domain, j);
                }
                fmt::print("energy: {} {}: {}\n", name, r.spec.test_name(),
                           r.energy_j.empty() ? "unavailable: " + r.energy_unavailable
                                              : joules + " over " + r.energy_window);
                if (r.cold_cache && !*r.cold_cache) {
                    fmt::print("cold: {} {}: NOT a cold load: {}\n", name, r.spec.test_name(), r.cold_cache_note);
                }
            }
        }
    }
    if (writer) {
        writer->finish(failures > 0 && failures == static_cast<int>(results.size()) ? store::RunStatus::failed
                                                                                   : store::RunStatus::complete);
        fmt::print(stderr, "bench: run {} stored in {}{}\n", writer->run_id(), writer->location().string(),
                   writer->spooling() ? " (spooled: load it later with accel db ingest)" : "");
    }
    if (is_default) {
        fmt::print(stderr, "bench: results are in {} (try: accel db query \"SELECT * FROM results\")\n", db_path.string());
    }
    if (failures > 0) fmt::print(stderr, "bench: {} of {} points failed\n", failures, results.size());
    if (failures > 0 && failures == static_cast<int>(results.size())) return exit_runtime;
    if (slo_missed > 0) {
        fmt::print(stderr, "bench: {} server point(s) missed the SLO\n", slo_missed);
        return exit_check;
    }
    if (verify_failed > 0) {
        fmt::print(stderr, "bench: --verify failed for {} point(s): the device's output differs from the CPU reference\n",
                   verify_failed);
        return exit_check;
    }
    return exit_ok;
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
    cmd->add_option("--scenario", o->scenarios, "llm, latency, embed, offline, server (comma list)")
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
    cmd->add_option("--embed-batch", o->embed_batch, "embed scenario: texts per call")->default_val("1,8");
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
    cmd->add_option("--seed", o->seed, "Seed of the random input tokens")->default_val(42);
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
    add_format_option(*cmd, o->format, {"table", "json", "jsonl", "csv", "markdown"});
    cmd->callback([o, &exit_code] { exit_code = run_bench(*o); });
}

}  // namespace accel::cli
