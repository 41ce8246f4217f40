#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel/web/web_bench.h"

namespace accel::web {

// One llm configuration measured in a browser (or natively, with backend "native").
//
// One token-counting rule on both sides, llama.cpp server's own (n_gen_steps): the first generated token comes from
// the prompt's logits, so generation tokens/s = (tokens generated - 1) / (time from the first sampled token to the
// last); prompt tokens/s = prompt tokens / (time from the start to the first sampled token).
struct LlmFigures {
    std::string backend;  // "wasm", "webgpu", "native"
    std::string backend_note{};  // "software adapter (SwiftShader: ...)" when WebGPU runs on the CPU
    int32_t n_gpu_layers = 0;
    bool ok = false;
    std::string error{};
    double load_ms = 0.0;
    int32_t n_threads = 0;
    bool multithread = false;
    std::string greedy_text{};
    int32_t n_prompt = 0, n_gen = 0;  // prompt tokens; tokens generated, the first one included (both sides)
    std::vector<double> pp_ts{}, tg_ts{};  // one per timed repetition, tokens/s
    std::vector<std::string> placement{};  // native: the pool's placement decision, one line per reason
    double pp_mean() const;
    double tg_mean() const;
};

// The page's document, with the fields accel compares pulled out. Throws Error{invalid_input} for a document
// that is not the page's JSON.
struct PageResult {
    std::string user_agent, browser_version;
    bool cross_origin_isolated = false, wasm_simd = false, wasm_threads = false;
    std::vector<LlmFigures> llm;
    std::string webgpu_json = "{}", webnn_json = "{}", memory_json = "\"unavailable\"", env_json = "{}";
    // A WebGPU or WebNN matmul whose result did not match the CPU's: "webgpu f32: max abs error 1 > 0".
    std::vector<std::string> check_failures;
};
PageResult parse_page_result(const std::string& json);

// Every browser's outcome and parsed page, in the order asked.
struct BrowserRuns {
    std::vector<BrowserOutcome> outcomes;
    std::vector<PageResult> pages;  // empty PageResult where the outcome failed
};

// Runs each browser in turn (run_browser) and parses the document it posted (parse_page_result): a document that
// does not parse makes that outcome failed, with the reason. Starts no further browser once options.cancel is set.
BrowserRuns run_browsers(const WebBenchOptions& options, const std::vector<std::string>& browsers);

// The same llm test natively through llama.cpp on the CPU, measured by bench (bench::measure_text_generation: the
// model loaded through a resource pool's lease): same prompt text, token counts, warm-up and reps, plus the greedy
// continuation of options.greedy_prompt, at options.n_threads (0: native's default). Throws Error from the pool or
// the engine.
LlmFigures run_native(const WebBenchOptions& options);

// The native figures a browser figure is compared with. wllama's default thread count (half the logical cores) is
// not native's (all of them), so a ratio against native's default would mostly measure the thread counts: each
// browser figure is compared with native measured at the browser's own thread count, and native's default is
// reported beside, separately.
struct NativeBaselines {
    LlmFigures at_default;               // native at options.n_threads (0: its own default)
    std::vector<LlmFigures> at_threads;  // one per other thread count a browser run used
    // The native figures measured at n_threads, nullptr when none was.
    const LlmFigures* at(int32_t n_threads) const;
};

// The distinct thread counts of the successful browser llm runs, ascending.
std::vector<int32_t> browser_thread_counts(const std::vector<PageResult>& pages);

// Adds to `baselines` a native run (run_native) at each browser thread count it does not hold yet.
void add_equal_thread_baselines(const WebBenchOptions& options, const std::vector<PageResult>& pages,
                                NativeBaselines& baselines);

// The prompt the page uses for pp (bench.js promptOfWords): the two must stay the same.
std::string prompt_of_words(int32_t n_words);

// Stores every browser's llm figures as results (platform "web", device = backend, browser and version in
// extra_json; each native baseline as platform "native" with extra.baseline "default" or "equal_threads"), failed
// runs as failures. Returns the run id. Throws Error{io}/Error{busy} as store::ResultWriter does.
std::string store_results(const std::filesystem::path& db, const WebBenchOptions& options,
                          const std::vector<BrowserOutcome>& outcomes, const std::vector<PageResult>& pages,
                          const NativeBaselines& native);

}  // namespace accel::web
