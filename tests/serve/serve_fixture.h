#pragma once
// The serve tests' shared fixture: a real server on a real pool (CPU), clients, and the reference texts.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/hw/device.h"
#include "accel/net/http_client.h"
#include "accel/net/sse.h"
#include "accel/pool/engine_loader.h"
#include "accel/pool/resource_pool.h"
#include "accel/serve/server.h"
#include "test_support.h"

namespace accel::test_serve {

using nlohmann::json;
namespace fs = std::filesystem;

inline pool::Request cpu_request(const fs::path& model, const pool::LoadOptions& options) {
    return {.model = model, .devices = {"cpu"}, .options = options};
}

struct Serve : ::testing::Test {
    std::vector<hw::Device> devices = hw::ggml_devices();
    pool::EngineLoader loader{devices};
    pool::SystemMonitor monitor{devices};
    pool::ResourcePool pool{pool::PoolConfig{}, loader, monitor};
    std::unique_ptr<serve::Server> server;

    void start(const std::vector<fs::path>& models, serve::ServeOptions o = {}) {
        o.port = 0;
        // One thread per request: on a loaded 2-core machine, two threads that spin at each barrier are slow.
        // (accel generate runs with its default threads; the equality checks show the text does not depend on it.)
        o.n_threads = 1;
        server = std::make_unique<serve::Server>(o, serve::ModelCatalog::scan(models), pool, cpu_request);
    }
    // Options for --parallel n and --max-queue q.
    static serve::ServeOptions parallel(int32_t n, int32_t max_queue = 8) {
        serve::ServeOptions o;
        o.parallel = n;
        o.max_queue = max_queue;
        return o;
    }
    net::HttpClient client(net::HeaderList headers = {}) {
        return net::HttpClient("127.0.0.1", server->port(),
                               {.read_timeout = std::chrono::seconds(240), .default_headers = std::move(headers)});
    }
    net::HttpResult post(const std::string& path, const json& body) { return client().post(path, body.dump()); }
};

// What `accel generate` prints for the prompt (greedy), without its final newline.
inline std::string generate_cli(const fs::path& model, const std::string& prompt, int n) {
    const auto r = test::run_accel({"generate", "--model", model.string(), "--prompt", prompt, "-n", std::to_string(n)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string out = r.out;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

// The data of each event of a streamed answer, and its raw text.
inline std::vector<std::string> stream_events(net::HttpClient& c, const std::string& path, const json& body, std::string& raw) {
    net::SseParser parser;
    const net::HttpResult r = c.post_streaming(path, body.dump(), [&](std::string_view d) {
        raw += d;
        parser.feed(d);
        return true;
    });
    EXPECT_EQ(r.status, 200) << r.error;
    const std::string* type = r.header("content-type");
    EXPECT_TRUE(type != nullptr && *type == "text/event-stream") << (type ? *type : "no content-type");
    return parser.take_events();
}

}  // namespace accel::test_serve
