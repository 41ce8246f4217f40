// `accel web-bench`: the llm benchmark in real headless browsers (wllama's WASM and WebGPU paths), the same test
// natively, WebGPU/WebNN matmul microbenchmarks, and the results stored next to each other (web/). On a whisper.cpp
// model, Whisper in each browser through whisper.cpp's WebAssembly build (web/web_whisper).
#include <csignal>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/core/version.h"
#include "accel/web/web_bench.h"
#include "accel/model/whisper_file.h"
#include "accel/web/web_results.h"
#include "accel/web/web_whisper.h"
#include "commands.h"
#include "output.h"
#include "web_whisper_printer.h"

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
    std::string audio;
    int32_t max_tokens = 64;
    FormatOption format;
};

bool is_whisper_file(const std::string& path) {
    uint32_t magic = 0;
    std::ifstream in(path, std::ios::binary);
    return in.read(reinterpret_cast<char*>(&magic), sizeof magic) && magic == model::whisper_file_magic;
}

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

nlohmann::json native_json(const web::LlmFigures& f) {
    return {{"pp_ts", f.pp_mean()}, {"tg_ts", f.tg_mean()}, {"n_threads", f.n_threads}, {"n_prompt", f.n_prompt},
            {"n_gen", f.n_gen}, {"load_ms", f.load_ms}, {"greedy_text", f.greedy_text}};
}

// One browser llm figure beside native's at the same thread count: two table rows (pp, tg) and two JSON entries.
void compare(const std::string& browser, const std::string& version, const web::LlmFigures& f,
             const web::NativeBaselines& native, Table& t, nlohmann::json& comparisons) {
    const web::LlmFigures* n = native.at(f.n_threads);
    const std::string threads = fmt::format("{}{}", f.n_threads, f.multithread ? " (pthreads)" : "");
    const std::string backend = f.backend_note.empty() ? f.backend : f.backend + " (software)";
    for (const bool pp : {true, false}) {
        const double w = pp ? f.pp_mean() : f.tg_mean();
        const double nat = n == nullptr ? 0.0 : (pp ? n->pp_mean() : n->tg_mean());
        const std::string test = fmt::format("{}{}", pp ? "pp" : "tg", pp ? f.n_prompt : f.n_gen);
        const bool has_ratio = w > 0 && nat > 0;
        t.rows.push_back({browser, version, backend, threads, test, fmt_ts(w), fmt_ts(nat),
                          has_ratio ? fmt::format("{:.3f}", w / nat) : "unavailable"});
        comparisons.push_back({{"browser", browser}, {"backend", f.backend}, {"n_threads", f.n_threads},
                               {"test", test}, {"browser_ts", w}, {"native_ts", nat},
                               {"ratio", has_ratio ? nlohmann::json(w / nat) : nlohmann::json()}});
    }
    if (n != nullptr && f.greedy_text != n->greedy_text)
        ACCEL_LOG_WARN("{} {}: greedy text differs from native:\n  browser: {}\n  native:  {}", browser, f.backend,
                       f.greedy_text, n->greedy_text);
}

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

    const std::filesystem::path db =
        c.no_store ? std::filesystem::path() : c.db.empty() ? paths::default_db() : std::filesystem::path(c.db);
    if (is_whisper_file(c.model)) {
        if (c.audio.empty()) throw Error(ErrorKind::invalid_input, "--audio: a Whisper model needs an audio file");
        o.max_tokens = c.max_tokens;
        const auto bench = web::run_whisper_bench(o, c.audio, browsers, db);
        return print_whisper_bench(bench, c.model, c.format.resolve() == Format::json);
    }
    web::NativeBaselines native{.at_default = web::run_native(o)};
    const auto [outcomes, pages] = web::run_browsers(o, browsers);
    web::add_equal_thread_baselines(o, pages, native);
    std::string run_id;
    if (!db.empty()) run_id = web::store_results(db, o, outcomes, pages, native);

    bool any_failed = g_interrupted.load();
    bool check_failed = false;
    Table t{.columns = {"browser", "version", "backend", "threads", "test", "browser t/s", "native t/s", "ratio"},
            .numeric = {false, false, false, true, false, true, true, true}};
    nlohmann::json doc{{"schema_version", json_schema_version}, {"model", c.model}, {"run_id", run_id},
                       {"native", native_json(native.at_default)}, {"native_equal_threads", nlohmann::json::array()},
                       {"comparisons", nlohmann::json::array()}, {"browsers", nlohmann::json::array()}};
    for (const auto& f : native.at_threads) doc["native_equal_threads"].push_back(native_json(f));
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
            compare(b.browser, b.version, f, native, t, doc["comparisons"]);
        }
        doc["browsers"].push_back(bj);
    }
    if (c.format.resolve() == Format::json) {
        print_json(doc);
    } else {
        fmt::print("{}", render_table(t));
        const web::LlmFigures& d = native.at_default;
        fmt::print("native t/s at the browser's thread count; native's own default ({} threads): pp {} t/s, tg {} t/s\n",
                   d.n_threads, fmt_ts(d.pp_mean()), fmt_ts(d.tg_mean()));
        for (size_t i = 0; i < outcomes.size(); ++i) {
            if (!outcomes[i].ok) continue;
            fmt::print("{} WebGPU: {}\n", outcomes[i].browser, pages[i].webgpu_json);
            fmt::print("{} WebNN: {}\n", outcomes[i].browser, pages[i].webnn_json);
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
    cmd->add_option("--model,-m", c->model, "GGUF model file, or a whisper.cpp model (then --audio)")->required();
    cmd->add_option("--audio", c->audio, "Whisper: WAV, FLAC or Ogg clip, decoded once and given to every browser");
    cmd->add_option("--max-tokens", c->max_tokens, "Whisper: tokens per segment at most")->default_val(64)->check(CLI::Range(1, 448));
    cmd->add_option("--browser", c->browsers, "Comma-separated: chromium, firefox")->default_val("chromium");
    cmd->add_option("-p", c->n_prompt, "Prompt tokens (about: words of a fixed text)")->default_val(64)->check(CLI::Range(1, 400));
    cmd->add_option("-n", c->n_gen, "Generated tokens")->default_val(16)->check(CLI::Range(1, 100));
    cmd->add_option("-r", c->reps, "Timed repetitions")->default_val(3)->check(CLI::Range(1, 100));
    cmd->add_option("--ngl,--n-gpu-layers", c->ngl, "Layers on WebGPU; a list sweeps (0: the WASM CPU path)")->delimiter(',');
    cmd->add_option("--threads,-t", c->threads, "Threads in both (0: each side's default)")->default_val(0)->check(accel::cli::non_negative);
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
