#include "accel/web/web_bench.h"

#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/hw/browser.h"
#include "accel/web/browser_process.h"
#include "accel/web/http_server.h"

namespace accel::web {
namespace fs = std::filesystem;

namespace {

fs::path exe_dir() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : self.parent_path();
}

fs::path first_existing(const std::vector<fs::path>& candidates, const std::string& marker) {
    for (const auto& c : candidates) {
        std::error_code ec;
        if (!c.empty() && fs::exists(c / marker, ec)) return c;
    }
    return {};
}

std::string join_ints(const std::vector<int32_t>& v) {
    return fmt::format("{}", fmt::join(v, ","));
}

std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

// The first folder holding `marker` of: $env, the one recorded at configure time (build_dir, may be null),
// <prefix>/share/accel/web/<installed>. Throws Error{io} with `missing` when none does.
fs::path find_asset(const char* env, const char* build_dir, const char* installed, const char* marker,
                    const std::string& missing) {
    std::vector<fs::path> c;
    if (const char* e = std::getenv(env)) c.emplace_back(e);
    if (build_dir != nullptr) c.emplace_back(build_dir);
    c.push_back(exe_dir() / "../share/accel/web" / installed);
    fs::path p = first_existing(c, marker);
    if (p.empty()) throw Error(ErrorKind::io, "web: " + missing);
    return p;
}

}  // namespace

fs::path web_page_dir() {
#ifdef ACCEL_WEB_PAGE_SOURCE_DIR
    const char* build_dir = ACCEL_WEB_PAGE_SOURCE_DIR;
#else
    const char* build_dir = nullptr;
#endif
    return find_asset("ACCEL_WEB_PAGE_DIR", build_dir, "page", "bench.js",
                      "the benchmark page (bench.js) is missing; set ACCEL_WEB_PAGE_DIR");
}

fs::path wllama_dir() {
#ifdef ACCEL_WLLAMA_BUILD_DIR
    const char* build_dir = ACCEL_WLLAMA_BUILD_DIR;
#else
    const char* build_dir = nullptr;
#endif
    return find_asset("ACCEL_WLLAMA_DIR", build_dir, "wllama", "esm/wasm/wllama.wasm",
                      "the pinned @wllama/wllama package is missing; run scripts/bootstrap.sh (or set "
                      "ACCEL_WLLAMA_DIR)");
}

fs::path whisper_wasm_dir() {
#ifdef ACCEL_WHISPER_WASM_BUILD_DIR
    const char* build_dir = ACCEL_WHISPER_WASM_BUILD_DIR;
#else
    const char* build_dir = nullptr;
#endif
    return find_asset("ACCEL_WHISPER_WASM_DIR", build_dir, "whisper", "whisper.wasm",
                      "whisper.cpp's WebAssembly build is missing; run scripts/bootstrap.sh --whisper-wasm (or set "
                      "ACCEL_WHISPER_WASM_DIR)");
}

fs::path find_browser(const std::string& name) {
    std::vector<std::string> names;
    if (name == "chromium") names = {"chromium", "chromium-browser"};
    else if (name == "firefox") names = {"firefox-esr", "firefox"};
    else return {};
    const char* path = std::getenv("PATH");
    if (!path) return {};
    std::string_view rest(path);
    while (!rest.empty()) {
        const size_t colon = rest.find(':');
        const fs::path dir(std::string(rest.substr(0, colon)));
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        for (const auto& n : names) {
            const fs::path p = dir / n;
            if (::access(p.c_str(), X_OK) == 0) return p;
        }
    }
    return {};
}

BrowserOutcome run_browser(const WebBenchOptions& o, const std::string& browser) {
    if (browser != "chromium" && browser != "firefox")
        throw Error(ErrorKind::invalid_input, fmt::format("--browser: unknown browser '{}' (chromium, firefox)", browser));
    std::error_code ec;
    if (!fs::is_regular_file(o.model, ec))
        throw Error(ErrorKind::invalid_input, fmt::format("--model: {} is not a readable file", o.model.string()));
    BrowserOutcome out{.browser = browser};
    const fs::path exe = find_browser(browser);
    if (exe.empty()) {
        out.error = fmt::format("{} is not installed (not on PATH); scripts/bootstrap.sh installs it", browser);
        return out;
    }
    out.exe = exe.string();
    for (const auto& b : hw::find_browsers(std::chrono::milliseconds(10000))) {
        if (b.path == out.exe) out.version = b.version;
    }

    const std::string token = make_token();
    const bool whisper = !o.audio_f32.empty();
    std::map<std::string, fs::path> mounts{{"/page/", o.page_dir.empty() ? web_page_dir() : o.page_dir}};
    if (whisper) {
        mounts.emplace("/whisper/", o.whisper_dir.empty() ? whisper_wasm_dir() : o.whisper_dir);
        mounts.emplace("/audio/", o.audio_f32.parent_path());
    } else {
        mounts.emplace("/wllama/", o.wllama_dir.empty() ? wllama_dir() : o.wllama_dir);
    }
    HttpServer server(ServerOptions{
        .token = token, .mounts = mounts, .model_file = o.model, .limits = {.max_body_bytes = 4 * 1024 * 1024}});
    std::string query = fmt::format("p={}&n={}&r={}&warmup={}&t={}&ngl={}&greedy_n={}&greedy_prompt={}&gpu={}&nn={}&llm={}",
                                    o.n_prompt, o.n_gen, o.reps, o.n_warmup, o.n_threads, join_ints(o.n_gpu_layers),
                                    o.greedy_n, url_encode(o.greedy_prompt), o.webgpu ? 1 : 0, o.webnn ? 1 : 0,
                                    o.llm ? 1 : 0);
    if (whisper) query += fmt::format("&task=whisper&max_tokens={}", o.max_tokens);
    if (!o.extra_query.empty()) query += "&" + o.extra_query;
    // Test hooks for the CLI (tests/web): e.g. hang=1 makes the page never post.
    if (const char* q = std::getenv("ACCEL_WEB_PAGE_QUERY"); q && *q) query += fmt::format("&{}", q);
    const std::string url = fmt::format("{}/page/index.html?{}&token=", server.origin(), query);

    BrowserSpec spec{.name = browser, .exe = exe};
    if (browser == "chromium") {
        std::vector<std::string> features;
        if (o.webgpu) {
            // SwiftShader: Vulkan on the CPU, the only WebGPU adapter a GPU-less headless machine has.
            spec.extra_args.insert(spec.extra_args.end(), {"--enable-unsafe-webgpu", "--use-vulkan=swiftshader",
                                                           "--use-webgpu-adapter=swiftshader"});
            features.emplace_back("Vulkan");
        }
        if (o.webnn) features.emplace_back("WebMachineLearningNeuralNetwork");
        // Chromium honours only the last --enable-features, so they go in one flag.
        if (!features.empty()) spec.extra_args.push_back(fmt::format("--enable-features={}", fmt::join(features, ",")));
    }
    out.argv = browser_argv(spec, "<profile>", url + "<token>");

    const auto t0 = std::chrono::steady_clock::now();
    BrowserProcess proc = BrowserProcess::launch(spec, url + token);
    const auto deadline = t0 + o.timeout;
    for (;;) {
        if (auto msg = server.wait_message(std::chrono::milliseconds(200))) {
            out.ok = true;
            out.result_json = std::move(msg->body);
            break;
        }
        if (o.cancel && o.cancel->load()) {
            out.error = "interrupted";
            break;
        }
        if (!proc.running()) {
            // A last look: the result may have arrived just as the browser ended.
            if (auto msg = server.wait_message(std::chrono::milliseconds(500))) {
                out.ok = true;
                out.result_json = std::move(msg->body);
                break;
            }
            std::string tail = proc.stderr_tail(600);
            for (char& c : tail) {
                if (c == '\n') c = ' ';
            }
            out.error = fmt::format("{} exited ({}) before the page posted a result: {}", browser,
                                    proc.exit_description(), tail);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            out.error = fmt::format("timed out after {} s waiting for the page's result; {} was killed", o.timeout.count(),
                                    browser);
            break;
        }
    }
    proc.kill();
    server.stop();
    out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

}  // namespace accel::web
