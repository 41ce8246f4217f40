#include "accel/bench/remote_target.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/net/http_client.h"
#include "accel/net/sse.h"

namespace accel::bench {
namespace {

using nlohmann::json;

net::HttpClient client(const TargetUrl& url, std::chrono::seconds read_timeout = std::chrono::seconds(30),
                       bool keep_alive = false) {
    net::HeaderList headers;
    if (!url.api_key.empty()) headers.emplace_back("Authorization", "Bearer " + url.api_key);
    return net::HttpClient(url.host, url.port,
                           {.read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(read_timeout),
                            .default_headers = std::move(headers),
                            .keep_alive = keep_alive});
}

}  // namespace

TargetUrl parse_target_url(const std::string& url) {
    const std::string scheme = "http://";
    const auto bad = [&](const std::string& why) {
        return Error(ErrorKind::invalid_input, fmt::format("--target {}: {} (use http://HOST:PORT)", url, why));
    };
    if (url.rfind(scheme, 0) != 0) {
        throw bad(url.rfind("https://", 0) == 0 ? "https is not supported" : "not an http URL");
    }
    TargetUrl t;
    std::string rest = url.substr(scheme.size());
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    const auto slash = rest.find('/');
    if (slash != std::string::npos) {
        t.prefix = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    const auto colon = rest.rfind(':');
    t.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
        const std::string port = rest.substr(colon + 1);
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(port) < 1 || std::stoi(port) > 65535) {
            throw bad("bad port");
        }
        t.port = static_cast<uint16_t>(std::stoi(port));
    }
    if (t.host.empty()) throw bad("no host");
    t.text = scheme + rest + t.prefix;
    return t;
}

void set_remote_target(SweepSpec& s, const std::string& target, const std::string& served_model,
                       const std::string& workload, bool has_models, const std::string& tokenizer) {
    if (target.empty()) {
        if (!served_model.empty() || !workload.empty() || !tokenizer.empty()) {
            throw Error(ErrorKind::invalid_input, "--served-model, --workload and --tokenizer need --target URL");
        }
        return;
    }
    if (has_models) {
        throw Error(ErrorKind::invalid_input, "--target measures a served model (--served-model NAME); --model is a "
                                              "model file and cannot be given with it (--tokenizer FILE.gguf gives "
                                              "the served model's vocabulary for counting tokens)");
    }
    (void)parse_target_url(target);
    s.target = target;
    s.served_model = served_model;
    s.workload = parse_workload(workload).text;
    if (!tokenizer.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(tokenizer, ec)) {
            throw Error(ErrorKind::invalid_input, fmt::format("--tokenizer {}: no such file (give the served model's "
                                                              "GGUF, or one with the same vocabulary)", tokenizer));
        }
        s.tokenizer = std::filesystem::absolute(tokenizer).string();
    }
}

TargetIdentity read_target_identity(const TargetUrl& url, const std::string& served_model) {
    auto c = client(url);
    const net::HttpResult res = c.get(url.prefix + "/v1/models");
    if (res.status != 200) {
        throw Error(ErrorKind::io, fmt::format("{}/v1/models: {}", url.text,
                                               res.status == 0 ? res.error : fmt::format("HTTP {}", res.status)));
    }
    TargetIdentity id{.url = url.text, .served_model = served_model, .models_json = res.body};
    if (const auto* s = res.header("server")) id.server_header = *s;
    std::vector<std::string> ids;
    const json j = json::parse(res.body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_array()) {
        for (const auto& m : j["data"]) {
            if (m.is_object() && m.contains("id") && m["id"].is_string()) ids.push_back(m["id"].get<std::string>());
        }
    }
    if (served_model.empty()) {
        if (ids.empty()) throw Error(ErrorKind::io, fmt::format("{}/v1/models lists no model", url.text));
        id.served_model = ids.front();
    } else if (std::find(ids.begin(), ids.end(), served_model) == ids.end()) {
        std::string list;
        for (const auto& m : ids) list += (list.empty() ? "" : ", ") + m;
        throw Error(ErrorKind::invalid_input,
                    fmt::format("--served-model {}: {} serves only: {}", served_model, url.text, list));
    }
    return id;
}

std::map<std::string, double> parse_prometheus(std::string_view text) {
    std::map<std::string, double> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(start, nl - start);
        start = nl + 1;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        // The key runs to the closing brace of the labels, or to the first space without labels.
        const size_t brace = line.find('{');
        const size_t space0 = line.find(' ');
        size_t key_end = space0;
        if (brace != std::string_view::npos && (space0 == std::string_view::npos || brace < space0)) {
            const size_t close = line.find('}', brace);
            if (close == std::string_view::npos) continue;
            key_end = close + 1;
        }
        if (key_end == std::string_view::npos || key_end >= line.size()) continue;
        std::string_view rest = line.substr(key_end);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        const std::string value(rest.substr(0, rest.find(' ')));
        try {
            size_t used = 0;
            const double v = std::stod(value, &used);
            if (used == value.size()) out[std::string(line.substr(0, key_end))] = v;
        } catch (const std::exception&) {
            // Not a sample line: skipped (NaN and +Inf parse; anything else is not Prometheus text).
        }
    }
    return out;
}

std::optional<std::map<std::string, double>> scrape_metrics(const TargetUrl& url, std::string& why) {
    auto c = client(url);
    const net::HttpResult res = c.get(url.prefix + "/metrics");
    if (res.status != 200) {
        why = fmt::format("{}/metrics: {}", url.text, res.status == 0 ? res.error : fmt::format("HTTP {}", res.status));
        return std::nullopt;
    }
    auto m = parse_prometheus(res.body);
    if (m.empty()) {
        why = fmt::format("{}/metrics: no Prometheus samples in the answer", url.text);
        return std::nullopt;
    }
    return m;
}

std::vector<std::pair<std::string, double>> metrics_delta(const std::map<std::string, double>& before,
                                                          const std::map<std::string, double>& after) {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [k, v] : after) {
        const auto it = before.find(k);
        const double d = v - (it == before.end() ? 0.0 : it->second);
        if (d != 0) out.emplace_back(k, d);
    }
    return out;
}

bool apply_stream_event(std::string_view data, RemoteResponse::Clock::time_point at, RemoteResponse& r) {
    if (data == "[DONE]") return false;
    const json j = json::parse(data, nullptr, false);
    if (!j.is_object()) return true;
    if (j.contains("error")) {
        const json& e = j["error"];
        r.error = e.is_object() && e.contains("message") ? e["message"].dump() : e.dump();
        return true;
    }
    if (j.contains("choices") && j["choices"].is_array()) {
        for (const auto& c : j["choices"]) {
            std::string piece;
            if (c.contains("text") && c["text"].is_string()) piece = c["text"].get<std::string>();
            if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content") &&
                c["delta"]["content"].is_string()) {
                piece = c["delta"]["content"].get<std::string>();
            }
            if (piece.empty()) continue;
            r.chunks.push_back(at);
            r.text += piece;
        }
    }
    if (j.contains("usage") && j["usage"].is_object()) {
        const json& u = j["usage"];
        if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
            r.completion_tokens = u["completion_tokens"].get<int32_t>();
        if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer())
            r.prompt_tokens = u["prompt_tokens"].get<int32_t>();
    }
    return true;
}

RemoteSut::RemoteSut(TargetUrl url, std::span<const RemoteRequest> requests, int32_t n_workers,
                     std::chrono::seconds read_timeout)
    : url_(std::move(url)), requests_(requests), n_workers_(std::max(1, n_workers)), read_timeout_(read_timeout),
      responses_(requests.size()) {
    // Room for every chunk before the clock starts: nothing allocates on the timed path but a longer answer.
    for (size_t i = 0; i < requests.size(); ++i) {
        responses_[i].chunks.reserve(static_cast<size_t>(requests[i].max_tokens) + 4);
    }
}

void RemoteSut::stream_one(uint32_t q, QueryObserver& observer, net::HttpClient& c, bool reused) {
    RemoteResponse& r = responses_[q];
    const RemoteRequest& req = requests_[q];
    net::SseParser parser;
    std::optional<RemoteResponse::Clock::time_point> done_at;
    std::string head;  // the first bytes, for the error message of a refused request
    bool any_bytes = false;
    const auto on_data = [&](std::string_view bytes) {
        const auto at = RemoteResponse::Clock::now();
        any_bytes = true;
        if (head.size() < 300) head.append(bytes.substr(0, 300 - head.size()));
        parser.feed(bytes);
        for (const std::string& ev : parser.take_events()) {
            const size_t before = r.chunks.size();
            if (!apply_stream_event(ev, at, r) && !done_at) done_at = at;
            if (before == 0 && !r.chunks.empty()) observer.first_token(q);
        }
        return true;
    };
    r.sent = RemoteResponse::Clock::now();
    net::HttpResult res = c.post_streaming(url_.prefix + req.path, req.body, on_data);
    if (res.status == 0 && !any_bytes && reused) {
        // The server closed the idle keep-alive connection as the request went out: once more, on a new one.
        r.resent = true;
        res = c.post_streaming(url_.prefix + req.path, req.body, on_data);
    }
    r.done = done_at.value_or(RemoteResponse::Clock::now());
    r.status = res.status;
    if (res.status == 0) {
        r.error = res.error.empty() ? "no answer" : res.error;
    } else if (res.status != 200) {
        r.error = fmt::format("HTTP {}: {}", res.status, head.empty() ? res.body.substr(0, 300) : head);
    } else if (!done_at && r.error.empty()) {
        r.error = "the stream ended without [DONE]";
    }
    observer.complete(q);
}

void RemoteSut::issue(uint32_t query) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(query);
    }
    cv_.notify_one();
}

void RemoteSut::finish() {
    {
        std::lock_guard lock(mu_);
        closed_ = true;
    }
    cv_.notify_all();
}

void RemoteSut::serve(QueryObserver& observer) {
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(n_workers_));
    for (int32_t w = 0; w < n_workers_; ++w) {
        workers.emplace_back([&] {
            // The worker's own connection, kept open across its requests: setting one up is not in the latencies.
            net::HttpClient c = client(url_, read_timeout_, true);
            bool reused = false;
            for (;;) {
                uint32_t q = 0;
                {
                    std::unique_lock lock(mu_);
                    cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
                    if (queue_.empty()) return;  // closed and drained
                    q = queue_.front();
                    queue_.pop_front();
                }
                try {
                    stream_one(q, observer, c, reused);
                    reused = responses_[q].status != 0;
                } catch (const std::exception& e) {
                    responses_[q].error = e.what();
                    responses_[q].done = RemoteResponse::Clock::now();
                    observer.complete(q);
                }
            }
        });
    }
    for (auto& t : workers) t.join();
}

}  // namespace accel::bench
