#include "accel/net/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <httplib.h>

#include "accel/core/error.h"
#include "accel/core/text.h"

namespace accel::net {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until fd is ready for `events` or the deadline passes. False on timeout or error.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{.fd = fd, .events = events, .revents = 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 200)));
        if (r > 0) return (p.revents & (POLLERR | POLLNVAL)) == 0;
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

// True when the peer has closed its side (or the socket failed); a request's bytes were all read before.
bool peer_gone(int fd) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return true;
    char c;
    const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
                       : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    if (r != 0) return;
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    ip = buf;
    port = ntohs(a.sin_port);
}

// A request accel has already read whole (under its limits), handed to cpp-httplib to parse; the answer goes
// straight to the socket under the write timeout.
class BufferedStream final : public httplib::Stream {
public:
    BufferedStream(int fd, std::string data, std::chrono::milliseconds write_timeout, const std::atomic<bool>& stopping)
        : fd_(fd), data_(std::move(data)), write_timeout_(write_timeout), stopping_(stopping) {}

    bool is_readable() const override { return pos_ < data_.size(); }
    bool wait_readable() const override { return true; }
    bool wait_writable() const override {
        return !stopping_.load() && wait_fd(fd_, POLLOUT, Clock::now() + write_timeout_) && !peer_gone(fd_);
    }
    ssize_t read(char* ptr, size_t size) override {
        const size_t n = std::min(size, data_.size() - pos_);
        std::memcpy(ptr, data_.data() + pos_, n);
        pos_ += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t write(const char* ptr, size_t size) override {
        // The answer's head comes first, in one write: cpp-httplib says there whether it closes the connection
        // (an error status, a client's Connection: close).
        if (!head_written_) {
            head_written_ = true;
            closes_ = std::string_view(ptr, size).find("\r\nConnection: close\r\n") != std::string_view::npos;
        }
        return send_all(fd_, ptr, size, Clock::now() + write_timeout_) ? static_cast<ssize_t>(size) : -1;
    }
    bool closes() const { return closes_ || !head_written_; }
    void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(fd_, true, ip, port); }
    void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(fd_, false, ip, port); }
    socket_t socket() const override { return fd_; }
    time_t duration() const override { return 0; }

private:
    int fd_;
    std::string data_;
    size_t pos_ = 0;
    bool head_written_ = false;
    bool closes_ = false;
    std::chrono::milliseconds write_timeout_;
    const std::atomic<bool>& stopping_;
};

class SinkAdapter final : public StreamSink {
public:
    SinkAdapter(httplib::DataSink& sink, std::function<bool()> closed, const std::atomic<bool>& stopping)
        : sink_(sink), closed_(std::move(closed)), stopping_(stopping) {}
    bool write(std::string_view bytes) override {
        if (cancelled()) return false;
        if (bytes.empty()) return true;
        if (!sink_.write(bytes.data(), bytes.size())) failed_ = true;
        return !failed_;
    }
    bool cancelled() const override { return failed_ || stopping_.load() || (closed_ && closed_()); }

private:
    httplib::DataSink& sink_;
    std::function<bool()> closed_;
    const std::atomic<bool>& stopping_;
    bool failed_ = false;
};

// The outcome of reading a request: the bytes, or a refusal (status 0: the client left, nobody to answer).
struct PreRead {
    int status = 200;
    std::string why;
    std::string bytes;
};

PreRead refuse(int status, std::string why) { return PreRead{.status = status, .why = std::move(why)}; }

}  // namespace

bool is_loopback_host(std::string_view host) {
    if (host == "localhost") return true;
    in_addr a{};
    if (::inet_pton(AF_INET, std::string(host).c_str(), &a) != 1) return false;
    return (ntohl(a.s_addr) >> 24) == 127;
}

// cpp-httplib's parser and response writer, fed one request that accel has already read.
class HttplibEngine final : public httplib::Server {
public:
    explicit HttplibEngine(const Handler& handler) {
        Get(".*", handler);
        Post(".*", handler);
        Put(".*", handler);
        Patch(".*", handler);
        Delete(".*", handler);
        Options(".*", handler);
    }
    // Content providers stop once the "listener" is gone: it is set to accel's listening socket while serving.
    void set_listening(int fd) { svr_sock_ = fd; }
    // One request; true when the connection may carry another (keep_alive, the answer fully written, and neither
    // side said Connection: close).
    bool serve(httplib::Stream& strm, bool keep_alive) {
        std::string ra, la;
        int rp = 0, lp = 0;
        strm.get_remote_ip_and_port(ra, rp);
        strm.get_local_ip_and_port(la, lp);
        bool closed = false;
        // accel's handlers answer ranges themselves; httplib would otherwise cut the body a second time.
        const bool ok = process_request(strm, ra, rp, la, lp, !keep_alive, closed,
                                        [](httplib::Request& r) { r.ranges.clear(); });
        return keep_alive && ok && !closed;
    }
};

struct HttpServer::Impl {
    HttpServerOptions opt;
    HttpHandler handler;
    std::string host;
    int listen_fd = -1;
    uint16_t port = 0;
    std::atomic<bool> stopping{false};
    std::atomic<int64_t> open{0};
    std::atomic<int64_t> accepted_total{0};
    std::atomic<int64_t> idle{0};  // keep-alive connections waiting for their next request
    std::atomic<int64_t> shed{0};  // how many idle connections the acceptor asks to close (room for a new one)
    std::unique_ptr<HttplibEngine> engine;
    std::thread acceptor;
    std::mutex m;
    std::list<std::thread> workers;  // joined on stop
    std::list<std::thread::id> finished;

    void bind_listener();
    void accept_loop();
    void reap();
    void serve(int fd, Clock::time_point accepted);
    PreRead read_request(int fd, Clock::time_point deadline, std::string& carry) const;
    bool wait_next_request(int fd);
    bool make_room(Clock::time_point accepted);
    PreRead check_head(std::string_view head) const;
    HttpResponse error(int status, std::string_view why) const;
    void write_raw(int fd, const HttpResponse& r, Clock::time_point deadline) const;
    void linger_close(int fd) const;
    void answer(const httplib::Request& in, httplib::Response& out) const;
};

HttpResponse HttpServer::Impl::error(int status, std::string_view why) const {
    if (opt.error_response) return opt.error_response(status, why);
    return HttpResponse{.status = status, .body = fmt::format("{} {}: {}\n", status, reason_phrase(status), why)};
}

void HttpServer::Impl::bind_listener() {
    host = opt.host == "localhost" ? "127.0.0.1" : opt.host;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(opt.port);
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
        throw Error(ErrorKind::invalid_input, fmt::format("net: '{}' is not an IPv4 address (or localhost)", opt.host));
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw Error(ErrorKind::io, fmt::format("net: socket: {}", std::strerror(errno)));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error(ErrorKind::io, fmt::format("net: cannot listen on {}:{}: {}", host, opt.port, std::strerror(e)));
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    listen_fd = fd;
    port = ntohs(addr.sin_port);
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler) : impl_(std::make_unique<Impl>()) {
    impl_->opt = std::move(options);
    impl_->handler = std::move(handler);
    impl_->bind_listener();
    Impl* impl = impl_.get();
    impl_->engine = std::make_unique<HttplibEngine>(
        [impl](const httplib::Request& in, httplib::Response& out) { impl->answer(in, out); });
    impl_->engine->set_listening(impl_->listen_fd);
    if (impl_->opt.limits.keep_alive_idle.count() > 0) {  // what the Keep-Alive answer header says
        impl_->engine->set_keep_alive_timeout(std::max<time_t>(
            1, std::chrono::duration_cast<std::chrono::seconds>(impl_->opt.limits.keep_alive_idle).count()));
        impl_->engine->set_keep_alive_max_count(static_cast<size_t>(impl_->opt.limits.keep_alive_max_requests));
    }
    impl_->acceptor = std::thread([impl] { impl->accept_loop(); });
}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const { return impl_->port; }
const std::string& HttpServer::host() const { return impl_->host; }
int64_t HttpServer::n_open_connections() const { return impl_->open.load(); }
int64_t HttpServer::n_accepted_connections() const { return impl_->accepted_total.load(); }
int64_t HttpServer::n_idle_connections() const { return impl_->idle.load(); }
bool HttpServer::stopping() const { return impl_->stopping.load(); }

void HttpServer::stop() {
    if (!impl_ || impl_->stopping.exchange(true)) return;
    impl_->engine->set_listening(-1);
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
        const auto accepted = Clock::now();
        ++accepted_total;
        // The head and the body go out in separate writes: without this, Nagle and delayed ACKs add ~40 ms.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        reap();
        if (open.load() >= opt.limits.max_connections && !make_room(accepted)) {
            HttpResponse busy = error(503, "too many connections");
            busy.headers.emplace_back("Retry-After", "1");
            write_raw(fd, busy, accepted + std::chrono::seconds(1));
            linger_close(fd);
            continue;
        }
        ++open;
        std::lock_guard lock(m);
        workers.emplace_back([this, fd, accepted] {
            serve(fd, accepted);
            --open;
            std::lock_guard l(m);
            finished.push_back(std::this_thread::get_id());
        });
    }
}

PreRead HttpServer::Impl::check_head(std::string_view head) const {
    size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1 || line.substr(sp2 + 1).substr(0, 5) != "HTTP/")
        return refuse(400, "malformed request line");
    const std::string method(line.substr(0, sp1));
    std::vector<std::string> seen;
    std::optional<std::string> length;
    while (eol != std::string_view::npos) {
        const size_t start = eol + 2;
        eol = head.find("\r\n", start);
        const std::string_view h = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
        const size_t colon = h.find(':');
        if (colon == std::string_view::npos || colon == 0) return refuse(400, "malformed header line");
        const std::string name = lower(h.substr(0, colon));
        if (name == "host" || name == "origin" || name == "content-length") {
            if (std::find(seen.begin(), seen.end(), name) != seen.end())
                return refuse(400, fmt::format("duplicate {} header", name));
            seen.push_back(name);
        }
        if (name == "transfer-encoding") return refuse(501, "request bodies with a Transfer-Encoding are not accepted");
        if (name == "content-length") {
            std::string_view v = h.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
            length = std::string(v);
        }
    }
    if (length) {
        const std::string& v = *length;
        if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return refuse(400, "malformed Content-Length");
        if (std::stoull(v) > opt.limits.max_body_bytes)
            return refuse(413, fmt::format("body over {} bytes", opt.limits.max_body_bytes));
        return PreRead{.status = 200, .why = v};
    }
    if (method == "POST" || method == "PUT" || method == "PATCH") return refuse(411, "a body needs a Content-Length");
    return PreRead{.status = 200, .why = "0"};
}

PreRead HttpServer::Impl::read_request(int fd, Clock::time_point deadline, std::string& carry) const {
    std::string buf = std::move(carry);
    carry.clear();
    size_t head_end = std::string::npos, want = 0;
    char chunk[4096];
    for (;;) {
        if (head_end == std::string::npos && !buf.empty()) {
            head_end = buf.find("\r\n\r\n");
            if ((head_end == std::string::npos ? buf.size() : head_end) > opt.limits.max_header_bytes)
                return refuse(431, "request headers too large");
            if (head_end != std::string::npos) {
                PreRead head = check_head(std::string_view(buf).substr(0, head_end));
                if (head.status != 200) return head;
                want = head_end + 4 + std::stoull(head.why);
            }
        }
        if (head_end != std::string::npos && buf.size() >= want) break;
        if (stopping.load()) return refuse(503, "server shutting down");
        if (!wait_fd(fd, POLLIN, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)))) {
            if (Clock::now() >= deadline) return refuse(408, "the request did not arrive in time");
            continue;
        }
        const size_t cap = head_end == std::string::npos ? sizeof chunk : std::min(sizeof chunk, want - buf.size());
        const ssize_t r = ::recv(fd, chunk, cap, 0);
        if (r == 0) return refuse(0, "client left");
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return refuse(0, "client left");
        }
        buf.append(chunk, static_cast<size_t>(r));
    }
    if (buf.size() > want) {
        // The start of the next request (a pipelining client): kept for it, or refused without keep-alive.
        if (opt.limits.keep_alive_idle.count() <= 0) return refuse(400, "more body bytes than Content-Length");
        carry = buf.substr(want);
        buf.resize(want);
    }
    return PreRead{.status = 200, .bytes = std::move(buf)};
}

// Between two requests of a keep-alive connection: true once the next request's bytes arrive; false after the idle
// time, when the server stops, or when the acceptor needs the slot for a new connection.
bool HttpServer::Impl::wait_next_request(int fd) {
    const auto until = Clock::now() + opt.limits.keep_alive_idle;
    ++idle;
    bool ready = false;
    while (!stopping.load() && Clock::now() < until) {
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        const int r = ::poll(&p, 1, 20);
        if (r > 0) {
            ready = true;
            break;
        }
        if (r < 0 && errno != EINTR) break;
        int64_t want = shed.load();
        if (want > 0 && shed.compare_exchange_strong(want, want - 1)) break;
    }
    --idle;
    return ready;
}

// At the connection cap: asks one idle keep-alive connection to close and waits briefly for the slot. False when
// none is idle or none closed in time (the new connection then gets 503).
bool HttpServer::Impl::make_room(Clock::time_point accepted) {
    if (idle.load() <= 0) return false;
    shed.store(1);
    const auto until = accepted + std::chrono::milliseconds(250);
    while (open.load() >= opt.limits.max_connections && Clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    shed.store(0);  // the acceptor is the only one that asks, and it asks no more
    return open.load() < opt.limits.max_connections;
}

void HttpServer::Impl::write_raw(int fd, const HttpResponse& r, Clock::time_point deadline) const {
    std::string head = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", r.status,
                                   reason_phrase(r.status), r.content_type, r.body.size());
    for (const auto& [k, v] : opt.default_headers) head += fmt::format("{}: {}\r\n", k, v);
    for (const auto& [k, v] : r.headers) head += fmt::format("{}: {}\r\n", k, v);
    head += "Connection: close\r\n\r\n";
    if (send_all(fd, head.data(), head.size(), deadline)) send_all(fd, r.body.data(), r.body.size(), deadline);
}

// Lets the client read the answer before the close, so that it does not see a reset instead of, e.g., a 413.
void HttpServer::Impl::linger_close(int fd) const {
    ::shutdown(fd, SHUT_WR);
    char sink[1024];
    const auto until = Clock::now() + std::chrono::milliseconds(stopping.load() ? 0 : 500);
    while (wait_fd(fd, POLLIN, until)) {
        const ssize_t n = ::recv(fd, sink, sizeof sink, 0);
        if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN))) break;
    }
    ::close(fd);
}

void HttpServer::Impl::serve(int fd, Clock::time_point accepted) {
    const bool keep_alive = opt.limits.keep_alive_idle.count() > 0;
    std::string carry;  // bytes of the next request that came with this one
    Clock::time_point start = accepted;
    for (int n = 1;; ++n) {
        PreRead in = read_request(fd, start + opt.limits.read_timeout, carry);
        if (in.status != 200) {
            if (in.status != 0) write_raw(fd, error(in.status, in.why), Clock::now() + opt.limits.write_timeout);
            break;
        }
        BufferedStream strm(fd, std::move(in.bytes), opt.limits.write_timeout, stopping);
        const bool more = engine->serve(strm, keep_alive && n < opt.limits.keep_alive_max_requests);
        if (!more || strm.closes() || stopping.load()) break;
        if (carry.empty() && !wait_next_request(fd)) {
            // Idle: no answer in flight to protect, so no lingering (the slot may be wanted now).
            ::close(fd);
            return;
        }
        start = Clock::now();
    }
    linger_close(fd);
}

void HttpServer::Impl::answer(const httplib::Request& in, httplib::Response& out) const {
    HttpRequest req{.method = in.method, .target = in.target, .path = in.path, .body = in.body,
                    .remote_addr = in.remote_addr, .client_gone = in.is_connection_closed};
    for (const auto& [k, v] : in.params) req.params.emplace(k, v);
    for (const auto& [k, v] : in.headers) req.headers.emplace_back(lower(k), v);
    HttpResponse r;
    try {
        r = handler(req);
    } catch (const std::exception& e) {
        r = error(500, e.what());
    }
    out.status = r.status;
    for (const auto& [k, v] : opt.default_headers) out.set_header(k, v);
    for (const auto& [k, v] : r.headers) out.set_header(k, v);
    if (r.stream) {
        auto stream = std::move(r.stream);
        const std::atomic<bool>* stop_flag = &stopping;
        auto closed = in.is_connection_closed;  // the client's side of the socket, asked without reading
        out.set_chunked_content_provider(r.content_type, [stream, stop_flag, closed](size_t, httplib::DataSink& sink) {
            SinkAdapter adapter(sink, closed, *stop_flag);
            stream(adapter);
            sink.done();
            return true;
        });
    } else if (!r.file.empty() && r.file_length > 0) {
        const std::filesystem::path file = r.file;
        const uint64_t first = r.file_offset;
        const std::atomic<bool>* stop_flag = &stopping;
        out.set_content_provider(r.file_length, r.content_type,
                                 [file, first, stop_flag](size_t offset, size_t length, httplib::DataSink& sink) {
            std::ifstream f(file, std::ios::binary);
            f.seekg(static_cast<std::streamoff>(first + offset));
            std::vector<char> buf(64 * 1024);
            while (length > 0 && f && !stop_flag->load()) {
                f.read(buf.data(), static_cast<std::streamsize>(std::min(length, buf.size())));
                const auto got = static_cast<size_t>(f.gcount());
                if (got == 0 || !sink.write(buf.data(), got)) return false;
                length -= got;
            }
            return length == 0;
        });
    } else {
        out.set_content(std::move(r.body), r.content_type);
    }
}

}  // namespace accel::net
