#include "accel/web/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/text.h"

namespace accel::web {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

struct Request {
    std::string method, target, path, query;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
};

struct Reply {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // A file range to stream after the head instead of `body`.
    std::filesystem::path file;
    uint64_t file_offset = 0, file_length = 0;
};

std::string_view reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 416: return "Range Not Satisfiable";
        case 431: return "Request Header Fields Too Large";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        default: return "Error";
    }
}

Reply error_reply(int status, std::string_view why) {
    return Reply{.status = status, .body = fmt::format("{} {}: {}\n", status, reason(status), why)};
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

std::string mime_type(const std::filesystem::path& p) {
    const std::string ext = p.extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".wasm") return "application/wasm";
    if (ext == ".json") return "application/json";
    if (ext == ".css") return "text/css";
    return "application/octet-stream";
}

std::string query_param(const std::string& query, std::string_view key) {
    size_t pos = 0;
    while (pos <= query.size()) {
        size_t end = query.find('&', pos);
        if (end == std::string::npos) end = query.size();
        std::string_view kv(query.data() + pos, end - pos);
        if (kv.size() > key.size() && kv.substr(0, key.size()) == key && kv[key.size()] == '=')
            return std::string(kv.substr(key.size() + 1));
        pos = end + 1;
    }
    return {};
}

// Waits until fd is ready for `events` or the deadline passes. False on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{.fd = fd, .events = events, .revents = 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 200)));
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
}

bool send_all(int fd, const char* data, size_t n, Clock::time_point deadline) {
    while (n > 0) {
        if (!wait_fd(fd, POLLOUT, deadline)) return false;
        const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return false;
        }
        data += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

}  // namespace

std::string make_token() {
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        const ssize_t r = ::getrandom(b + got, sizeof b - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorKind::io, fmt::format("web: getrandom failed: {}", std::strerror(errno)));
        }
        got += static_cast<size_t>(r);
    }
    std::string s;
    for (unsigned char c : b) s += fmt::format("{:02x}", c);
    return s;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Length is not secret (always 32); the bytes are compared without an early exit.
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

struct HttpServer::Impl {
    ServerOptions opt;
    int listen_fd = -1;
    uint16_t port = 0;
    std::atomic<bool> stopping{false};
    std::atomic<int64_t> open{0};
    std::thread acceptor;
    std::mutex m;
    std::condition_variable cv;
    std::deque<PostedMessage> messages;
    std::list<std::thread> workers;  // joined on stop
    std::list<std::thread::id> finished;

    void accept_loop();
    void serve(int fd);
    // nullopt: a complete request in `req`.
    std::optional<Reply> read_request(int fd, Request& req, Clock::time_point deadline);
    Reply route(const Request& req);
    Reply serve_file(const Request& req, const std::filesystem::path& file, bool ranges);
    void write_reply(int fd, const Request* req, const Reply& r);
    void reap();
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->opt = std::move(options);
    const auto& t = impl_->opt.token;
    if (t.size() != 32 || !std::all_of(t.begin(), t.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
        throw Error(ErrorKind::invalid_input, "web: the server token must be 32 hex digits (128 bits)");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw Error(ErrorKind::io, fmt::format("web: socket: {}", std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never any other address
    addr.sin_port = 0;                              // the kernel picks a free port
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error(ErrorKind::io, fmt::format("web: cannot bind 127.0.0.1: {}", std::strerror(e)));
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    impl_->listen_fd = fd;
    impl_->port = ntohs(addr.sin_port);
    impl_->acceptor = std::thread([this] { impl_->accept_loop(); });
}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const { return impl_->port; }
std::string HttpServer::origin() const { return fmt::format("http://127.0.0.1:{}", impl_->port); }
int64_t HttpServer::n_open_connections() const { return impl_->open.load(); }

std::optional<PostedMessage> HttpServer::wait_message(std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->m);
    if (!impl_->cv.wait_for(lock, timeout, [&] { return !impl_->messages.empty(); })) return std::nullopt;
    PostedMessage msg = std::move(impl_->messages.front());
    impl_->messages.pop_front();
    return msg;
}

void HttpServer::stop() {
    if (!impl_ || impl_->stopping.exchange(true)) return;
    if (impl_->acceptor.joinable()) impl_->acceptor.join();
    ::close(impl_->listen_fd);
    std::list<std::thread> workers;
    {
        std::lock_guard lock(impl_->m);
        workers.swap(impl_->workers);
    }
    for (auto& w : workers) w.join();  // each worker ends at its own deadline or at `stopping`
}

void HttpServer::Impl::reap() {
    std::lock_guard lock(m);
    for (auto id : finished) {
        auto it = std::find_if(workers.begin(), workers.end(), [&](const std::thread& t) { return t.get_id() == id; });
        if (it != workers.end()) {
            it->join();
            workers.erase(it);
        }
    }
    finished.clear();
}

void HttpServer::Impl::accept_loop() {
    while (!stopping.load()) {
        pollfd p{.fd = listen_fd, .events = POLLIN, .revents = 0};
        if (::poll(&p, 1, 100) <= 0) {
            reap();
            continue;
        }
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) continue;
        reap();
        if (open.load() >= opt.limits.max_connections) {
            Fd guard(fd);
            write_reply(fd, nullptr, error_reply(503, "too many connections"));
            continue;
        }
        ++open;
        std::lock_guard lock(m);
        workers.emplace_back([this, fd] {
            serve(fd);
            --open;
            std::lock_guard l(m);
            finished.push_back(std::this_thread::get_id());
        });
    }
}

std::optional<Reply> HttpServer::Impl::read_request(int fd, Request& req, Clock::time_point deadline) {
    std::string buf;
    size_t head_end = std::string::npos;
    char chunk[4096];
    while (head_end == std::string::npos) {
        if (stopping.load()) return error_reply(503, "server shutting down");
        if (!wait_fd(fd, POLLIN, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)))) {
            if (Clock::now() >= deadline) return error_reply(408, "the request did not arrive in time");
            continue;
        }
        const ssize_t r = ::recv(fd, chunk, sizeof chunk, 0);
        if (r == 0) return Reply{.status = 0};  // the client went away before finishing; nobody to answer
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return Reply{.status = 0};
        }
        buf.append(chunk, static_cast<size_t>(r));
        head_end = buf.find("\r\n\r\n");
        if ((head_end == std::string::npos ? buf.size() : head_end) > opt.limits.max_header_bytes)
            return error_reply(431, "request headers too large");
    }
    std::string_view head(buf.data(), head_end);
    size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1 || line.substr(sp2 + 1).substr(0, 5) != "HTTP/")
        return error_reply(400, "malformed request line");
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    const size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
    while (eol != std::string_view::npos) {
        const size_t start = eol + 2;
        eol = head.find("\r\n", start);
        std::string_view h = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
        const size_t colon = h.find(':');
        if (colon == std::string_view::npos || colon == 0) return error_reply(400, "malformed header line");
        const std::string name = lower(std::string(h.substr(0, colon)));
        if (req.headers.count(name) && (name == "host" || name == "origin" || name == "content-length"))
            return error_reply(400, fmt::format("duplicate {} header", name));
        req.headers[name] = trim(h.substr(colon + 1));
    }
    if (req.headers.count("transfer-encoding")) return error_reply(501, "chunked request bodies are not accepted");
    size_t length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
        const std::string& v = it->second;
        if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), ::isdigit))
            return error_reply(400, "malformed Content-Length");
        length = std::stoull(v);
        if (length > opt.limits.max_body_bytes)
            return error_reply(413, fmt::format("body over {} bytes", opt.limits.max_body_bytes));
    } else if (req.method == "POST") {
        return error_reply(411, "POST needs a Content-Length");
    }
    req.body = buf.substr(head_end + 4);
    if (req.body.size() > length) return error_reply(400, "more body bytes than Content-Length");
    while (req.body.size() < length) {
        if (stopping.load()) return error_reply(503, "server shutting down");
        if (!wait_fd(fd, POLLIN, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)))) {
            if (Clock::now() >= deadline) return error_reply(408, "the request body did not arrive in time");
            continue;
        }
        const ssize_t r = ::recv(fd, chunk, std::min(sizeof chunk, length - req.body.size()), 0);
        if (r == 0) return Reply{.status = 0};
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return Reply{.status = 0};
        }
        req.body.append(chunk, static_cast<size_t>(r));
    }
    return std::nullopt;
}

void HttpServer::Impl::serve(int fd) {
    Fd guard(fd);
    Request req;
    const auto deadline = Clock::now() + opt.limits.read_timeout;
    // An answer here means the request was refused before routing; status 0 means the client left.
    if (std::optional<Reply> early = read_request(fd, req, deadline)) {
        if (early->status != 0) write_reply(fd, nullptr, *early);
        return;
    }
    const Reply r = route(req);
    write_reply(fd, &req, r);
}

Reply HttpServer::Impl::route(const Request& req) {
    const std::string host = req.headers.count("host") ? req.headers.at("host") : "";
    if (host != fmt::format("127.0.0.1:{}", port) && host != fmt::format("localhost:{}", port))
        return error_reply(403, "Host must be 127.0.0.1:<port> or localhost:<port>");
    if (auto it = req.headers.find("origin"); it != req.headers.end()) {
        if (it->second != fmt::format("http://127.0.0.1:{}", port) && it->second != fmt::format("http://localhost:{}", port))
            return error_reply(403, "cross-origin requests are refused");
    }
    if (req.method == "POST") {
        if (req.path.rfind("/api/", 0) != 0) return error_reply(405, "POST only to /api/");
        std::string token = query_param(req.query, "token");
        if (auto it = req.headers.find("x-accel-token"); it != req.headers.end()) token = it->second;
        if (!constant_time_equal(token, opt.token)) return error_reply(401, "missing or wrong run token");
        const std::string name = req.path.substr(5);
        if (name == "log") {
            ACCEL_LOG_INFO("web page: {}", req.body.substr(0, 2000));
        } else if (name == "result") {
            std::lock_guard lock(m);
            messages.push_back({name, req.body});
            cv.notify_all();
        } else {
            return error_reply(404, "unknown endpoint");
        }
        return Reply{.status = 204};
    }
    if (req.method != "GET" && req.method != "HEAD") return error_reply(405, "only GET, HEAD and POST");
    if (req.path.find("..") != std::string::npos || req.path.find('\\') != std::string::npos ||
        req.path.find('%') != std::string::npos || req.path.find("//") != std::string::npos)
        return error_reply(400, "bad path");
    if (req.path == "/model.gguf") {
        if (opt.model_file.empty()) return error_reply(404, "no model");
        return serve_file(req, opt.model_file, true);
    }
    for (const auto& [prefix, dir] : opt.mounts) {
        if (req.path.rfind(prefix, 0) == 0 && req.path.size() > prefix.size())
            return serve_file(req, dir / req.path.substr(prefix.size()), true);
    }
    return error_reply(404, "not found");
}

Reply HttpServer::Impl::serve_file(const Request& req, const std::filesystem::path& file, bool ranges) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return error_reply(404, "not found");
    const uint64_t size = std::filesystem::file_size(file, ec);
    if (ec) return error_reply(404, "not found");
    Reply r{.status = 200, .content_type = mime_type(file), .file = file, .file_offset = 0, .file_length = size};
    r.headers.emplace_back("Accept-Ranges", "bytes");
    auto it = req.headers.find("range");
    if (!ranges || it == req.headers.end()) return r;
    // One range only ("bytes=a-b", "bytes=a-", "bytes=-n"): what fetch() and wllama send.
    const std::string& v = it->second;
    auto bad = [&] {
        Reply e = error_reply(416, "unsupported or unsatisfiable range");
        e.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
        return e;
    };
    if (v.rfind("bytes=", 0) != 0 || v.find(',') != std::string::npos) return bad();
    const std::string spec = v.substr(6);
    const size_t dash = spec.find('-');
    if (dash == std::string::npos) return bad();
    const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    auto digits = [](const std::string& s) { return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), ::isdigit); };
    uint64_t first = 0, last = 0;
    if (a.empty()) {
        if (!digits(b) || size == 0) return bad();
        const uint64_t n = std::min<uint64_t>(std::stoull(b), size);
        if (n == 0) return bad();
        first = size - n;
        last = size - 1;
    } else {
        if (!digits(a) || (!b.empty() && !digits(b))) return bad();
        first = std::stoull(a);
        last = b.empty() ? size - 1 : std::min<uint64_t>(std::stoull(b), size - 1);
        if (first >= size || last < first) return bad();
    }
    r.status = 206;
    r.file_offset = first;
    r.file_length = last - first + 1;
    r.headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", first, last, size));
    return r;
}

void HttpServer::Impl::write_reply(int fd, const Request* req, const Reply& r) {
    const auto deadline = Clock::now() + opt.limits.write_timeout;
    const uint64_t length = r.file.empty() ? r.body.size() : r.file_length;
    std::string head = fmt::format("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    head += fmt::format("Content-Type: {}\r\nContent-Length: {}\r\n", r.content_type, length);
    // Cross-origin isolation (SharedArrayBuffer for wllama's threads) and nothing readable by other origins.
    head += "Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n"
            "Cross-Origin-Resource-Policy: same-origin\r\nX-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) head += fmt::format("{}: {}\r\n", k, v);
    head += "\r\n";
    if (!send_all(fd, head.data(), head.size(), deadline)) return;
    if (req && req->method == "HEAD") return;
    if (r.file.empty()) {
        send_all(fd, r.body.data(), r.body.size(), deadline);
    } else {
        std::ifstream in(r.file, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(r.file_offset));
        std::vector<char> buf(64 * 1024);
        uint64_t left = r.file_length;
        while (left > 0 && in && !stopping.load()) {
            in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
            const auto got = static_cast<size_t>(in.gcount());
            if (got == 0 || !send_all(fd, buf.data(), got, deadline)) return;
            left -= got;
        }
    }
    // Let the client read the answer before the close, so it does not see a reset instead of, e.g., a 413.
    ::shutdown(fd, SHUT_WR);
    char sink[1024];
    const auto linger_until = std::min(deadline, Clock::now() + std::chrono::milliseconds(500));
    while (wait_fd(fd, POLLIN, linger_until)) {
        const ssize_t n = ::recv(fd, sink, sizeof sink, 0);
        if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN))) break;
    }
}

}  // namespace accel::web
