#pragma once
// A fake OpenAI-compatible streaming server with known latencies, for accel bench --target's tests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "accel/net/http_server.h"
#include "accel/net/sse.h"

namespace accel::test {

// The fake server: after ttft it streams n_chunks pieces of content gap apart (max_tokens of them when the
// request asks for fewer), after an immediate role-only chunk with empty content (which is not a first token).
struct FakeConfig {
    std::chrono::milliseconds ttft{40};
    std::chrono::milliseconds gap{10};
    int32_t n_chunks = 5;
    bool usage = true;
    bool serial = false;              // one request at a time (a server with one slot)
    bool diverge_when_busy = false;   // answers differ while another request is in flight (for --verify)
    std::chrono::milliseconds keep_alive_idle{5000};  // 0: one request per connection
};

class FakeServer {
public:
    explicit FakeServer(FakeConfig c) : c_(c), server_(options(c), [this](const accel::net::HttpRequest& r) {
                                                          return handle(r);
                                                      }) {}
    std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
    int requests() const { return n_requests_.load(); }
    int64_t connections() const { return server_.n_accepted_connections(); }
    // The completion texts sent so far, in the order the answers finished.
    std::vector<std::string> texts() {
        std::lock_guard lock(texts_mu_);
        return texts_;
    }
    // The prompts received so far (chat requests: the whole body), in arrival order.
    std::vector<std::string> prompts() {
        std::lock_guard lock(texts_mu_);
        return prompts_;
    }

private:
    static accel::net::HttpServerOptions options(const FakeConfig& c) {
        accel::net::HttpServerOptions o;
        o.limits.max_connections = 64;
        o.limits.keep_alive_idle = c.keep_alive_idle;
        o.default_headers = {{"Server", "fake-openai/1.0"}};
        return o;
    }
    accel::net::HttpResponse handle(const accel::net::HttpRequest& r) {
        using json = nlohmann::json;
        if (r.path == "/v1/models") {
            return {.content_type = "application/json", .body = R"({"object":"list","data":[{"id":"fake"}]})"};
        }
        if (r.path == "/metrics") {
            return {.body = "# TYPE fake_requests_total counter\nfake_requests_total{model=\"fake\"} " +
                            std::to_string(n_requests_.load()) + "\nfake_up 1\n"};
        }
        const json body = json::parse(r.body);
        const int32_t n = std::min(c_.n_chunks, body.value("max_tokens", c_.n_chunks));
        const std::string prompt = body.contains("prompt") ? body["prompt"].get<std::string>() : body.dump();
        ++n_requests_;
        {
            std::lock_guard lock(texts_mu_);
            prompts_.push_back(prompt);
        }
        accel::net::HttpResponse res{.content_type = "text/event-stream"};
        res.stream = [this, n, prompt](accel::net::StreamSink& sink) {
            std::unique_lock serial(mu_, std::defer_lock);
            if (c_.serial) serial.lock();
            const int busy = ++in_flight_;
            sink.write(accel::net::sse_event(R"({"choices":[{"index":0,"text":""}]})"));
            std::this_thread::sleep_for(c_.ttft);
            std::string text;
            for (int32_t i = 0; i < n; ++i) {
                if (i > 0) std::this_thread::sleep_for(c_.gap);
                std::string piece = prompt.substr(i % prompt.size(), 1);
                if (c_.diverge_when_busy && (busy > 1 || in_flight_.load() > 1)) piece = "#";
                text += piece;
                sink.write(accel::net::sse_event(json{{"choices", {{{"index", 0}, {"text", piece}}}}}.dump()));
            }
            {
                std::lock_guard lock(texts_mu_);
                texts_.push_back(text);
            }
            if (c_.usage) {
                const json usage = {{"prompt_tokens", 7}, {"completion_tokens", n}};
                sink.write(accel::net::sse_event(json{{"choices", json::array()}, {"usage", usage}}.dump()));
            }
            sink.write(accel::net::sse_event("[DONE]"));
            --in_flight_;
        };
        return res;
    }

    FakeConfig c_;
    std::mutex mu_;
    std::mutex texts_mu_;
    std::vector<std::string> texts_;
    std::vector<std::string> prompts_;
    std::atomic<int> in_flight_{0};
    std::atomic<int> n_requests_{0};
    accel::net::HttpServer server_;
};

}  // namespace accel::test
