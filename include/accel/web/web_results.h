#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel/web/web_bench.h"

namespace accel::web {

// One llm configuration measured in a browser (or natively, with backend "native").
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
    int32_t n_prompt = 0, n_gen = 0;  // tokens the engine reported decoding (same tokenizer on both sides)
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
// continuation of options.greedy_prompt. Throws Error from the pool or the engine.
LlmFigures run_native(const WebBenchOptions& options);

// The prompt the page uses for pp (bench.js promptOfWords): the two must stay the same.
std::string prompt_of_words(int32_t n_words);

// Stores every browser's llm figures as results (platform "web", device = backend, browser and version in
// extra_json; the native figures as platform "native"), failed runs as failures. Returns the run id.
// Throws Error{io}/Error{busy} as store::ResultWriter does.
std::string store_results(const std::filesystem::path& db, const WebBenchOptions& options,
                          const std::vector<BrowserOutcome>& outcomes, const std::vector<PageResult>& pages,
                          const LlmFigures& native);

}  // namespace accel::web
