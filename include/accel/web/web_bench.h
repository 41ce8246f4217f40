#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::web {

// What one browser run asks the page to do. The llm figures follow the native llm scenario: n_prompt/n_gen tokens,
// n_warmup untimed runs, then reps timed ones. n_gpu_layers is a sweep: 0 is wllama's WASM CPU path, > 0 its
// WebGPU backend.
struct WebBenchOptions {
    std::filesystem::path model;
    std::vector<int32_t> n_gpu_layers{0};
    int32_t n_prompt = 64;
    int32_t n_gen = 16;
    int32_t reps = 3;
    int32_t n_warmup = 1;
    int32_t n_threads = 0;  // 0: wllama's default (half of navigator.hardwareConcurrency)
    std::string greedy_prompt = "Once upon a time";
    int32_t greedy_n = 48;
    bool webgpu = true;  // enable and probe WebGPU (Chromium: SwiftShader flags)
    bool webnn = true;   // enable and probe WebNN
    bool llm = true;     // false: probes only
    std::chrono::seconds timeout{180};
    std::filesystem::path page_dir{};    // empty: web_page_dir()
    std::filesystem::path wllama_dir{};  // empty: wllama_dir()
    std::string extra_query{};           // appended to the page URL (test hooks: "hang=1", "corrupt=1")
    // Whisper (`model` is a whisper.cpp file): the page runs whisper.cpp's WebAssembly build (whisper.js) on these
    // samples instead of wllama. audio_f32: a file named audio.f32 of 16 kHz mono float samples (host order);
    // whisper_dir: empty for whisper_wasm_dir(); max_tokens: the cap per segment, the same in every browser.
    std::filesystem::path audio_f32{};
    std::filesystem::path whisper_dir{};
    int32_t max_tokens = 64;
    const std::atomic<bool>* cancel = nullptr;  // set (e.g. by SIGINT) to stop waiting; the browser is cleaned up
};

struct BrowserOutcome {
    std::string browser;         // "chromium", "firefox"
    std::string exe;
    std::string version;         // `<exe> --version`, "" if unavailable
    std::vector<std::string> argv;  // the command line used (without the token)
    bool ok = false;             // the page posted a result document
    std::string error;           // why not: "timed out after 180 s", "browser exited (exit status 1) ..."
    std::string result_json;     // the page's document, as posted
    double wall_s = 0.0;
};

// The page folder: $ACCEL_WEB_PAGE_DIR, else the source tree's src/web/page (build tree), else
// <prefix>/share/accel/web/page. Throws Error{io} when none holds bench.js.
std::filesystem::path web_page_dir();
// The extracted @wllama/wllama package: $ACCEL_WLLAMA_DIR, else the one the bootstrap made (recorded at configure
// time), else <prefix>/share/accel/web/wllama. Throws Error{io} naming scripts/bootstrap.sh when absent.
std::filesystem::path wllama_dir();

// whisper.cpp's WebAssembly build (scripts/bootstrap.sh --whisper-wasm): $ACCEL_WHISPER_WASM_DIR, else the one the
// bootstrap made (recorded at configure time), else <prefix>/share/accel/web/whisper. Throws Error{io} naming the bootstrap flag when absent.
std::filesystem::path whisper_wasm_dir();

// Finds `name` ("chromium", "firefox") on PATH. Empty path when absent.
std::filesystem::path find_browser(const std::string& name);

// Serves the page, wllama and the model on 127.0.0.1, launches `browser` headless on it, waits for the posted
// result, the browser's exit, the timeout or `cancel`, and always removes the browser and its profile.
// Throws Error{invalid_input} for an unknown browser or missing model, Error{io} when the server cannot start.
// A browser that fails or hangs is an outcome with ok=false and the reason, not an exception.
BrowserOutcome run_browser(const WebBenchOptions& options, const std::string& browser);

}  // namespace accel::web
