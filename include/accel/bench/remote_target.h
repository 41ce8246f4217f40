#pragma once

// The remote target adapter: an OpenAI-compatible endpoint (accel serve, llama-server, Ollama, vLLM) as a
// ServerSut, so the load harness (run_load) drives it exactly as it drives the in-process continuous batcher.
// The HTTP goes through net/ (cpp-httplib); this adapter never times itself beyond stamping when bytes were sent
// and arrived (the clock is bench's steady_clock).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accel/bench/remote_workload.h"
#include "accel/bench/server_sut.h"
#include "accel/bench/sweep.h"
#include "accel/bench/target_identity.h"

namespace accel::net {
class HttpClient;
}

namespace accel::bench {

// "http://HOST:PORT" (an optional path prefix such as "/api" is kept and put before "/v1/...").
struct TargetUrl {
    std::string host;
    uint16_t port = 80;
    std::string prefix;  // "" or "/api"
    std::string text;    // as given, without a trailing '/'
    std::string api_key; // sent as "Authorization: Bearer KEY" when not "" (--api-key-file; never stored)
};
// Throws Error{invalid_input} for anything but http://HOST[:PORT][/PREFIX] (https is not supported).
TargetUrl parse_target_url(const std::string& url);

// --target URL [--served-model NAME] [--workload W] [--tokenizer FILE] on a sweep: checks the URL, the workload
// and that the tokenizer file exists (Error{invalid_input} naming the flag; the file is stored as an absolute
// path), refuses --model files with a target and --served-model/--workload/--tokenizer without one.
void set_remote_target(SweepSpec& s, const std::string& target, const std::string& served_model,
                       const std::string& workload, bool has_models, const std::string& tokenizer = "");

// GET /v1/models. served_model "" picks the first model listed. Throws Error{io} when the endpoint does not
// answer 200, Error{invalid_input} when served_model is not listed.
TargetIdentity read_target_identity(const TargetUrl& url, const std::string& served_model);

// Prometheus text format: "name{labels} value" per sample line (comments skipped), keyed by "name{labels}".
std::map<std::string, double> parse_prometheus(std::string_view text);
// GET /metrics: nullopt (with why) when the target has none (non-200, or not Prometheus text).
std::optional<std::map<std::string, double>> scrape_metrics(const TargetUrl& url, std::string& why);
// after - before for every sample that changed (series new in after count from 0), sorted by key.
std::vector<std::pair<std::string, double>> metrics_delta(const std::map<std::string, double>& before,
                                                          const std::map<std::string, double>& after);

// One streamed answer, as the client saw it. Times are steady_clock points taken as the bytes were written or
// arrived (the timestamp first, the parsing after).
struct RemoteResponse {
    using Clock = std::chrono::steady_clock;
    Clock::time_point sent{};                  // the request was handed to the connection
    std::vector<Clock::time_point> chunks;     // arrival of each chunk with non-empty content, in order
    Clock::time_point done{};                  // the stream ended ([DONE] or end of body)
    std::optional<int32_t> completion_tokens;  // the server's usage, when it sent one
    std::optional<int32_t> prompt_tokens;
    std::string text;                          // the generated text, concatenated
    std::optional<int32_t> tokenizer_tokens;   // text's tokens by the --tokenizer vocabulary, counted after the run
    int status = 0;                            // HTTP status; 0: no answer
    bool resent = false;                       // sent twice: the reused connection was closed by the server
    std::string error;                         // "" when the answer is a complete 200 stream
    bool ok() const { return error.empty(); }
};

// Parses OpenAI streaming events (completions' choices[].text, chat's choices[].delta.content, usage) into r.
// at is when the bytes holding the event arrived. Returns false at "[DONE]".
bool apply_stream_event(std::string_view data, RemoteResponse::Clock::time_point at, RemoteResponse& r);

// The SUT: serve() runs n_workers client threads; each takes the next issued query and streams its request on the
// worker's own keep-alive connection (opened by its first request, reused by the next ones; a request that fails on
// a reused connection before any answer byte, because the server closed it while idle, is sent once more on a fresh
// one, its time counted from the first send). A query issued while every worker is busy waits in the client, and
// the lateness that follows is measured (RemoteResponse::sent against the schedule), never hidden.
class RemoteSut : public ServerSut {
public:
    // requests must outlive the SUT.
    RemoteSut(TargetUrl url, std::span<const RemoteRequest> requests, int32_t n_workers,
              std::chrono::seconds read_timeout = std::chrono::seconds(600));
    std::string_view name() const override { return "remote"; }
    void issue(uint32_t query) override;
    void finish() override;
    // Never throws for a failed request: the response records it.
    void serve(QueryObserver& observer) override;
    const std::vector<RemoteResponse>& responses() const { return responses_; }

private:
    void stream_one(uint32_t q, QueryObserver& observer, net::HttpClient& c, bool reused);
    TargetUrl url_;
    std::span<const RemoteRequest> requests_;
    int32_t n_workers_;
    std::chrono::seconds read_timeout_;
    // Issued queries for the workers (several wait at once, so closing wakes them all).
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<uint32_t> queue_;
    bool closed_ = false;
    std::vector<RemoteResponse> responses_;
};

}  // namespace accel::bench
