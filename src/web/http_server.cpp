#include "accel/web/http_server.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/net/security.h"

namespace accel::web {
namespace {

using net::HttpRequest;
using net::HttpResponse;

HttpResponse error_reply(int status, std::string_view why) {
    return HttpResponse{.status = status, .body = fmt::format("{} {}: {}\n", status, net::reason_phrase(status), why)};
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

bool digits(const std::string& s) {
    return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One range only ("bytes=a-b", "bytes=a-", "bytes=-n"): what fetch() and wllama send. False: unsatisfiable.
bool parse_range(const std::string& v, uint64_t size, uint64_t& first, uint64_t& last) {
    if (v.rfind("bytes=", 0) != 0 || v.find(',') != std::string::npos) return false;
    const std::string spec = v.substr(6);
    const size_t dash = spec.find('-');
    if (dash == std::string::npos) return false;
    const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    if (a.empty()) {
        if (!digits(b) || size == 0) return false;
        const uint64_t n = std::min<uint64_t>(std::stoull(b), size);
        if (n == 0) return false;
        first = size - n;
        last = size - 1;
        return true;
    }
    if (!digits(a) || (!b.empty() && !digits(b))) return false;
    first = std::stoull(a);
    last = b.empty() ? size - 1 : std::min<uint64_t>(std::stoull(b), size - 1);
    return first < size && last >= first;
}

HttpResponse serve_file(const HttpRequest& req, const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return error_reply(404, "not found");
    const uint64_t size = std::filesystem::file_size(file, ec);
    if (ec) return error_reply(404, "not found");
    HttpResponse r{.status = 200, .content_type = mime_type(file), .file = file, .file_offset = 0, .file_length = size};
    r.headers.emplace_back("Accept-Ranges", "bytes");
    const std::string* range = req.header("range");
    if (range == nullptr) return r;
    uint64_t first = 0, last = 0;
    if (!parse_range(*range, size, first, last)) {
        HttpResponse e = error_reply(416, "unsupported or unsatisfiable range");
        e.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
        return e;
    }
    r.status = 206;
    r.file_offset = first;
    r.file_length = last - first + 1;
    r.headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", first, last, size));
    return r;
}

}  // namespace

std::string make_token() { return net::random_token(); }

bool constant_time_equal(std::string_view a, std::string_view b) { return net::constant_time_equal(a, b); }

struct HttpServer::Impl {
    ServerOptions opt;
    std::mutex m;
    std::condition_variable cv;
    std::deque<PostedMessage> messages;
    std::unique_ptr<net::HttpServer> server;

    HttpResponse route(const HttpRequest& req);
    HttpResponse post(const HttpRequest& req);
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->opt = std::move(options);
    const auto& t = impl_->opt.token;
    if (t.size() != 32 || !std::all_of(t.begin(), t.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
        throw Error(ErrorKind::invalid_input, "web: the server token must be 32 hex digits (128 bits)");
    // Cross-origin isolation (SharedArrayBuffer for wllama's threads) and nothing readable by other origins, on every
    // answer, refusals included.
    net::HttpServerOptions o{.host = "127.0.0.1", .port = 0, .limits = impl_->opt.limits,
                             .default_headers = {{"Cross-Origin-Opener-Policy", "same-origin"},
                                                 {"Cross-Origin-Embedder-Policy", "require-corp"},
                                                 {"Cross-Origin-Resource-Policy", "same-origin"},
                                                 {"X-Content-Type-Options", "nosniff"},
                                                 {"Cache-Control", "no-store"},
                                                 {"Referrer-Policy", "no-referrer"}}};
    Impl* impl = impl_.get();
    impl_->server = std::make_unique<net::HttpServer>(std::move(o), [impl](const HttpRequest& r) { return impl->route(r); });
}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const { return impl_->server->port(); }
std::string HttpServer::origin() const { return fmt::format("http://127.0.0.1:{}", port()); }
int64_t HttpServer::n_open_connections() const { return impl_->server->n_open_connections(); }

std::optional<PostedMessage> HttpServer::wait_message(std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->m);
    if (!impl_->cv.wait_for(lock, timeout, [&] { return !impl_->messages.empty(); })) return std::nullopt;
    PostedMessage msg = std::move(impl_->messages.front());
    impl_->messages.pop_front();
    return msg;
}

void HttpServer::stop() {
    if (impl_ && impl_->server) impl_->server->stop();
}

HttpResponse HttpServer::Impl::post(const HttpRequest& req) {
    if (req.path.rfind("/api/", 0) != 0) return error_reply(405, "POST only to /api/");
    std::string token = req.param("token");
    if (const std::string* h = req.header("x-accel-token")) token = *h;
    if (!net::constant_time_equal(token, opt.token)) return error_reply(401, "missing or wrong run token");
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
    return HttpResponse{.status = 204};
}

HttpResponse HttpServer::Impl::route(const HttpRequest& req) {
    const uint16_t port = server->port();
    const std::string* host = req.header("host");
    if (host == nullptr || (*host != fmt::format("127.0.0.1:{}", port) && *host != fmt::format("localhost:{}", port)))
        return error_reply(403, "Host must be 127.0.0.1:<port> or localhost:<port>");
    if (const std::string* origin = req.header("origin")) {
        if (*origin != fmt::format("http://127.0.0.1:{}", port) && *origin != fmt::format("http://localhost:{}", port))
            return error_reply(403, "cross-origin requests are refused");
    }
    if (req.method == "POST") return post(req);
    if (req.method != "GET" && req.method != "HEAD") return error_reply(405, "only GET, HEAD and POST");
    // The path is already percent-decoded, so "%2e%2e" arrives as "..".
    if (req.path.find("..") != std::string::npos || req.path.find('\\') != std::string::npos ||
        req.path.find('%') != std::string::npos || req.path.find("//") != std::string::npos)
        return error_reply(400, "bad path");
    if (req.path == "/model.gguf") {
        if (opt.model_file.empty()) return error_reply(404, "no model");
        return serve_file(req, opt.model_file);
    }
    for (const auto& [prefix, dir] : opt.mounts) {
        if (req.path.rfind(prefix, 0) == 0 && req.path.size() > prefix.size())
            return serve_file(req, dir / req.path.substr(prefix.size()));
    }
    return error_reply(404, "not found");
}

}  // namespace accel::web
