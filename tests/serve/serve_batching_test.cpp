// accel serve --parallel: continuous batching over llama.cpp sequences (each stream's greedy text equals the
// single-stream text of `accel generate`, with and without a reused prompt prefix), a disconnect freeing its sequence
// at once, the host-memory prompt cache (--cache-ram) restoring a prompt's cells, /metrics' histograms counting the
// requests made, /api/ps, load/unload/pin, per-request keep_alive and the placement headers.
#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "serve_fixture.h"

namespace {

using namespace accel;
using namespace accel::test_serve;
using nlohmann::json;
namespace fs = std::filesystem;

// Prometheus text as "name{labels}" -> value (labels as written by the server, in its order).
std::map<std::string, double> parse_metrics(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        if (space == std::string::npos) {
            ADD_FAILURE() << "bad metrics line: " << line;
            continue;
        }
        const std::string value = line.substr(space + 1);
        out[line.substr(0, space)] = value == "+Inf" ? 1e300 : std::stod(value);
    }
    return out;
}

double metric(const std::map<std::string, double>& m, const std::string& key) {
    const auto it = m.find(key);
    if (it == m.end()) {
        ADD_FAILURE() << "no metric " << key;
        return -1;
    }
    return it->second;
}

const std::string kLabels = R"({model="stories260K",device="cpu"})";

json completion(const std::string& prompt, int n, bool stream = false) {
    json j{{"model", "stories260K"}, {"prompt", prompt}, {"max_tokens", n}, {"temperature", 0}};
    if (stream) j["stream"] = true;
    return j;
}

// The text of a streamed completion.
std::string stream_text(net::HttpClient& c, const json& req) {
    std::string raw, text;
    for (const auto& e : stream_events(c, "/v1/completions", req, raw)) {
        if (e == "[DONE]") break;
        text += json::parse(e)["choices"][0]["text"].get<std::string>();
    }
    return text;
}

TEST_F(Serve, ParallelStreamsEachEqualTheSingleStreamText) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const serve::ServeOptions o = parallel(4, 8);
    start({stories}, o);
    const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily and Tom", "One day"};
    std::vector<std::string> single;
    for (const auto& p : prompts) single.push_back(generate_cli(stories, p, 48));  // the independent reference

    // Eight streams at once, two per prompt: up to four decode together, the others queue for a sequence.
    std::vector<std::string> got(prompts.size() * 2);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i) {
        threads.emplace_back([&, i] {
            auto c = client();
            got[i] = stream_text(c, completion(prompts[i % prompts.size()], 48, true));
        });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], single[i % prompts.size()]) << "stream " << i;

    const auto m = parse_metrics(client().get("/metrics").body);
    EXPECT_GE(metric(m, "accel_serve_sequences_busy_peak" + kLabels), 2) << "the streams never overlapped";
    EXPECT_LE(metric(m, "accel_serve_sequences_busy_peak" + kLabels), 4);
    EXPECT_EQ(metric(m, "accel_serve_sequences_busy" + kLabels), 0);
    EXPECT_EQ(metric(m, "accel_serve_sequences_free" + kLabels), 4);

    // Prefix reuse: the same prompt again starts on its cached prefix, and a longer prompt on the shorter one's;
    // both give exactly the single-stream text. The prefix comes from a sequence's cells or, when the eight streams
    // left it in none of the four, from the host-memory cache (--cache-ram, on by default): the two counters together.
    const auto reused = [](const auto& metrics, const std::string& what) {
        return metric(metrics, "accel_serve_prefix_cache_" + what + kLabels) +
               metric(metrics, "accel_serve_prompt_cache_" + what + kLabels);
    };
    const double tokens_before = reused(m, "tokens_total");
    const double hits_before = reused(m, "hits_total");
    const std::string longer = prompts[0] + " there was a little";
    for (const std::string& p : {prompts[0], longer}) {
        const net::HttpResult r = post("/v1/completions", completion(p, 24));
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(json::parse(r.body)["choices"][0]["text"], generate_cli(stories, p, 24)) << p;
    }
    const auto m2 = parse_metrics(client().get("/metrics").body);
    EXPECT_GE(reused(m2, "hits_total") - hits_before, 2);
    // "Once upon a time" is at least 3 tokens after BOS; its second run reuses all but its last token.
    EXPECT_GE(reused(m2, "tokens_total") - tokens_before, 6);
    EXPECT_GT(metric(m2, "accel_serve_kv_cells_used" + kLabels), 0) << "finished sequences keep their cells";
}

// --cache-ram: with one sequence, A then B then A again. B's prompt overwrites A's cells, which are saved to host
// memory first; the second A restores them and decodes only its last prompt token, and its greedy text is exactly the
// first one's (and accel generate's): the restored cells are A's, not merely counted.
TEST_F(Serve, HostPromptCacheRestoresAPromptAnotherOneEvicted) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    start({stories}, parallel(1));
    const std::string a = "Once upon a time there was a little girl named Lily";
    const std::string b = "The dog ran to the park";
    std::vector<std::string> texts;
    int a_prompt_tokens = 0;
    for (const std::string& p : {a, b, a}) {
        const net::HttpResult r = post("/v1/completions", completion(p, 24));
        ASSERT_EQ(r.status, 200) << r.body;
        const json j = json::parse(r.body);
        texts.push_back(j["choices"][0]["text"].get<std::string>());
        if (p == a) a_prompt_tokens = j["usage"]["prompt_tokens"].get<int>();
    }
    EXPECT_EQ(texts[2], texts[0]);
    EXPECT_EQ(texts[0], generate_cli(stories, a, 24));
    EXPECT_NE(texts[1], texts[0]);
    const auto m = parse_metrics(client().get("/metrics").body);
    EXPECT_EQ(metric(m, "accel_serve_prompt_cache_hits_total" + kLabels), 1);
    EXPECT_EQ(metric(m, "accel_serve_prompt_cache_tokens_total" + kLabels), a_prompt_tokens - 1);
    EXPECT_EQ(metric(m, "accel_serve_prompt_cache_entries" + kLabels), 2);  // A's state and B's
    EXPECT_GT(metric(m, "accel_serve_prompt_cache_bytes" + kLabels), 0);
}

TEST_F(Serve, HostPromptCacheIsOffWithCacheRamZero) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    serve::ServeOptions o = parallel(1);
    o.cache_ram_mib = 0;
    start({stories}, o);
    const std::string a = "Once upon a time there was a little girl named Lily";
    std::vector<std::string> texts;
    for (const std::string& p : {a, std::string("The dog ran to the park"), a}) {
        const net::HttpResult r = post("/v1/completions", completion(p, 24));
        ASSERT_EQ(r.status, 200) << r.body;
        texts.push_back(json::parse(r.body)["choices"][0]["text"].get<std::string>());
    }
    EXPECT_EQ(texts[2], texts[0]);
    const auto m = parse_metrics(client().get("/metrics").body);
    EXPECT_EQ(metric(m, "accel_serve_prompt_cache_hits_total" + kLabels), 0);
    EXPECT_EQ(metric(m, "accel_serve_prompt_cache_tokens_total" + kLabels), 0);
    EXPECT_EQ(metric(m, "accel_serve_prompt_cache_entries" + kLabels), 0);
    EXPECT_EQ(metric(m, "accel_serve_prompt_cache_bytes" + kLabels), 0);
}

TEST_F(Serve, ADisconnectFreesItsSequenceAtOnce) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const serve::ServeOptions o = parallel(2);
    start({stories}, o);
    {
        auto c = client();
        int pieces = 0;
        c.post_streaming("/v1/completions", completion("Once", 1900, true).dump(),
                         [&](std::string_view) { return ++pieces < 3; });  // the client hangs up after 3 pieces
    }
    // 1900 tokens would take seconds; the sequence is cancelled at the server's next write instead.
    const auto t0 = std::chrono::steady_clock::now();
    std::map<std::string, double> m;
    for (;;) {
        m = parse_metrics(client().get("/metrics").body);
        const std::string cancelled = R"(accel_serve_model_requests_total{model="stories260K",device="cpu",outcome="cancelled"})";
        if (m.count(cancelled) && m[cancelled] == 1 && m["accel_serve_sequences_busy" + kLabels] == 0) break;
        ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3)) << "the sequence was not freed";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_LT(metric(m, "accel_serve_tokens_out_total" + kLabels), 1900);
    EXPECT_EQ(metric(m, "accel_serve_requests_in_flight"), 0);
    // Both sequences serve the next requests.
    EXPECT_EQ(post("/v1/completions", completion("x", 2)).status, 200);
}

TEST_F(Serve, SeededSamplingIsRepeatableWhileBatched) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const serve::ServeOptions o = parallel(3);
    start({stories}, o);
    json req = completion("Once upon a time", 32);
    req["temperature"] = 0.9;
    req["seed"] = 42;
    const net::HttpResult alone = post("/v1/completions", req);
    ASSERT_EQ(alone.status, 200) << alone.body;
    const std::string expected = json::parse(alone.body)["choices"][0]["text"];
    // The same seeded request beside others (a greedy one, a differently seeded one): its own sampler, same text.
    std::vector<std::string> got(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i) {
        threads.emplace_back([&, i] {
            json r = req;
            if (i == 1) r["temperature"] = 0;
            if (i == 2) r["seed"] = 7;
            const net::HttpResult res = post("/v1/completions", r);
            got[i] = res.status == 200 ? json::parse(res.body)["choices"][0]["text"].get<std::string>() : res.body;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(got[0], expected);
    EXPECT_EQ(got[3], expected);
    EXPECT_EQ(got[1], generate_cli(stories, "Once upon a time", 32));
}

TEST_F(Serve, AFullQueueGets503WhileEverySequenceWaits) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const serve::ServeOptions o = parallel(2, 2);
    start({stories}, o);
    // Hold the model's session: the decode loop cannot start, so requests wait.
    pool::Lease held = pool.acquire(cpu_request(stories, {.n_ctx = 2 * o.n_ctx, .n_seq = 2}));
    auto guard = std::make_unique<pool::SessionGuard>(held.session());
    std::vector<net::HttpResult> first(2);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < first.size(); ++i)
        threads.emplace_back([&, i] { first[i] = post("/v1/completions", completion("Once", 4)); });
    std::map<std::string, double> m;
    for (int i = 0; i < 500; ++i) {
        m = parse_metrics(client().get("/metrics").body);
        // A request counts as waiting once its handler has it, and in the queue depth once the model's worker
        // has it: wait for both, or the scrape can fall between the two.
        if (m["accel_serve_requests_waiting"] == 2 && metric(m, "accel_serve_queue_depth" + kLabels) == 2) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(m["accel_serve_requests_waiting"], 2);
    EXPECT_EQ(metric(m, "accel_serve_queue_depth" + kLabels), 2);
    const net::HttpResult busy = post("/v1/completions", completion("Once", 4));
    EXPECT_EQ(busy.status, 503) << busy.body;
    ASSERT_NE(busy.header("retry-after"), nullptr);
    EXPECT_EQ(*busy.header("retry-after"), "1");
    EXPECT_NE(busy.body.find("queue_full"), std::string::npos);
    guard.reset();
    for (auto& t : threads) t.join();
    for (const auto& r : first) EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(metric(parse_metrics(client().get("/metrics").body), "accel_serve_rejected_total"), 1);
}

TEST_F(Serve, MetricsHistogramsCountTheRequestsMade) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const serve::ServeOptions o = parallel(2);
    start({stories}, o);
    int prompt_tokens = 0, completion_tokens = 0;
    const int n_requests = 5;
    for (int i = 0; i < n_requests; ++i) {
        if (i % 2 == 0) {
            const net::HttpResult r = post("/v1/completions", completion("Once upon a time " + std::to_string(i), 6));
            ASSERT_EQ(r.status, 200) << r.body;
            const json j = json::parse(r.body);
            prompt_tokens += j["usage"]["prompt_tokens"].get<int>();
            completion_tokens += j["usage"]["completion_tokens"].get<int>();
        } else {
            json req = completion("The dog " + std::to_string(i), 6, true);
            req["stream_options"] = {{"include_usage", true}};
            auto c = client();
            std::string raw;
            const auto events = stream_events(c, "/v1/completions", req, raw);
            ASSERT_GE(events.size(), 2u);
            const json usage = json::parse(events[events.size() - 2])["usage"];
            prompt_tokens += usage["prompt_tokens"].get<int>();
            completion_tokens += usage["completion_tokens"].get<int>();
        }
    }
    const net::HttpResult r = client().get("/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("# TYPE accel_serve_time_to_first_token_seconds histogram"), std::string::npos);
    const auto m = parse_metrics(r.body);
    for (const char* h : {"accel_serve_queue_wait_seconds", "accel_serve_time_to_first_token_seconds",
                          "accel_serve_time_per_output_token_seconds", "accel_serve_request_duration_seconds"}) {
        const std::string name = h;
        EXPECT_EQ(metric(m, name + "_count" + kLabels), n_requests) << name;
        EXPECT_EQ(metric(m, name + R"(_bucket{model="stories260K",device="cpu",le="+Inf"})"), n_requests) << name;
        EXPECT_GT(metric(m, name + "_sum" + kLabels), 0) << name;
        for (const auto& [key, v] : m) {
            if (key.rfind(name + "_bucket{", 0) == 0) {
                EXPECT_LE(v, n_requests) << key;
            }
        }
    }
    // The end-to-end time bounds TTFT: their sums say so too.
    EXPECT_GE(metric(m, "accel_serve_request_duration_seconds_sum" + kLabels),
              metric(m, "accel_serve_time_to_first_token_seconds_sum" + kLabels));
    EXPECT_EQ(metric(m, "accel_serve_tokens_in_total" + kLabels), prompt_tokens);
    EXPECT_EQ(metric(m, "accel_serve_tokens_out_total" + kLabels), completion_tokens);
    EXPECT_EQ(metric(m, R"(accel_serve_model_requests_total{model="stories260K",device="cpu",outcome="ok"})"), n_requests);
    EXPECT_EQ(metric(m, "accel_serve_model_loads_total" + kLabels), 1);
    EXPECT_EQ(metric(m, "accel_serve_queue_depth" + kLabels), 0);
    EXPECT_GT(metric(m, R"(accel_pool_device_used_bytes{device="cpu"})"), 0);
    EXPECT_GT(metric(m, R"(accel_pool_model_bytes{model="stories260K",device="cpu",kind="generation"})"), 0);
    EXPECT_EQ(metric(m, R"(accel_pool_evictions_total{reason="explicit"})"), 0);
}

TEST_F(Serve, PsLoadUnloadPinAndKeepAlive) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir other;
    test::write_file(other / "outside.gguf", test::read_file(stories));  // a valid model, not under --models
    const serve::ServeOptions o = parallel(2);
    start({stories}, o);
    auto ps = [&] { return json::parse(client().get("/api/ps").body)["models"]; };
    EXPECT_TRUE(ps().empty());

    const net::HttpResult loaded = post("/api/load", {{"model", "stories260K"}});
    ASSERT_EQ(loaded.status, 200) << loaded.body;
    EXPECT_EQ(json::parse(loaded.body)["device"], "cpu");
    json e = ps();
    ASSERT_EQ(e.size(), 1u) << e.dump();
    e = e[0];
    EXPECT_EQ(e["name"], "stories260K");
    EXPECT_EQ(e["kind"], "generation");
    EXPECT_EQ(e["devices"][0]["device"], "cpu");
    EXPECT_GT(e["devices"][0]["bytes"].get<uint64_t>(), 0u);
    EXPECT_EQ(e["size"], e["devices"][0]["bytes"]);
    EXPECT_EQ(e["size_vram"], 0);
    EXPECT_EQ(e["context"], 2 * o.n_ctx);
    EXPECT_EQ(e["context_per_sequence"], o.n_ctx);
    EXPECT_EQ(e["parallel"], 2);
    EXPECT_EQ(e["state"], "idle");
    EXPECT_EQ(e["leases"], 0);
    EXPECT_EQ(e["pinned"], false);
    ASSERT_TRUE(e["expires_at"].is_string()) << e.dump();  // the pool's default keep-alive runs
    EXPECT_EQ(e["expires_at"].get<std::string>().size(), 20u);

    // While a request holds it, unload is refused (409) and ps counts the lease.
    {
        pool::Lease held = pool.acquire(cpu_request(stories, {.n_ctx = 2 * o.n_ctx, .n_seq = 2}));
        EXPECT_EQ(ps()[0]["leases"], 1);
        EXPECT_EQ(ps()[0]["state"], "ready");
        EXPECT_EQ(post("/api/unload", {{"model", "stories260K"}}).status, 409);
    }
    // Pin: no expiry; unpin: the keep-alive runs again.
    ASSERT_EQ(post("/api/pin", {{"model", "stories260K"}}).status, 200);
    EXPECT_EQ(ps()[0]["pinned"], true);
    EXPECT_TRUE(ps()[0]["expires_at"].is_null());
    ASSERT_EQ(post("/api/pin", {{"model", "stories260K"}, {"pinned", false}}).status, 200);
    EXPECT_EQ(ps()[0]["pinned"], false);
    EXPECT_TRUE(ps()[0]["expires_at"].is_string());
    const net::HttpResult unloaded = post("/api/unload", {{"model", "stories260K"}});
    ASSERT_EQ(unloaded.status, 200) << unloaded.body;
    EXPECT_EQ(json::parse(unloaded.body)["unloaded"], true);
    EXPECT_TRUE(ps().empty());

    // Only models under --models: a path, an id outside the catalog, a traversal: 404, nothing loaded.
    for (const std::string& name : {stories.string(), std::string("outside"), (other / "outside.gguf").string(),
                                    std::string("../stories260K")}) {
        for (const char* endpoint : {"/api/load", "/api/pin", "/api/unload"}) {
            const net::HttpResult r = post(endpoint, {{"model", name}});
            EXPECT_EQ(r.status, 404) << endpoint << " " << name << ": " << r.body;
            EXPECT_NE(r.body.find("model_not_found"), std::string::npos);
        }
    }
    EXPECT_EQ(post("/api/load", {{"model", "stories260K"}, {"keep_alive", "soon"}}).status, 400);
    EXPECT_EQ(post("/api/load", {{"model", 5}}).status, 400);
    EXPECT_TRUE(ps().empty());

    // A request loads it (the headers say where it ran); keep_alive 0 unloads it once the request is done.
    json req = completion("Once", 4);
    req["keep_alive"] = 0;
    const net::HttpResult r = post("/v1/completions", req);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_NE(r.header("x-accel-device"), nullptr);
    EXPECT_EQ(*r.header("x-accel-device"), "cpu");
    EXPECT_EQ(*r.header("x-accel-model"), "stories260K");
    EXPECT_EQ(*r.header("x-accel-pool"), "load");
    for (int i = 0; i < 300 && !ps().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(ps().empty()) << ps().dump();
    // keep_alive -1 pins it; the next request is a hit.
    req["keep_alive"] = "-1";
    ASSERT_EQ(post("/v1/completions", req).status, 200);
    const net::HttpResult again = post("/v1/completions", completion("Once", 4));
    EXPECT_EQ(*again.header("x-accel-pool"), "hit");
    json pinned;
    for (int i = 0; i < 300; ++i) {
        pinned = ps();
        if (pinned.size() == 1 && pinned[0]["leases"] == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(pinned.size(), 1u);
    EXPECT_EQ(pinned[0]["pinned"], true);
    EXPECT_TRUE(pinned[0]["expires_at"].is_null());
    const auto m = parse_metrics(client().get("/metrics").body);
    EXPECT_EQ(metric(m, R"(accel_pool_evictions_total{reason="explicit"})"), 1);
    EXPECT_EQ(metric(m, R"(accel_pool_evictions_total{reason="ttl"})"), 1);
    EXPECT_EQ(metric(m, "accel_serve_model_loads_total" + kLabels), 3);

    // A hit's keep_alive applies too: 0 replaces the pin, and the model goes once idle.
    req["keep_alive"] = 0;
    const net::HttpResult last = post("/v1/completions", req);
    ASSERT_EQ(last.status, 200) << last.body;
    EXPECT_EQ(*last.header("x-accel-pool"), "hit");
    for (int i = 0; i < 300 && !ps().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(ps().empty()) << ps().dump();
}

}  // namespace
