// `accel conform`: the conformance suite (bench/conformance.h) and its coverage of the knowledge table.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/conformance.h"
#include "accel/bench/hf_conformance.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/version.h"
#include "commands.h"
#include "conform_printer.h"
#include "output.h"
#include "runtime_files.h"

namespace accel::cli {
namespace {

struct ConformCliOptions {
    std::vector<std::string> archs;
    std::vector<std::string> devices;
    std::vector<std::string> types{"f32", "f16", "q8_0", "q4_0"};
    uint64_t seed = 1;
    int32_t threads = 2;
    int timeout_s = 120;
    std::string db;
    std::string hf_fixtures;
    bool no_store = false;
    bool json = false;
    bool list = false;
    bool coverage = false;
};

int run_conform(const ConformCliOptions& o, const std::string& command_line) {
    if (o.list) {
        const auto archs = bench::select_architectures({});
        if (o.json) {
            nlohmann::json a = nlohmann::json::array();
            for (const auto& x : archs) {
                a.push_back({{"arch", x.id()}, {"llama_arch", x.arch}, {"moe", x.moe},
                             {"output", x.embeddings ? "embeddings" : "logits"}, {"unsupported", x.unsupported}});
            }
            nlohmann::json h = nlohmann::json::array();
            for (const auto& c : bench::hf_classes()) {
                h.push_back({{"model_type", c.model_type}, {"fixture", c.fixture}, {"not_yet", c.not_yet}});
            }
            print_json({{"schema_version", json_schema_version}, {"architectures", a}, {"hf_classes", h}});
        } else {
            for (const auto& x : archs) {
                fmt::print("{}{}\n", x.id(), x.unsupported.empty() ? "" : "  (unsupported: " + x.unsupported + ")");
            }
            fmt::print("\nHugging Face classes, against transformers (fixture tests/fixtures/hf/<class>):\n");
            for (const auto& c : bench::hf_classes()) {
                fmt::print("{}{}\n", c.model_type, c.not_yet.empty() ? "" : "  (not yet: " + c.not_yet + ")");
            }
        }
        return exit_ok;
    }
    bench::ConformOptions opts;
    opts.archs = o.archs;
    if (o.coverage && (o.archs.empty() || o.archs == std::vector<std::string>{"all"})) {
        opts.archs = bench::coverage_architectures();
        for (const auto& k : bench::coverage_key_types()) {  // and every key class against transformers
            if (std::find(opts.archs.begin(), opts.archs.end(), k) == opts.archs.end()) opts.archs.push_back(k);
        }
    }
    opts.devices = o.devices;
    opts.types.clear();
    for (const auto& t : o.types) opts.types.push_back(engine::parse_weight_type(t));
    opts.seed = o.seed;
    opts.vocab_dir = vocab_dir();
    opts.hf_fixtures = hf_fixtures_dir(o.hf_fixtures);
    opts.against_transformers = true;
    opts.n_threads = o.threads;
    opts.timeout_s = o.timeout_s;
    bench::select_architectures(opts.archs);  // reject unknown names before anything runs
    const bool tty = isatty(STDERR_FILENO) != 0;
    size_t done = 0;
    opts.on_result = [&](const bench::ConformResult& r) {
        ++done;
        if (tty || log_level() <= LogLevel::info) {
            fmt::print(stderr, "[{}] {} {} {}: {}{}\n", done, r.arch, r.device, r.type, bench::to_string(r.status),
                       r.reason.empty() ? "" : " (" + r.reason + ")");
        }
    };
    const auto results = bench::run_conformance(opts);
    std::string run_id;
    if (!o.no_store) {
        run_id = bench::store_conformance(results, {.db = o.db}, command_line, o.seed);
    }
    const auto [n_pass, n_fail, n_unsupported, n_not_yet] = bench::tally(results);
    if (o.coverage) {
        print_coverage(bench::compute_coverage(results), o.json);
    } else if (o.json) {
        nlohmann::json rs = nlohmann::json::array();
        for (const auto& r : results) rs.push_back(result_json(r));
        nlohmann::json th = nlohmann::json::object();
        for (const auto& t : o.types) {
            const auto x = bench::conform_threshold(engine::parse_weight_type(t));
            th[t] = {{"max_nmse", x.max_nmse}, {"min_top1", x.min_top1}};
        }
        print_json({{"schema_version", json_schema_version},
                    {"seed", o.seed},
                    {"run_id", run_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(run_id)},
                    {"thresholds", th},
                    {"hf_fixtures", opts.hf_fixtures.string()},
                    {"summary", {{"pass", n_pass}, {"fail", n_fail}, {"unsupported", n_unsupported}, {"not_yet", n_not_yet}}},
                    {"results", rs}});
    } else {
        print_matrix(results, o.types);
        fmt::print("\n{} cases: {} pass, {} fail, {} unsupported, {} not yet{}\n", results.size(), n_pass, n_fail,
                   n_unsupported, n_not_yet, run_id.empty() ? "" : " (stored as run " + run_id + ")");
        if (opts.hf_fixtures.empty()) {
            fmt::print("No Hugging Face fixtures found: the cases against transformers need --hf-fixtures DIR.\n");
        }
    }
    return n_fail > 0 ? exit_check : exit_ok;
}

}  // namespace

void register_conform(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ConformCliOptions>();
    auto* cmd = app.add_subcommand(
        "conform",
        "Conformance suite: builds a tiny deterministic model (random weights) for every llama.cpp architecture that\n"
        "can be built from synthetic metadata, runs it on each device in each weight type, and compares the output\n"
        "with the CPU f32 reference (normalized MSE, top-1 agreement, save/reload round trip). The 13 key Hugging\n"
        "Face classes are checked against transformers instead: accel converts the committed fixture and compares\n"
        "its output with the reference transformers computed (a class with no case yet is `not yet`, not a\n"
        "failure). Each case runs in a child process. Results are stored (compatibility view). Exit codes: 0 no\n"
        "case failed, 3 a case failed, 2 bad input, 1 runtime error. See docs/conform.md.");
    cmd->add_option("--arch", o->archs,
                    "Architectures, comma list: llama.cpp names, Hugging Face model_types (bert, clap, clip, detr, "
                    "llama, llava, llava_next, qwen2, t5, vit, wav2vec2, whisper, xclip), or all")
        ->delimiter(',');
    cmd->add_option("--device", o->devices, "ggml devices (comma list) or all")->delimiter(',');
    cmd->add_option("--type", o->types, "Weight types (comma list)")
        ->delimiter(',')
        ->check(CLI::IsMember({"f32", "f16", "q8_0", "q4_0"}));
    cmd->add_option("--seed", o->seed, "Seed for the weights and the prompt")->default_val(1)
        ->check(accel::cli::non_negative);
    cmd->add_option("--threads,-t", o->threads, "CPU threads per case")->default_val(2)->check(CLI::Range(1, 1024));
    cmd->add_option("--timeout", o->timeout_s, "Seconds per case before it is killed")->default_val(120)->check(CLI::Range(1, 86400));
    cmd->add_option("--db", o->db, "Results database (default: $ACCEL_DB or the data dir)");
    cmd->add_option("--hf-fixtures", o->hf_fixtures,
                    "Folder of the Hugging Face fixtures for the cases against transformers (default: "
                    "$ACCEL_HF_FIXTURES, else tests/fixtures/hf of the source tree this accel was built from)");
    cmd->add_flag("--no-store", o->no_store, "Do not store the results");
    cmd->add_flag("--list", o->list, "List the architecture variants and exit");
    cmd->add_flag("--coverage", o->coverage,
                  "Print how many Hugging Face model types this build runs (runs the cases for the architectures the "
                  "knowledge table names)");
    cmd->add_flag("--json", o->json, "Print JSON");
    cmd->callback([o, &exit_code] {
        const auto join = [](const std::vector<std::string>& v) {
            std::string s;
            for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
            return s.empty() ? std::string("all") : s;
        };
        const std::string line = fmt::format("accel conform --arch {} --device {} --type {} --seed {}{}", join(o->archs),
                                             join(o->devices), join(o->types), o->seed, o->coverage ? " --coverage" : "");
        exit_code = run_conform(*o, line);
    });
}

}  // namespace accel::cli
