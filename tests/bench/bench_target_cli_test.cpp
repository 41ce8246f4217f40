// accel bench --target end to end: a real `accel serve` on stories260K measured by `accel bench --target` with the
// latency, offline (two concurrency levels, --verify) and server scenarios; the JSON carries the definitions, the
// target's identity, the token source and the /metrics deltas.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/net/http_client.h"
#include "fake_openai_server.h"
#include "test_support.h"

extern char** environ;

namespace {

using nlohmann::json;

// accel serve in the background for the test's lifetime; SIGTERM at the end.
class Served {
public:
    Served(const char* bin, const std::string& model) : port_(accel::test::free_port()) {
        const std::vector<std::string> args = {bin, "serve", "--port", std::to_string(port_), "--models", model};
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, bin, nullptr, nullptr, argv.data(), environ) != 0) pid_ = 0;
    }
    ~Served() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    bool wait_ready() const {
        accel::net::HttpClient c("127.0.0.1", port_, {.connect_timeout = std::chrono::milliseconds(200)});
        for (int i = 0; i < 300; ++i) {
            if (c.get("/health").status == 200) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    uint16_t port_;
    pid_t pid_ = 0;
};

TEST(BenchTarget, MeasuresAccelServeWithEveryScenario) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const char* bin = std::getenv("ACCEL_BIN");
    ASSERT_NE(bin, nullptr);
    Served served(bin, stories.string());
    ASSERT_TRUE(served.wait_ready());
    const auto r = accel::test::run_accel({"bench", "--target", served.url(), "--served-model", "stories260K",
                                           "--scenario", "latency,offline,server", "-p", "16", "-n", "8",
                                           "--parallel", "1,2", "--qps", "20", "--queries", "6", "-r", "3",
                                           // An SLO for early stopping and goodput, loose for a loaded machine.
                                           "--verify", "--slo-ttft-ms", "600000", "--max-lateness-ms", "1000",
                                           "--no-store", "--json"},
                                          {}, 240);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    const json& results = j.at("results");
    // latency once, offline at 1 and 2, server at 1 and 2 (--parallel labels the server points).
    ASSERT_EQ(results.size(), 5u) << r.out;
    for (const json& p : results) {
        ASSERT_TRUE(p.at("ok").get<bool>()) << p.dump();
        const json& rem = p.at("remote");
        EXPECT_EQ(rem.at("served_model"), "stories260K");
        EXPECT_EQ(rem.at("url"), served.url());
        EXPECT_NE(rem.at("models_json").get<std::string>().find("stories260K"), std::string::npos);
        EXPECT_EQ(rem.at("token_source"), "usage");  // accel serve sends usage with include_usage
        EXPECT_EQ(rem.at("n_failed"), 0);
        EXPECT_GT(rem.at("output_tokens_per_s").get<double>(), 0);
        EXPECT_NE(rem.at("definitions").get<std::string>().find("TPOT per request = (E2E - TTFT) / (N - 1)"),
                  std::string::npos);
        // accel serve's /metrics counts the requests of the timed run.
        EXPECT_FALSE(rem.at("server_metrics_delta").empty()) << rem.at("server_metrics_note");
        EXPECT_TRUE(p.at("verify_pass").get<bool>()) << p.at("verify_summary");
        const std::string scenario = p.at("spec").at("scenario");
        EXPECT_EQ(rem.at("origin"), scenario == "server" ? "scheduled" : "sent");
        if (scenario == "server") {
            EXPECT_FALSE(p.at("server").at("early_stopping").empty());
            EXPECT_FALSE(rem.at("lateness").is_null());
        }
    }
    EXPECT_NE(r.out.find("\"schema_version\""), std::string::npos);
}

// `accel report` on a warehouse with a served point (bench --target against accel serve) and an in-process point of
// the same model: both in the server section's one table (and its charts), the served one named by what served it
// (accel serve's Server header) and where.
TEST(BenchTarget, ReportShowsServedPointsBesideInProcessOnes) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const char* bin = std::getenv("ACCEL_BIN");
    ASSERT_NE(bin, nullptr);
    Served served(bin, stories.string());
    ASSERT_TRUE(served.wait_ready());
    accel::test::TempDir dir;
    const std::string db = (dir / "side.duckdb").string();
    const std::vector<std::string> load = {"--scenario", "server", "-p", "16", "-n", "8", "--qps", "20",
                                           "--queries", "4", "--max-lateness-ms", "1000", "--db", db};
    std::vector<std::string> remote = {"bench", "--target", served.url(), "--served-model", "stories260K"};
    remote.insert(remote.end(), load.begin(), load.end());
    const auto a = accel::test::run_accel(remote, {}, 240);
    ASSERT_EQ(a.exit_code, 0) << a.err;
    std::vector<std::string> local = {"bench", "-m", stories.string()};
    local.insert(local.end(), load.begin(), load.end());
    const auto b = accel::test::run_accel(local, {}, 240);
    ASSERT_EQ(b.exit_code, 0) << b.err;
    const auto rep = accel::test::run_accel({"report", "--db", db, "--format", "markdown"});
    ASSERT_EQ(rep.exit_code, 0) << rep.err;
    const size_t at = rep.out.find("## Throughput versus latency");
    ASSERT_NE(at, std::string::npos) << rep.out;
    const std::string section = rep.out.substr(at, rep.out.find("\n## ", at + 1) - at);
    std::vector<std::string> rows;
    for (size_t p = section.find("\n| "); p != std::string::npos; p = section.find("\n| ", p + 1)) {
        rows.push_back(section.substr(p + 1, section.find('\n', p + 1) - p - 1));
    }
    const auto row_with = [&](const std::string& text) {
        return std::any_of(rows.begin(), rows.end(), [&](const std::string& r) { return r.find(text) != r.npos; });
    };
    EXPECT_TRUE(row_with("stories260K · served by accel/")) << section;
    EXPECT_TRUE(row_with("at " + served.url())) << section;
    EXPECT_TRUE(row_with(" · cpu")) << section;  // the in-process point, in the same table
}

// Output tokens: the server's usage when it sends one; else the completion text tokenized by --tokenizer (the served
// model's GGUF, vocabulary only); else the content chunks. Each point says which (stored and printed).
TEST(BenchTarget, CountsOutputTokensWithUsageElseTheTokenizerElseChunks) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    using accel::test::FakeServer;
    // Independent of the vocabulary-only load bench uses: the whole model loaded, its tokenizer.
    const auto full = accel::engine::LoadedModel::load(stories);
    const auto bench = [&](FakeServer& fake, bool tokenizer) {
        std::vector<std::string> args = {"bench", "--target", fake.url(), "--scenario", "latency", "-p", "40",
                                         "-n", "12", "-r", "3", "--warmup", "0", "--no-store", "--json"};
        if (tokenizer) args.insert(args.end(), {"--tokenizer", stories.string()});
        const auto r = accel::test::run_accel(args, {}, 120);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const json j = json::parse(r.out, nullptr, false);
        return j.is_object() && j.contains("results") && !j["results"].empty() ? j["results"][0] : json();
    };
    {  // No usage, a tokenizer: the exact count of the texts' tokens.
        FakeServer fake({.ttft = std::chrono::milliseconds(1), .gap = std::chrono::milliseconds(1), .n_chunks = 12,
                         .usage = false});
        const json p = bench(fake, true);
        ASSERT_TRUE(p.is_object());
        int64_t want = 0;
        const auto texts = fake.texts();
        ASSERT_EQ(texts.size(), 3u);
        for (const auto& t : texts) {
            const auto n = accel::engine::tokenize(full, t, false).size();
            EXPECT_GT(n, 1u) << t;
            EXPECT_LT(n, t.size()) << "a tokenizer merges characters: " << t;
            want += static_cast<int64_t>(n);
        }
        const json& rem = p.at("remote");
        EXPECT_EQ(rem.at("token_source"), "tokenizer");
        EXPECT_EQ(rem.at("tokenizer"), std::filesystem::absolute(stories).string());
        EXPECT_EQ(rem.at("n_output_tokens").get<int64_t>(), want);
        EXPECT_EQ(p.at("spec").at("tokenizer"), std::filesystem::absolute(stories).string());
    }
    {  // Usage and a tokenizer: usage wins.
        FakeServer fake({.ttft = std::chrono::milliseconds(1), .gap = std::chrono::milliseconds(1), .n_chunks = 12});
        const json p = bench(fake, true);
        ASSERT_TRUE(p.is_object());
        EXPECT_EQ(p.at("remote").at("token_source"), "usage");
        EXPECT_EQ(p.at("remote").at("n_output_tokens").get<int64_t>(), 3 * 12);
    }
    {  // Neither: the content chunks, labelled so.
        FakeServer fake({.ttft = std::chrono::milliseconds(1), .gap = std::chrono::milliseconds(1), .n_chunks = 12,
                         .usage = false});
        const json p = bench(fake, false);
        ASSERT_TRUE(p.is_object());
        EXPECT_EQ(p.at("remote").at("token_source"), "chunks");
        EXPECT_TRUE(p.at("remote").at("tokenizer").is_null());
        EXPECT_EQ(p.at("remote").at("n_output_tokens").get<int64_t>(), 3 * 12);
    }
    // A tokenizer file that is not there: one line naming it, exit 2.
    const auto bad = accel::test::run_accel({"bench", "--target", "http://127.0.0.1:9", "--tokenizer",
                                             "/nonexistent.gguf", "--scenario", "latency", "--no-store"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("--tokenizer /nonexistent.gguf: no such file"), std::string::npos) << bad.err;
}

}  // namespace
