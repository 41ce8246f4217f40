// accel serve over HTTP: the real server on the real pool, driven with net::HttpClient. Greedy text equals
// `accel generate`'s, streaming concatenates to the same text, usage counts, embeddings equal `accel embed`'s,
// and the abuse set gets OpenAI-style errors with the right status.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/hw/device.h"
#include "accel/net/http_client.h"
#include "accel/net/sse.h"
#include "accel/pool/engine_loader.h"
#include "accel/pool/resource_pool.h"
#include "accel/pool/session_guard.h"
#include "accel/serve/server.h"
#include "raw_http.h"
#include "serve_fixture.h"
#include "test_support.h"

namespace {

using namespace accel;
using namespace accel::test_serve;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_F(Serve, GreedyCompletionEqualsGenerateAndStreamsTheSameText) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    start({stories});
    const std::string expected = generate_cli(stories, "Once upon a time", 40);
    ASSERT_EQ(expected.rfind(", there was a little girl named Lily", 0), 0u) << expected;

    const json req{{"model", "stories260K"}, {"prompt", "Once upon a time"}, {"max_tokens", 40}, {"temperature", 0}};
    const net::HttpResult r = post("/v1/completions", req);
    ASSERT_EQ(r.status, 200) << r.body << r.error;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_EQ(j["model"], "stories260K");
    EXPECT_EQ(j["choices"][0]["text"], expected);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["completion_tokens"], 40);
    // BOS + the prompt's tokens, counted by the model's tokenizer through the CLI's own path would be circular;
    // the prompt is 4 words of a 512-token vocabulary, so between 2 and 17 tokens, and the total adds up.
    EXPECT_GE(j["usage"]["prompt_tokens"].get<int>(), 2);
    EXPECT_LE(j["usage"]["prompt_tokens"].get<int>(), 17);
    EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
              j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());

    json sreq = req;
    sreq["stream"] = true;
    sreq["stream_options"] = {{"include_usage", true}};
    std::string raw;
    auto c = client();
    const auto events = stream_events(c, "/v1/completions", sreq, raw);
    ASSERT_GE(events.size(), 4u);
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_TRUE(raw.ends_with("data: [DONE]\n\n"));
    std::string text;
    for (size_t i = 0; i + 2 < events.size(); ++i) {
        const json chunk = json::parse(events[i]);
        EXPECT_EQ(chunk["id"], json::parse(events[0])["id"]);
        text += chunk["choices"][0]["text"].get<std::string>();
    }
    EXPECT_EQ(text, expected);
    const json last = json::parse(events[events.size() - 3]);
    EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
    const json usage = json::parse(events[events.size() - 2]);
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"], j["usage"]);
}

TEST_F(Serve, ChatUsesChatMLForAModelWithoutATemplate) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    start({stories});
    // llama.cpp's ChatML, written out by hand: the independent value.
    const std::string chatml = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nOnce upon a time<|im_end|>\n"
                               "<|im_start|>assistant\n";
    const std::string expected = generate_cli(stories, chatml, 20);
    const json req{{"model", "stories260K"},
                   {"messages", {{{"role", "system"}, {"content", "Be brief."}},
                                 {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "Once upon a time"}}}}}}},
                   {"max_tokens", 20},
                   {"temperature", 0}};
    const net::HttpResult r = post("/v1/chat/completions", req);
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["choices"][0]["message"]["content"], expected);

    json sreq = req;
    sreq["stream"] = true;
    std::string raw;
    auto c = client();
    const auto events = stream_events(c, "/v1/chat/completions", sreq, raw);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["role"], "assistant");
    std::string text;
    for (size_t i = 0; i + 2 < events.size(); ++i) {
        const json chunk = json::parse(events[i]);
        EXPECT_EQ(chunk["object"], "chat.completion.chunk");
        text += chunk["choices"][0]["delta"].value("content", "");
    }
    EXPECT_EQ(text, expected);
    EXPECT_EQ(json::parse(events[events.size() - 2])["choices"][0]["finish_reason"], "length");
}

TEST_F(Serve, EmbeddingsEqualAccelEmbedAndModelsAreListed) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const fs::path bert = test::synthetic_model("bert", "8M", "f16");
    start({stories, bert});
    const std::string bert_id = bert.stem().string();

    const json models = json::parse(client().get("/v1/models").body);
    EXPECT_EQ(models["object"], "list");
    ASSERT_EQ(models["data"].size(), 2u);
    EXPECT_EQ(models["data"][0]["id"], "stories260K");
    EXPECT_EQ(models["data"][1]["id"], bert_id);

    const auto cli = test::run_accel({"embed", "--model", bert.string(), "--text", "hello world", "--text", "a b c",
                                      "--normalize", "--json"});
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    const json expected = json::parse(cli.out)["embeddings"];

    const net::HttpResult r = post("/v1/embeddings", {{"model", bert_id}, {"input", {"hello world", "a b c"}}});
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    ASSERT_EQ(j["data"].size(), 2u);
    EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 2);
    for (size_t i = 0; i < 2; ++i) {
        const auto v = j["data"][i]["embedding"].get<std::vector<float>>();
        const auto e = expected[i].get<std::vector<float>>();
        ASSERT_EQ(v.size(), e.size());
        double norm = 0;
        for (size_t k = 0; k < v.size(); ++k) {
            EXPECT_NEAR(v[k], e[k], 1e-5);
            norm += double(v[k]) * v[k];
        }
        EXPECT_NEAR(norm, 1.0, 1e-4);
    }
    // base64: the same floats, little-endian.
    const json b = json::parse(
        post("/v1/embeddings", {{"model", bert_id}, {"input", "hello world"}, {"encoding_format", "base64"}}).body);
    const std::string enc = b["data"][0]["embedding"];
    std::string bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (char ch : enc) {
        const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        if (ch == '=') break;
        acc = (acc << 6) | static_cast<uint32_t>(std::strchr(abc, ch) - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    const auto first = j["data"][0]["embedding"].get<std::vector<float>>();
    ASSERT_EQ(bytes.size(), first.size() * 4);
    std::vector<float> decoded(first.size());
    std::memcpy(decoded.data(), bytes.data(), bytes.size());
    EXPECT_EQ(decoded, first);
}

int status_and_type(const net::HttpResult& r, std::string& type) {
    const json j = json::parse(r.body, nullptr, false);
    type = j.is_discarded() ? "not json: " + r.body : j["error"]["type"].get<std::string>();
    return r.status;
}

TEST_F(Serve, AbuseGetsOpenAIErrorsWithTheRightStatus) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    serve::ServeOptions o;
    o.limits.max_body_bytes = 4096;
    start({stories}, o);
    auto c = client();
    std::string type;
    const std::vector<std::pair<std::string, int>> bodies = {
        {"{not json", 400},
        {"[1,2]", 400},
        {R"({"prompt":"x"})", 400},                                        // no model
        {R"({"model":"stories260K","prompt":5})", 400},                    // wrong type
        {R"({"model":"stories260K","prompt":"x","max_tokens":"ten"})", 400},
        {R"({"model":"stories260K","prompt":"x","max_tokens":1e300})", 400},
        {R"({"model":"stories260K","prompt":"x","max_tokens":99999999999999999999})", 400},
        {R"({"model":"stories260K","prompt":"x","max_tokens":-1})", 400},
        {R"({"model":"stories260K","prompt":"x","temperature":"hot"})", 400},
        {R"({"model":"stories260K","prompt":"x","temperature":9})", 400},
        {R"({"model":"stories260K","prompt":"x","n":2})", 400},
        {R"({"model":"stories260K","prompt":"x","max_tokens":100000})", 400},  // past the context
        {R"({"model":"nope","prompt":"x"})", 404},
        {R"({"model":"../../etc/passwd","prompt":"x"})", 404},
        {R"({"model":"stories260K","prompt":"x","stream":"yes"})", 400},
    };
    for (const auto& [body, status] : bodies) {
        EXPECT_EQ(status_and_type(c.post("/v1/completions", body), type), status) << body;
        EXPECT_EQ(type, "invalid_request_error") << body;
    }
    EXPECT_EQ(status_and_type(c.post("/v1/chat/completions", R"({"model":"stories260K","messages":"hi"})"), type), 400);
    EXPECT_EQ(status_and_type(c.post("/v1/embeddings", R"({"model":"stories260K","input":[1]})"), type), 400);
    EXPECT_EQ(status_and_type(c.post("/v1/completions", std::string(5000, ' ')), type), 413);
    EXPECT_EQ(type, "invalid_request_error");
    EXPECT_EQ(status_and_type(c.get("/v1/completions"), type), 405);
    EXPECT_EQ(status_and_type(c.get("/v2/anything"), type), 404);
    // The server still answers.
    EXPECT_EQ(c.get("/health").status, 200);
    EXPECT_EQ(c.post("/v1/completions", R"({"model":"stories260K","prompt":"x","max_tokens":2,"temperature":0})").status,
              200);
}

TEST_F(Serve, ApiKeyIsRequiredAndNonLoopbackWithoutOneIsRefused) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    serve::ServeOptions o;
    o.api_key = "0123456789abcdef-key";
    start({stories}, o);
    std::string type;
    EXPECT_EQ(status_and_type(client().get("/v1/models"), type), 401);
    EXPECT_EQ(type, "authentication_error");
    EXPECT_EQ(client({{"Authorization", "Bearer wrong"}}).get("/v1/models").status, 401);
    EXPECT_EQ(client({{"Authorization", "Bearer 0123456789abcdef-ke"}}).get("/v1/models").status, 401);
    EXPECT_EQ(client({{"Authorization", "0123456789abcdef-key"}}).get("/v1/models").status, 401);
    EXPECT_EQ(client({{"Authorization", "Bearer 0123456789abcdef-key"}}).get("/v1/models").status, 200);
    EXPECT_EQ(client().get("/health").status, 200);

    EXPECT_THROW(serve::Server(serve::ServeOptions{.host = "0.0.0.0", .port = 0}, serve::ModelCatalog::scan({stories}),
                               pool, cpu_request),
                 Error);
    // The CLI refuses it at start with the usage exit code.
    const auto r = test::run_accel({"serve", "--host", "0.0.0.0", "--port", "0", "--models", stories.string()}, {}, 30);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("API key"), std::string::npos) << r.err;
    // Only models under --models: a folder with nothing to serve is refused too.
    test::TempDir empty;
    EXPECT_THROW(serve::ModelCatalog::scan({empty.path()}), Error);
}

TEST_F(Serve, AFullQueueGets503WithRetryAfter) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    serve::ServeOptions o;
    o.max_queue = 1;
    start({stories}, o);
    // Hold the model's session, as a running request would: the server's next request waits for it.
    pool::Lease held = pool.acquire(cpu_request(stories, {.n_ctx = o.n_ctx}));
    auto guard = std::make_unique<pool::SessionGuard>(held.session());
    net::HttpResult first;
    std::thread waiting([&] {
        first = client().post("/v1/completions", R"({"model":"stories260K","prompt":"x","max_tokens":2,"temperature":0})");
    });
    for (int i = 0; i < 1000; ++i) {
        if (client().get("/metrics").body.find("accel_serve_requests_in_flight 1") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const net::HttpResult busy = client().post("/v1/completions", R"({"model":"stories260K","prompt":"x"})");
    EXPECT_EQ(busy.status, 503) << busy.body;
    ASSERT_NE(busy.header("retry-after"), nullptr);
    EXPECT_NE(busy.body.find("queue_full"), std::string::npos);
    guard.reset();
    waiting.join();
    EXPECT_EQ(first.status, 200) << first.body;
    EXPECT_NE(client().get("/metrics").body.find("accel_serve_rejected_total 1"), std::string::npos);
}

TEST_F(Serve, StopEndsAStreamPromptly) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    start({stories});
    std::atomic<int> pieces{0};
    std::thread reader([&] {
        auto c = client();
        c.post_streaming("/v1/completions",
                         R"({"model":"stories260K","prompt":"Once","max_tokens":1900,"temperature":0,"stream":true})",
                         [&](std::string_view) {
                             ++pieces;
                             std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a slow reader
                             return true;
                         });
    });
    for (int i = 0; i < 3000 && pieces.load() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto t0 = std::chrono::steady_clock::now();
    server->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
    reader.join();
    EXPECT_GE(pieces.load(), 3);
}

TEST_F(Serve, ConcurrentStreamsEachGetTheSingleStreamText) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    serve::ServeOptions o;
    o.max_queue = 8;  // all 8 admitted; one more would get 503
    start({stories}, o);
    const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily and Tom", "One day"};
    std::vector<std::string> single;
    for (const auto& p : prompts) {
        const net::HttpResult r =
            post("/v1/completions", {{"model", "stories260K"}, {"prompt", p}, {"max_tokens", 16}, {"temperature", 0}});
        ASSERT_EQ(r.status, 200) << r.body;
        single.push_back(json::parse(r.body)["choices"][0]["text"]);
    }
    // Two streams per prompt at once: requests to one model take turns, and no stream sees another's tokens.
    std::vector<std::string> got(prompts.size() * 2);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i) {
        threads.emplace_back([&, i] {
            auto c = client();
            std::string raw;
            const json req{{"model", "stories260K"}, {"prompt", prompts[i % prompts.size()]}, {"max_tokens", 16},
                           {"temperature", 0}, {"stream", true}};
            for (const auto& e : stream_events(c, "/v1/completions", req, raw)) {
                if (e == "[DONE]") break;
                got[i] += json::parse(e)["choices"][0]["text"].get<std::string>();
            }
        });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], single[i % prompts.size()]) << "stream " << i;
}

TEST_F(Serve, ADisconnectedStreamFreesTheModelAndABadFileIsA500) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const std::string bytes = test::read_file(stories);
    test::write_file(dir / "broken.gguf", bytes.substr(0, bytes.size() / 2));
    start({stories, dir / "broken.gguf"});
    {
        auto c = client();
        int pieces = 0;
        c.post_streaming("/v1/completions",
                         R"({"model":"stories260K","prompt":"Once","max_tokens":1900,"temperature":0,"stream":true})",
                         [&](std::string_view) { return ++pieces < 3; });  // the client hangs up after 3 pieces
    }
    {
        // A non-streaming client that gives up after 300 ms.
        net::HttpClient c("127.0.0.1", server->port(), {.read_timeout = std::chrono::milliseconds(300)});
        EXPECT_EQ(c.post("/v1/completions", R"({"model":"stories260K","prompt":"Once","max_tokens":1900,"temperature":0})")
                      .status,
                  0);
    }
    // Each abandoned generation stops at its next token, so the model is free again at once (not after 1900 tokens).
    const auto t0 = std::chrono::steady_clock::now();
    const net::HttpResult next =
        post("/v1/completions", {{"model", "stories260K"}, {"prompt", "x"}, {"max_tokens", 2}, {"temperature", 0}});
    EXPECT_EQ(next.status, 200) << next.body;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    std::string type;
    const net::HttpResult broken = post("/v1/completions", {{"model", "broken"}, {"prompt", "x"}});
    EXPECT_EQ(status_and_type(broken, type), 500) << broken.body;
    EXPECT_EQ(type, "server_error");
    EXPECT_NE(broken.body.find("model_load_failed"), std::string::npos);
    EXPECT_EQ(post("/v1/completions", {{"model", "stories260K"}, {"prompt", "x"}, {"max_tokens", 2}}).status, 200);
}

TEST(ServeCli, SigtermDuringAStreamStopsTheServerCleanly) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const char* bin = std::getenv("ACCEL_BIN");
    ASSERT_NE(bin, nullptr);
    const uint16_t port = accel::test::free_port();
    const std::vector<std::string> args = {bin, "serve", "--port", std::to_string(port), "--models", stories.string()};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(::posix_spawn(&pid, bin, nullptr, nullptr, argv.data(), environ), 0);
    net::HttpClient c("127.0.0.1", port, {.connect_timeout = std::chrono::milliseconds(200)});
    for (int i = 0; i < 300 && c.get("/health").status != 200; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(c.get("/health").status, 200);
    std::atomic<int> pieces{0};
    std::thread reader([&] {
        net::HttpClient s("127.0.0.1", port);
        s.post_streaming("/v1/completions",
                         R"({"model":"stories260K","prompt":"Once","max_tokens":1900,"temperature":0,"stream":true})",
                         [&](std::string_view) {
                             ++pieces;
                             std::this_thread::sleep_for(std::chrono::milliseconds(5));
                             return true;
                         });
    });
    for (int i = 0; i < 3000 && pieces.load() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ::kill(pid, SIGTERM);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 200 && done == 0; ++i) {
        done = ::waitpid(pid, &status, WNOHANG);
        if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (done == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "accel serve did not stop within 10 s of SIGTERM";
    }
    reader.join();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    EXPECT_GE(pieces.load(), 3);
    EXPECT_LT(test::connect_to(port), 0) << "still listening";
}

}  // namespace
