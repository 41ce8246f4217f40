#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "accel/net/http_server.h"

namespace accel::web {

// Body/header caps, read deadline (408), write timeout and connection cap (503): net's limits.
using ServerLimits = net::HttpLimits;

struct ServerOptions {
    std::string token;                       // 32 hex digits; POST /api/* must carry it (?token= or X-Accel-Token)
    std::map<std::string, std::filesystem::path> mounts;  // URL prefix ("/page/") -> folder; files only, no listing
    std::filesystem::path model_file;        // served at /model.gguf with range requests; empty: 404
    ServerLimits limits{};
};

// A message the page posted to /api/<name>.
struct PostedMessage {
    std::string name;  // "result", "log"
    std::string body;
};

// The browser runner's HTTP server, over net::HttpServer (cpp-httplib). It binds 127.0.0.1 only, on a free port the
// kernel picks, and answers one request per connection (Connection: close). Every answer carries COOP/COEP/CORP headers
// for cross-origin isolation and never an Access-Control-Allow-Origin. Requests are refused:
//   403 when Host is not 127.0.0.1:<port> or localhost:<port>, or an Origin is present and is not that origin;
//   401 when a POST lacks the run's token (compared in constant time); 413/431 past the size caps;
//   408 when the request is not complete within read_timeout; 503 past max_connections (net::HttpServer's limits).
// Thread-safe; stop() (also run by the destructor) closes the listener and joins every connection thread.
class HttpServer {
public:
    // Throws Error{io} when no loopback port can be bound, Error{invalid_input} for a token that is not 32 hex digits.
    explicit HttpServer(ServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    uint16_t port() const;
    std::string origin() const;  // "http://127.0.0.1:<port>"
    // Waits until the page posts to /api/<name> for a name in {"result"}, or the timeout passes (nullopt).
    std::optional<PostedMessage> wait_message(std::chrono::milliseconds timeout);
    int64_t n_open_connections() const;
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// 128 random bits from the OS, as 32 lowercase hex digits (net::random_token). Throws Error{io} when no
// randomness is available.
std::string make_token();
// Compares in time that depends only on the lengths (net::constant_time_equal).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace accel::web
