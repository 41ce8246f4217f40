#include "accel/net/http_client.h"

#include <httplib.h>

#include "accel/core/text.h"

namespace accel::net {
namespace {

httplib::Headers to_httplib(const HeaderList& a, const HeaderList& b) {
    httplib::Headers h;
    for (const auto& [k, v] : a) h.emplace(k, v);
    for (const auto& [k, v] : b) h.emplace(k, v);
    return h;
}

HttpResult from_httplib(const httplib::Result& res) {
    HttpResult out;
    if (!res) {
        out.error = httplib::to_string(res.error());
        return out;
    }
    out.status = res->status;
    for (const auto& [k, v] : res->headers) out.headers.emplace_back(lower(k), v);
    out.body = res->body;
    return out;
}

}  // namespace

const std::string* HttpResult::header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name) return &v;
    return nullptr;
}

struct HttpClient::Impl {
    HttpClientOptions opt;
    httplib::Client cli;
    Impl(const std::string& host, uint16_t port, HttpClientOptions o) : opt(std::move(o)), cli(host, port) {
        cli.set_connection_timeout(opt.connect_timeout);
        cli.set_read_timeout(opt.read_timeout);
        cli.set_write_timeout(opt.write_timeout);
        cli.set_keep_alive(opt.keep_alive);
    }
};

HttpClient::HttpClient(std::string host, uint16_t port, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(host, port, std::move(options))) {}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::get(const std::string& path, const HeaderList& headers) {
    return from_httplib(impl_->cli.Get(path, to_httplib(impl_->opt.default_headers, headers)));
}

HttpResult HttpClient::post(const std::string& path, std::string_view body, const std::string& content_type,
                            const HeaderList& headers) {
    return from_httplib(impl_->cli.Post(path, to_httplib(impl_->opt.default_headers, headers), body.data(), body.size(),
                                        content_type));
}

HttpResult HttpClient::post_streaming(const std::string& path, std::string_view body,
                                      const std::function<bool(std::string_view)>& on_data,
                                      const std::string& content_type, const HeaderList& headers) {
    const std::string payload(body);
    auto provider = [&payload](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(payload.data() + offset, length);
    };
    auto receiver = [&on_data](const char* data, size_t n) { return on_data(std::string_view(data, n)); };
    return from_httplib(impl_->cli.Post(path, to_httplib(impl_->opt.default_headers, headers), payload.size(), provider,
                                        content_type, receiver, nullptr));
}

}  // namespace accel::net
