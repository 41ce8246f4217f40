#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "accel/net/http_message.h"

namespace accel::net {

struct HttpClientOptions {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds read_timeout{60000};
    std::chrono::milliseconds write_timeout{60000};
    HeaderList default_headers;  // sent with every request (e.g. Authorization)
    // true: one HTTP/1.1 keep-alive connection, opened by the first request and reused by the next ones (reopened
    // when the server closed it); false: one connection per request (Connection: close).
    bool keep_alive = false;
};

struct HttpResult {
    int status = 0;          // 0: no answer (see error)
    HeaderList headers;      // names lowercased
    std::string body;
    std::string error;       // why no answer came ("connection refused", "read timeout", ...); empty on success

    const std::string* header(std::string_view lower_name) const;
};

// A small HTTP/1.1 client over cpp-httplib, for tests and remote targets. One connection per request, or one kept
// open across requests (HttpClientOptions::keep_alive). Not thread-safe: one client per thread. Never throws for
// network failures (see HttpResult::error).
class HttpClient {
public:
    HttpClient(std::string host, uint16_t port, HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    HttpResult get(const std::string& path, const HeaderList& headers = {});
    HttpResult post(const std::string& path, std::string_view body, const std::string& content_type = "application/json",
                    const HeaderList& headers = {});
    // Like post(), but each piece of the answer's body goes to on_data as it arrives (and not into the result's
    // body); on_data returns false to stop reading.
    HttpResult post_streaming(const std::string& path, std::string_view body,
                              const std::function<bool(std::string_view)>& on_data,
                              const std::string& content_type = "application/json", const HeaderList& headers = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace accel::net
