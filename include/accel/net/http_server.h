#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "accel/net/http_message.h"

namespace accel::net {

struct HttpLimits {
    size_t max_header_bytes = 16 * 1024;              // request line plus headers; more: 431
    size_t max_body_bytes = 1024 * 1024;              // Content-Length above this: 413, before any body byte is read
    std::chrono::milliseconds read_timeout{10000};    // the whole request must arrive within this: else 408
    std::chrono::milliseconds write_timeout{30000};   // a client that stops reading is dropped after this
    int max_connections = 16;                         // open connections past this get 503 + Retry-After at once
    // 0: one request per connection (Connection: close). Otherwise HTTP/1.1 keep-alive: after an answer the
    // connection waits this long for the next request (read_timeout then runs from its first byte), up to
    // keep_alive_max_requests requests; an error answer (4xx/5xx) or a client's Connection: close ends it.
    std::chrono::milliseconds keep_alive_idle{0};
    int keep_alive_max_requests = 1000;
};

struct HttpServerOptions {
    std::string host = "127.0.0.1";  // an IPv4 address or "localhost"; loopback unless the caller asks otherwise
    uint16_t port = 0;               // 0: the kernel picks a free port (see HttpServer::port())
    HttpLimits limits{};
    HeaderList default_headers;      // added to every answer, refusals included
    // The answer for a request refused before the handler ran (400, 408, 411, 413, 431, 501, 503) or for a handler
    // that threw (500). Default: text/plain "<status> <reason>: <why>".
    std::function<HttpResponse(int status, std::string_view why)> error_response;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// accel's HTTP/1.1 server: one request per connection (Connection: close), or keep-alive connections
// (HttpLimits::keep_alive_idle), one thread per connection up to max_connections (the bounded queue: past it a
// connection gets 503 with Retry-After, never an unbounded backlog; an idle keep-alive connection is closed first to
// make room for a new one).
// accel reads the request itself under the limits and deadlines (so slow or oversized clients get 408/413/431 and
// never hold a thread past read_timeout), then cpp-httplib parses it and writes the answer (chunked bodies,
// file ranges). Refused before the handler: malformed request line (400), duplicate Host/Content-Length/Origin
// (400), POST/PUT/PATCH without Content-Length (411), Transfer-Encoding request bodies (501).
// Thread-safe. The handler runs on the connection's thread, concurrently with others; it must not throw (a throw
// becomes a 500). stop() (also run by the destructor) closes the listener, tells streaming answers to end
// (StreamSink::cancelled) and joins every connection thread.
class HttpServer {
public:
    // Throws Error{io} when the address cannot be bound, Error{invalid_input} for a host that is not an IPv4
    // address or "localhost".
    HttpServer(HttpServerOptions options, HttpHandler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    uint16_t port() const;
    const std::string& host() const;  // the bound IPv4 address, e.g. "127.0.0.1"
    int64_t n_open_connections() const;
    int64_t n_accepted_connections() const;  // every connection accepted so far, refused ones included
    int64_t n_idle_connections() const;      // keep-alive connections waiting for their next request
    bool stopping() const;
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8 and "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace accel::net
