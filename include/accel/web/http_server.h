#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace accel::web {

struct ServerLimits {
    size_t max_header_bytes = 16 * 1024;      // request line plus headers; more: 431
    size_t max_body_bytes = 1024 * 1024;      // Content-Length above this: 413 (before any byte is read)
    std::chrono::milliseconds read_timeout{10000};   // whole request (headers and body) must arrive within: 408
    std::chrono::milliseconds write_timeout{30000};  // a client that stops reading is dropped after this
    int max_connections = 16;                 // connections beyond this get 503 and are closed at once
};

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

// A small fixed-purpose HTTP/1.1 server for the browser runner. It binds 127.0.0.1 only, on a free port the kernel
// picks, and answers one request per connection (Connection: close). Every answer carries COOP/COEP/CORP headers
// for cross-origin isolation and never an Access-Control-Allow-Origin. Requests are refused:
//   403 when Host is not 127.0.0.1:<port> or localhost:<port>, or an Origin is present and is not that origin;
//   401 when a POST lacks the run's token (compared in constant time); 413/431 past the size caps;
//   408 when the request is not complete within read_timeout; 503 past max_connections.
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

// 128 random bits from the OS, as 32 lowercase hex digits. Throws Error{io} when no randomness is available.
std::string make_token();
// Compares in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace accel::web
