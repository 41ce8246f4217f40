#include "accel/web/web_results.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/provenance.h"
#include "accel/bench/statistics.h"
#include "accel/bench/text_generation.h"
#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/store/result_writer.h"

namespace accel::web {
namespace {

using nlohmann::json;

// Mean and sample standard deviation (n - 1) from bench's statistics, the ones every bench result uses.
double mean(const std::vector<double>& v) { return bench::summarize(v).mean; }
double stddev(const std::vector<double>& v) { return bench::summarize(v).stddev; }

double per_second(double n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0.0; }

void check_matmul(const json& m, const std::string& what, std::vector<std::string>& failures) {
    if (!m.is_object() || !m.contains("check")) return;
    const json& c = m["check"];
    if (!c.value("ok", false))
        failures.push_back(fmt::format("{} {}: max abs error {} > {}", what, m.value("type", "?"),
                                       c.value("max_abs_error", -1.0), c.value("tolerance", 0.0)));
}

}  // namespace

double LlmFigures::pp_mean() const { return mean(pp_ts); }
double LlmFigures::tg_mean() const { return mean(tg_ts); }

std::string prompt_of_words(int32_t n_words) {
    static const char* words[] = {"once", "upon", "a",    "time", "there", "was",  "a",    "little", "girl", "who",
                                  "liked", "to",  "play", "in",   "the",   "park", "with", "her",    "red",  "ball"};
    std::string out;
    for (int32_t i = 0; i < n_words; ++i) {
        if (i) out += ' ';
        out += words[i % 20];
    }
    return out;
}

PageResult parse_page_result(const std::string& text) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        throw Error(ErrorKind::invalid_input, "web: the page posted a result that is not a JSON object");
    if (doc.contains("fatal"))
        throw Error(ErrorKind::backend, fmt::format("web: the page failed: {}", doc["fatal"].get<std::string>()));
    PageResult r;
    const json env = doc.value("env", json::object());
    r.env_json = env.dump();
    r.user_agent = env.value("user_agent", "");
    r.browser_version = env.value("browser_version", "");
    r.cross_origin_isolated = env.value("cross_origin_isolated", false);
    r.wasm_simd = env.value("wasm_simd", false);
    r.wasm_threads = env.value("wasm_threads", false);
    r.memory_json = doc.value("memory_end", json("unavailable")).dump();
    r.webgpu_json = doc.value("webgpu", json::object()).dump();
    r.webnn_json = doc.value("webnn", json::object()).dump();
    for (const json& run : doc.value("llm", json::array())) {
        LlmFigures f;
        f.backend = run.value("backend", "wasm");
        f.n_gpu_layers = run.value("n_gpu_layers", 0);
        f.backend_note = run.value("backend_note", "");
        f.ok = run.value("ok", false);
        f.error = run.value("error", "");
        f.load_ms = run.value("load_ms", 0.0);
        f.n_threads = run.value("n_threads", 0);
        f.multithread = run.value("multithread", false);
        f.greedy_text = run.value("greedy_text", "");
        for (const json& s : run.value("samples", json::array())) {
            const double pn = s.value("prompt_n", 0.0), pms = s.value("prompt_ms", 0.0);
            const double gn = s.value("predicted_n", 0.0), gms = s.value("predicted_ms", 0.0);
            f.n_prompt = static_cast<int32_t>(pn);
            f.n_gen = static_cast<int32_t>(gn);
            f.pp_ts.push_back(per_second(pn, pms));
            // predicted_ms runs from the first sampled token to the last: gn - 1 decode steps (LlmFigures' rule).
            f.tg_ts.push_back(per_second(std::max(0.0, gn - 1), gms));
        }
        r.llm.push_back(std::move(f));
    }
    const json gpu = doc.value("webgpu", json::object());
    for (const json& m : gpu.value("matmul", json::array())) check_matmul(m, "webgpu", r.check_failures);
    const json nn = doc.value("webnn", json::object());
    if (nn.contains("matmul")) check_matmul(nn["matmul"], "webnn", r.check_failures);
    return r;
}

BrowserRuns run_browsers(const WebBenchOptions& options, const std::vector<std::string>& browsers) {
    BrowserRuns runs;
    for (const auto& b : browsers) {
        if (options.cancel != nullptr && options.cancel->load()) break;
        BrowserOutcome outcome = run_browser(options, b);
        PageResult page;
        if (outcome.ok) {
            try {
                page = parse_page_result(outcome.result_json);
            } catch (const Error& e) {
                outcome.ok = false;
                outcome.error = e.what();
            }
        }
        runs.outcomes.push_back(std::move(outcome));
        runs.pages.push_back(std::move(page));
    }
    return runs;
}

LlmFigures run_native(const WebBenchOptions& o) {
    const bench::TextGenerationFigures g = bench::measure_text_generation({.model = o.model,
                                                                          .n_threads = o.n_threads,
                                                                          .greedy_prompt = o.greedy_prompt,
                                                                          .greedy_n = o.greedy_n,
                                                                          .prompt = prompt_of_words(o.n_prompt),
                                                                          .n_gen = o.n_gen,
                                                                          .n_warmup = o.n_warmup,
                                                                          .reps = o.reps});
    return {.backend = "native",
            .ok = true,
            .load_ms = g.load_ms,
            .n_threads = g.n_threads,
            .multithread = g.n_threads > 1,
            .greedy_text = g.greedy_text,
            .n_prompt = g.n_prompt,
            .n_gen = g.n_gen,
            .pp_ts = g.pp_ts,
            .tg_ts = g.tg_ts,
            .placement = g.placement};
}

const LlmFigures* NativeBaselines::at(int32_t n_threads) const {
    if (at_default.n_threads == n_threads) return &at_default;
    for (const LlmFigures& f : at_threads) {
        if (f.n_threads == n_threads) return &f;
    }
    return nullptr;
}

std::vector<int32_t> browser_thread_counts(const std::vector<PageResult>& pages) {
    std::set<int32_t> counts;
    for (const PageResult& p : pages) {
        for (const LlmFigures& f : p.llm) {
            if (f.ok && f.n_threads > 0) counts.insert(f.n_threads);
        }
    }
    return {counts.begin(), counts.end()};
}

void add_equal_thread_baselines(const WebBenchOptions& options, const std::vector<PageResult>& pages,
                                NativeBaselines& baselines) {
    for (const int32_t n : browser_thread_counts(pages)) {
        if (options.cancel != nullptr && options.cancel->load()) return;
        if (baselines.at(n) != nullptr) continue;
        WebBenchOptions at_n = options;
        at_n.n_threads = n;
        baselines.at_threads.push_back(run_native(at_n));
    }
}

std::string store_results(const std::filesystem::path& db, const WebBenchOptions& o,
                          const std::vector<BrowserOutcome>& outcomes, const std::vector<PageResult>& pages,
                          const NativeBaselines& native) {
    store::ResultWriter writer =
        bench::begin_run({.db = db}, {.command = "web-bench", .tags = {"web"}}, bench::current_provenance());
    const std::string sha = sha256_file(o.model);
    std::error_code ec;
    const auto size = std::filesystem::file_size(o.model, ec);
    writer.add_model({.id = sha, .sha256 = sha, .path = o.model.string(), .name = o.model.filename().string(),
                      .size_bytes = ec ? std::optional<int64_t>() : static_cast<int64_t>(size)});

    std::vector<store::ResultRecord> results;
    auto add = [&](const LlmFigures& f, const std::string& platform, const json& extra_base) {
        for (const char* scenario : {"pp", "tg"}) {
            const bool pp = scenario[0] == 'p';
            const std::vector<double>& ts = pp ? f.pp_ts : f.tg_ts;
            json extra = extra_base;
            extra["platform"] = platform;
            extra["backend"] = f.backend;
            if (!f.backend_note.empty()) extra["backend_note"] = f.backend_note;
            if (!f.placement.empty()) extra["placement"] = f.placement;
            extra["load_ms"] = f.load_ms;
            extra["multithread"] = f.multithread;
            extra["tokens_per_s_samples"] = ts;
            store::ResultRecord r{.model_id = sha, .model_sha256 = sha, .model_name = o.model.filename().string(),
                                  .scenario = scenario, .device = platform == "web" ? f.backend : "cpu"};
            r.n_prompt = pp ? f.n_prompt : 0;
            r.n_gen = pp ? 0 : f.n_gen;
            r.n_threads = f.n_threads;
            r.n_gpu_layers = f.n_gpu_layers;
            r.avg_ts = mean(ts);
            r.stddev_ts = stddev(ts);
            r.extra_json = extra.dump();
            results.push_back(std::move(r));
        }
    };
    add(native.at_default, "native", json{{"baseline", "default"}});
    for (const LlmFigures& f : native.at_threads) add(f, "native", json{{"baseline", "equal_threads"}});
    std::vector<store::FailureRecord> failures;
    for (size_t i = 0; i < outcomes.size(); ++i) {
        const BrowserOutcome& b = outcomes[i];
        json params{{"platform", "web"}, {"browser", b.browser}, {"browser_version", b.version}};
        if (!b.ok || i >= pages.size()) {
            failures.push_back({.model_id = sha, .scenario = "llm", .device = b.browser, .stage = "browser",
                                .reason = b.error, .params_json = params.dump()});
            continue;
        }
        const PageResult& p = pages[i];
        json extra = params;
        extra["user_agent"] = p.user_agent;
        extra["page_browser_version"] = p.browser_version;
        extra["cross_origin_isolated"] = p.cross_origin_isolated;
        extra["wasm_simd"] = p.wasm_simd;
        extra["wasm_threads"] = p.wasm_threads;
        extra["memory"] = json::parse(p.memory_json, nullptr, false);
        for (const LlmFigures& f : p.llm) {
            if (!f.ok) {
                failures.push_back({.model_id = sha, .scenario = "llm", .device = f.backend, .stage = "run",
                                    .reason = f.error, .params_json = params.dump()});
                continue;
            }
            add(f, "web", extra);
        }
        // The WebGPU/WebNN microbenchmarks: the browser's roofline.
        const json gpu = json::parse(p.webgpu_json, nullptr, false);
        for (const json& m : gpu.value("matmul", json::array())) {
            if (!m.contains("gflops")) continue;
            json e = params;
            e["software_adapter"] = gpu.value("software_adapter", false);
            e["adapter"] = gpu.value("adapter", json::object());
            e["gflops"] = m["gflops"];
            e["type"] = m.value("type", "");
            e["n"] = m.value("n", 0);
            store::ResultRecord r{.model_id = "", .scenario = "matmul", .device = "webgpu"};
            r.valid = m.value("check", json::object()).value("ok", false);
            r.extra_json = e.dump();
            results.push_back(std::move(r));
        }
        const json nn = json::parse(p.webnn_json, nullptr, false);
        if (nn.contains("matmul") && nn["matmul"].contains("gflops")) {
            json e = params;
            e["gflops"] = nn["matmul"]["gflops"];
            e["type"] = "f32";
            store::ResultRecord r{.model_id = "", .scenario = "matmul", .device = "webnn"};
            r.valid = nn["matmul"].value("check", json::object()).value("ok", false);
            r.extra_json = e.dump();
            results.push_back(std::move(r));
        }
    }
    writer.add_results(std::move(results));
    if (!failures.empty()) writer.add_failures(std::move(failures));
    writer.finish(store::RunStatus::complete);
    return writer.run_id();
}

}  // namespace accel::web
