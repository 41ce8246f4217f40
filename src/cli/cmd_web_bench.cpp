// `accel web-bench`: the llm benchmark in real headless browsers (wllama's WASM and WebGPU paths), the same test
// natively, WebGPU/WebNN matmul microbenchmarks, and the results stored next to each other (web/).
#include <csignal>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/core/version.h"
#include "accel/web/web_bench.h"
#include "accel/web/web_results.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

struct WebBenchCli {
    std::string model;
    std::string browsers = "chromium";
    std::vector<int32_t> ngl{0};
    int32_t n_prompt = 64, n_gen = 16, reps = 3, threads = 0, timeout_s = 180;
    bool no_webgpu = false, no_webnn = false, no_store = false;
    std::string db;
    FormatOption format;
};

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t end = s.find(',', pos);
        if (end == std::string::npos) end = s.size();
        if (end > pos) out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

std::string fmt_ts(double v) { return v > 0 ? fmt::format("{:.1f}", v) : std::string("unavailable"); }

int run(const WebBenchCli& c) {
    web::WebBenchOptions o{.model = c.model, .n_gpu_layers = c.ngl, .n_prompt = c.n_prompt, .n_gen = c.n_gen,
                           .reps = c.reps, .n_threads = c.threads, .webgpu = !c.no_webgpu, .webnn = !c.no_webnn,
                           .timeout = std::chrono::seconds(c.timeout_s), .cancel = &g_interrupted};
    const std::vector<std::string> browsers = split(c.browsers);
    if (browsers.empty()) throw Error(ErrorKind::invalid_input, "--browser: give chromium, firefox or both");
    for (const auto& b : browsers) {
        if (b != "chromium" && b != "firefox")
            throw Error(ErrorKind::invalid_input, fmt::format("--browser: unknown browser '{}' (chromium, firefox)", b));
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(c.model, ec))
        throw Error(ErrorKind::invalid_input, fmt::format("--model: {} is not a readable file", c.model));

    // Ctrl-C stops the wait; run_browser then kills the browser and removes its profile before we return.
    struct sigaction sa{}, old_int{}, old_term{};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct Restore {
        struct sigaction a, b;
        ~Restore() {
            sigaction(SIGINT, &a, nullptr);
            sigaction(SIGTERM, &b, nullptr);
        }
    } restore{old_int, old_term};

    const web::LlmFigures native = web::run_native(o);
    const auto [outcomes, pages] = web::run_browsers(o, browsers);
    std::string run_id;
    if (!c.no_store) run_id = web::store_results(c.db.empty() ? paths::default_db() : std::filesystem::path(c.db), o, outcomes, pages, native);

    bool any_failed = g_interrupted.load();
    bool check_failed = false;
    Table t{.columns = {"browser", "version", "backend", "threads", "test", "browser t/s", "native t/s", "ratio"},
            .numeric = {false, false, false, true, false, true, true, true}};
    nlohmann::json doc{{"schema_version", json_schema_version}, {"model", c.model}, {"run_id", run_id}};
    doc["native"] = {{"pp_ts", native.pp_mean()}, {"tg_ts", native.tg_mean()}, {"n_threads", native.n_threads},
                     {"n_prompt", native.n_prompt}, {"n_gen", native.n_gen}, {"load_ms", native.load_ms},
                     {"greedy_text", native.greedy_text}};
    doc["browsers"] = nlohmann::json::array();
    for (size_t i = 0; i < outcomes.size(); ++i) {
        const auto& b = outcomes[i];
        nlohmann::json bj{{"browser", b.browser}, {"version", b.version}, {"ok", b.ok}, {"wall_s", b.wall_s}};
        if (!b.ok) {
            any_failed = true;
            bj["error"] = b.error;
            t.rows.push_back({b.browser, b.version, std::nullopt, std::nullopt, "failed: " + b.error, std::nullopt,
                              std::nullopt, std::nullopt});
            doc["browsers"].push_back(bj);
            continue;
        }
        const web::PageResult& p = pages[i];
        bj["page"] = nlohmann::json::parse(b.result_json, nullptr, false);
        bj["check_failures"] = p.check_failures;
        if (!p.check_failures.empty()) check_failed = true;
        for (const auto& f : p.llm) {
            if (!f.ok) {
                any_failed = true;
                t.rows.push_back({b.browser, b.version, f.backend, std::nullopt, "failed: " + f.error, std::nullopt,
                                  std::nullopt, std::nullopt});
                continue;
            }
            const std::string threads = fmt::format("{}{}", f.n_threads, f.multithread ? " (pthreads)" : "");
            auto ratio = [](double w, double n) { return n > 0 && w > 0 ? fmt::format("{:.3f}", w / n) : "unavailable"; };
            const std::string backend = f.backend_note.empty() ? f.backend : f.backend + " (software)";
            t.rows.push_back({b.browser, b.version, backend, threads, fmt::format("pp{}", f.n_prompt),
                              fmt_ts(f.pp_mean()), fmt_ts(native.pp_mean()), ratio(f.pp_mean(), native.pp_mean())});
            t.rows.push_back({b.browser, b.version, backend, threads, fmt::format("tg{}", f.n_gen),
                              fmt_ts(f.tg_mean()), fmt_ts(native.tg_mean()), ratio(f.tg_mean(), native.tg_mean())});
            if (f.greedy_text != native.greedy_text)
                ACCEL_LOG_WARN("{} {}: greedy text differs from native:\n  browser: {}\n  native:  {}", b.browser,
                               f.backend, f.greedy_text, native.greedy_text);
        }
        doc["browsers"].push_back(bj);
    }
    if (c.format.resolve() == Format::json) {
        print_json(doc);
    } else {
        fmt::print("{}", render_table(t));
        for (size_t i = 0; i < outcomes.size(); ++i) {
            if (!outcomes[i].ok) continue;
            const auto gpu = nlohmann::json::parse(pages[i].webgpu_json, nullptr, false);
            const auto nn = nlohmann::json::parse(pages[i].webnn_json, nullptr, false);
            fmt::print("{} WebGPU: {}\n", outcomes[i].browser, gpu.dump());
            fmt::print("{} WebNN: {}\n", outcomes[i].browser, nn.dump());
        }
        if (!run_id.empty()) fmt::print("stored as run {}\n", run_id);
    }
    if (check_failed) return exit_check;
    return any_failed ? exit_runtime : exit_ok;
}

}  // namespace

void register_web_bench(CLI::App& app, int& exit_code) {
    auto c = std::make_shared<WebBenchCli>();
    auto* cmd = app.add_subcommand("web-bench", "Run the llm benchmark in headless browsers (WASM, WebGPU) next to native");
    cmd->add_option("--model,-m", c->model, "GGUF model file")->required();
    cmd->add_option("--browser", c->browsers, "Comma-separated: chromium, firefox")->default_val("chromium");
    cmd->add_option("-p", c->n_prompt, "Prompt tokens (about: words of a fixed text)")->default_val(64)->check(CLI::Range(1, 400));
    cmd->add_option("-n", c->n_gen, "Generated tokens")->default_val(16)->check(CLI::Range(1, 100));
    cmd->add_option("-r", c->reps, "Timed repetitions")->default_val(3)->check(CLI::Range(1, 100));
    cmd->add_option("--ngl,--n-gpu-layers", c->ngl, "Layers on WebGPU; a list sweeps (0: the WASM CPU path)")->delimiter(',');
    cmd->add_option("--threads,-t", c->threads, "Threads in both (0: each side's default)")->default_val(0)->check(CLI::NonNegativeNumber);
    cmd->add_option("--timeout", c->timeout_s, "Seconds to wait for each browser")->default_val(180)->check(CLI::Range(5, 3600));
    cmd->add_flag("--no-webgpu", c->no_webgpu, "Do not enable or probe WebGPU");
    cmd->add_flag("--no-webnn", c->no_webnn, "Do not enable or probe WebNN");
    cmd->add_flag("--no-store", c->no_store, "Print only; store nothing");
    cmd->add_option("--db", c->db, "Database file (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)");
    add_format_option(*cmd, c->format, {"table", "json"});
    cmd->footer("Exit status: 0 ok, 1 a browser or run failed, 2 invalid input, 3 a WebGPU/WebNN result check failed.");
    cmd->callback([c, &exit_code] { exit_code = run(*c); });
}

}  // namespace accel::cli
