// `accel conform`: the conformance suite (bench/conformance.h) and its coverage of the knowledge table.
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/conformance.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/version.h"
#include "commands.h"
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
    bool no_store = false;
    bool json = false;
    bool list = false;
    bool coverage = false;
};

nlohmann::json result_json(const bench::ConformResult& r) {
    nlohmann::json j{{"arch", r.arch},          {"llama_arch", r.llama_arch}, {"device", r.device},
                     {"type", r.type},          {"status", bench::to_string(r.status)},
                     {"stage", r.stage},        {"reason", r.reason},         {"loaded", r.loaded},
                     {"output", r.output_kind}, {"signal", r.signal},         {"wall_ms", r.wall_ms}};
    const auto opt = [&j](const char* key, const auto& v) { j[key] = v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    opt("load_ms", r.load_ms);
    opt("nmse", r.nmse);
    opt("top1", r.top1);
    opt("round_trip_identical", r.round_trip_identical);
    opt("round_trip_max_abs", r.round_trip_max_abs);
    j["model_path"] = r.model_path.string();
    return j;
}

std::string cell(const bench::ConformResult& r) {
    switch (r.status) {
        case bench::ConformStatus::pass: return fmt::format("pass {:.1e}", r.nmse.value_or(0));
        case bench::ConformStatus::fail:
            return r.nmse ? fmt::format("FAIL {:.1e}", *r.nmse) : (r.signal != 0 ? fmt::format("FAIL sig{}", r.signal) : "FAIL");
        case bench::ConformStatus::unsupported: return "unsupported";
    }
    return "";
}

void print_matrix(const std::vector<bench::ConformResult>& results, const std::vector<std::string>& types) {
    Table t;
    t.columns = {"arch", "device"};
    for (const auto& ty : types) t.columns.push_back(ty);
    t.columns.push_back("reason");
    t.numeric.assign(t.columns.size(), false);
    std::map<std::pair<std::string, std::string>, size_t> row_of;
    for (const auto& r : results) {
        const auto key = std::make_pair(r.arch, r.device);
        auto it = row_of.find(key);
        if (it == row_of.end()) {
            it = row_of.emplace(key, t.rows.size()).first;
            std::vector<std::optional<std::string>> row(t.columns.size(), std::string("-"));
            row[0] = r.arch;
            row[1] = r.device;
            row.back() = std::string();
            t.rows.push_back(std::move(row));
        }
        auto& row = t.rows[it->second];
        const auto col = std::find(types.begin(), types.end(), r.type) - types.begin() + 2;
        row[static_cast<size_t>(col)] = cell(r);
        if (r.status != bench::ConformStatus::pass && row.back()->empty()) row.back() = r.type + ": " + r.reason;
    }
    fmt::print("{}", render_table(t));
}

void print_coverage(const bench::Coverage& c, bool json) {
    if (json) {
        nlohmann::json groups = nlohmann::json::array();
        for (const auto& g : c.groups) {
            groups.push_back({{"family", g.family}, {"subfamily", g.subfamily}, {"types", g.n_types},
                              {"mapped", g.n_mapped}, {"runnable", g.n_runnable}});
        }
        nlohmann::json keys = nlohmann::json::array();
        for (const auto& k : c.key_types) {
            keys.push_back({{"model_type", k.model_type}, {"family", k.family}, {"subfamily", k.subfamily},
                            {"llama_arch", k.llama_arch}, {"status", k.status}});
        }
        print_json({{"schema_version", json_schema_version},
                    {"types", c.n_types},
                    {"mapped", c.n_mapped},
                    {"runnable", c.n_runnable},
                    {"groups", groups},
                    {"key_types", keys}});
        return;
    }
    fmt::print("Model types runnable by this build: {} of {} in the knowledge table ({} have a llama.cpp "
               "architecture); a type counts only when a conformance case for its architecture passed here.\n\n",
               c.n_runnable, c.n_types, c.n_mapped);
    Table g;
    g.columns = {"family", "subfamily", "types", "mapped", "runnable"};
    g.numeric = {false, false, true, true, true};
    for (const auto& x : c.groups) {
        g.rows.push_back({x.family, x.subfamily, std::to_string(x.n_types), std::to_string(x.n_mapped),
                          std::to_string(x.n_runnable)});
    }
    fmt::print("{}\n", render_table(g));
    Table k;
    k.columns = {"model_type", "family", "subfamily", "llama.cpp arch", "status"};
    k.numeric.assign(5, false);
    for (const auto& x : c.key_types) {
        k.rows.push_back({x.model_type, x.family, x.subfamily, x.llama_arch.empty() ? "-" : x.llama_arch, x.status});
    }
    fmt::print("{}", render_table(k));
}

int run_conform(const ConformCliOptions& o, const std::string& command_line) {
    if (o.list) {
        const auto archs = bench::select_architectures({});
        if (o.json) {
            nlohmann::json a = nlohmann::json::array();
            for (const auto& x : archs) {
                a.push_back({{"arch", x.id()}, {"llama_arch", x.arch}, {"moe", x.moe},
                             {"output", x.embeddings ? "embeddings" : "logits"}, {"unsupported", x.unsupported}});
            }
            print_json({{"schema_version", json_schema_version}, {"architectures", a}});
        } else {
            for (const auto& x : archs) {
                fmt::print("{}{}\n", x.id(), x.unsupported.empty() ? "" : "  (unsupported: " + x.unsupported + ")");
            }
        }
        return exit_ok;
    }
    bench::ConformOptions opts;
    opts.archs = o.archs;
    if (o.coverage && (o.archs.empty() || o.archs == std::vector<std::string>{"all"})) {
        opts.archs = bench::coverage_architectures();
    }
    opts.devices = o.devices;
    opts.types.clear();
    for (const auto& t : o.types) opts.types.push_back(engine::parse_weight_type(t));
    opts.seed = o.seed;
    opts.vocab_dir = vocab_dir();
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
    const auto [n_pass, n_fail, n_unsupported] = bench::tally(results);
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
                    {"summary", {{"pass", n_pass}, {"fail", n_fail}, {"unsupported", n_unsupported}}},
                    {"results", rs}});
    } else {
        print_matrix(results, o.types);
        fmt::print("\n{} cases: {} pass, {} fail, {} unsupported{}\n", results.size(), n_pass, n_fail, n_unsupported,
                   run_id.empty() ? "" : " (stored as run " + run_id + ")");
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
        "with the CPU f32 reference (normalized MSE, top-1 agreement, save/reload round trip). Each case runs in a\n"
        "child process. Results are stored (compatibility view). Exit 3 when a case fails. See docs/conform.md.");
    cmd->add_option("--arch", o->archs, "Architectures (llama.cpp names, comma list) or all")->delimiter(',');
    cmd->add_option("--device", o->devices, "ggml devices (comma list) or all")->delimiter(',');
    cmd->add_option("--type", o->types, "Weight types (comma list)")
        ->delimiter(',')
        ->check(CLI::IsMember({"f32", "f16", "q8_0", "q4_0"}));
    cmd->add_option("--seed", o->seed, "Seed for the weights and the prompt")->default_val(1);
    cmd->add_option("--threads,-t", o->threads, "CPU threads per case")->default_val(2)->check(CLI::Range(1, 1024));
    cmd->add_option("--timeout", o->timeout_s, "Seconds per case before it is killed")->default_val(120)->check(CLI::Range(1, 86400));
    cmd->add_option("--db", o->db, "Results database (default: $ACCEL_DB or the data dir)");
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
