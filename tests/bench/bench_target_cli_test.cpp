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

#include <chrono>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/net/http_client.h"
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

}  // namespace
