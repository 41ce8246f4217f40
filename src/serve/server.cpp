#include "accel/serve/server.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <random>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/engine/chat.h"
#include "accel/engine/embedder.h"
#include "accel/engine/generator.h"
#include "accel/engine/session.h"
#include "accel/net/security.h"
#include "accel/net/sse.h"
#include "accel/pool/session_guard.h"
#include "accel/serve/openai_api.h"

namespace accel::serve {
namespace {

using net::HttpRequest;
using net::HttpResponse;

HttpResponse json_response(int status, std::string body) {
    return HttpResponse{.status = status, .content_type = "application/json", .body = std::move(body)};
}

HttpResponse error_response(const ApiError& e) {
    HttpResponse r = json_response(e.status(), e.json());
    if (e.status() == 503) r.headers.emplace_back("Retry-After", "1");
    if (e.status() == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Keeps one model request counted against --max-queue while it lives.
struct Admission {
    std::atomic<int32_t>& n;
    explicit Admission(std::atomic<int32_t>& counter) : n(counter) {}
    ~Admission() { --n; }
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;
};

// A completion from admission to its last byte: the lease outlives the session guard (declared after it).
struct Job {
    std::shared_ptr<Admission> admission;
    pool::Lease lease;
    std::optional<pool::SessionGuard> guard;
    CompletionRequest request;
    std::string prompt;
    engine::GenerateParams params;
    ResponseHeader header;
};

}  // namespace

struct Server::Impl {
    ServeOptions opt;
    ModelCatalog catalog;
    pool::ResourcePool& pool;
    LeaseRequestFactory make_request;
    std::unique_ptr<net::HttpServer> http;
    std::atomic<bool> stopping{false};
    std::atomic<int32_t> in_flight{0};
    std::atomic<uint64_t> n_requests{0}, n_errors{0}, n_tokens_prompt{0}, n_tokens_gen{0}, n_rejected{0};

    Impl(ServeOptions o, ModelCatalog c, pool::ResourcePool& p, LeaseRequestFactory f)
        : opt(std::move(o)), catalog(std::move(c)), pool(p), make_request(std::move(f)) {}

    HttpResponse handle(const HttpRequest& req);
    HttpResponse route(const HttpRequest& req);
    bool authorized(const HttpRequest& req) const;
    std::shared_ptr<Admission> admit();
    pool::Lease lease(const ServedModel& model, bool embeddings);
    const ServedModel& model_of(const std::string& id) const;
    HttpResponse complete(const HttpRequest& req, bool chat);
    void prepare(Job& job);
    HttpResponse complete_now(Job& job, const HttpRequest& req);
    HttpResponse complete_streaming(std::shared_ptr<Job> job);
    void stream(Job& job, net::StreamSink& sink);
    HttpResponse embeddings(const HttpRequest& req);
    HttpResponse models() const;
    HttpResponse metrics() const;
};

Server::Server(ServeOptions options, ModelCatalog catalog, pool::ResourcePool& pool, LeaseRequestFactory make_request)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(catalog), pool, std::move(make_request))) {
    const ServeOptions& o = impl_->opt;
    if (!net::is_loopback_host(o.host) && o.api_key.empty())
        throw Error(ErrorKind::invalid_input,
                    fmt::format("serve: listening on {} (not loopback) needs an API key: pass --api-key-file", o.host));
    if (o.max_queue < 1) throw Error(ErrorKind::invalid_input, "serve: --max-queue must be at least 1");
    net::HttpServerOptions http{.host = o.host, .port = o.port, .limits = o.limits,
                                .error_response = [](int status, std::string_view why) {
                                    return error_response(ApiError(status, std::string(why)));
                                }};
    Impl* impl = impl_.get();
    impl_->http = std::make_unique<net::HttpServer>(std::move(http), [impl](const HttpRequest& r) { return impl->handle(r); });
}

Server::~Server() { stop(); }

uint16_t Server::port() const { return impl_->http->port(); }
const std::string& Server::host() const { return impl_->http->host(); }

void Server::stop() {
    if (!impl_ || impl_->stopping.exchange(true)) return;
    impl_->http->stop();
}

HttpResponse Server::Impl::handle(const HttpRequest& req) {
    ++n_requests;
    HttpResponse r;
    try {
        r = route(req);
    } catch (const ApiError& e) {
        r = error_response(e);
    } catch (const Error& e) {
        const int status = e.kind() == ErrorKind::invalid_input ? 400
                           : e.kind() == ErrorKind::busy        ? 503
                                                                : 500;
        r = error_response(ApiError(status, e.what()));
    } catch (const std::exception& e) {
        r = error_response(ApiError(500, e.what()));
    }
    if (r.status >= 400) ++n_errors;
    return r;
}

bool Server::Impl::authorized(const HttpRequest& req) const {
    if (opt.api_key.empty()) return true;
    const std::string* h = req.header("authorization");
    const std::string_view prefix = "Bearer ";
    if (h == nullptr || h->size() < prefix.size() || std::string_view(*h).substr(0, prefix.size()) != prefix) return false;
    return net::constant_time_equal(std::string_view(*h).substr(prefix.size()), opt.api_key);
}

HttpResponse Server::Impl::route(const HttpRequest& req) {
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (req.path == "/health") return json_response(200, R"({"status":"ok"})");
    if (!authorized(req)) throw ApiError(401, "missing or wrong API key (send Authorization: Bearer <key>)", "", "invalid_api_key");
    if (req.path == "/metrics" && get) return metrics();
    if (req.path == "/v1/models") {
        if (!get) throw ApiError(405, "use GET for /v1/models");
        return models();
    }
    const bool chat = req.path == "/v1/chat/completions";
    if (chat || req.path == "/v1/completions" || req.path == "/v1/embeddings") {
        if (req.method != "POST") throw ApiError(405, "use POST for " + req.path);
        return req.path == "/v1/embeddings" ? embeddings(req) : complete(req, chat);
    }
    throw ApiError(404, "unknown endpoint " + req.path);
}

std::shared_ptr<Admission> Server::Impl::admit() {
    if (++in_flight > opt.max_queue) {
        --in_flight;
        ++n_rejected;
        throw ApiError(503, fmt::format("the server is busy ({} requests queued or running); retry later", opt.max_queue),
                       "", "queue_full");
    }
    return std::make_shared<Admission>(in_flight);
}

const ServedModel& Server::Impl::model_of(const std::string& id) const {
    const ServedModel* m = catalog.find(id);
    if (m == nullptr) throw ApiError(404, "the model '" + id + "' is not served here (see /v1/models)", "model", "model_not_found");
    return *m;
}

pool::Lease Server::Impl::lease(const ServedModel& model, bool embeddings) {
    // Embeddings: the context `accel embed` uses (several texts per decode).
    const pool::LoadOptions options = embeddings ? pool::LoadOptions{.n_ctx = 512, .n_seq = 8, .embeddings = true}
                                                 : pool::LoadOptions{.n_ctx = opt.n_ctx};
    pool::Request request = make_request(model.path, options);
    request.n_threads = opt.n_threads;
    try {
        return pool.acquire(request);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::busy || e.kind() == ErrorKind::out_of_memory)
            throw ApiError(503, "model '" + model.id + "' cannot be loaded now: " + e.what(), "model");
        throw ApiError(500, "model '" + model.id + "' failed to load: " + e.what(), "model", "model_load_failed");
    }
}

HttpResponse Server::Impl::complete(const HttpRequest& req, bool chat) {
    auto job = std::make_shared<Job>();
    job->request = parse_completion_request(req.body, chat);
    const ServedModel& model = model_of(job->request.model);
    job->admission = admit();
    job->lease = lease(model, false);
    job->guard.emplace(job->lease.session());
    job->header = {.id = (chat ? "chatcmpl-" : "cmpl-") + net::random_token().substr(0, 24), .created = unix_now(),
                   .model = model.id};
    prepare(*job);
    if (job->request.stream) return complete_streaming(std::move(job));
    return complete_now(*job, req);
}

// The prompt in the model's template (chat), its length against the context, and the sampling parameters.
void Server::Impl::prepare(Job& job) {
    const CompletionRequest& r = job.request;
    const engine::LoadedModel& model = job.guard->model();
    job.prompt = r.chat ? engine::apply_chat_template(model, r.messages) : r.prompt;
    const auto n_prompt = static_cast<int64_t>(engine::tokenize(model, job.prompt, true, r.chat).size());
    const int64_t n_ctx = job.guard->session().n_ctx();
    if (n_prompt >= n_ctx)
        throw ApiError(400, fmt::format("the prompt is {} tokens; the context is {}", n_prompt, n_ctx), "messages",
                       "context_length_exceeded");
    const int64_t n_predict = r.max_tokens ? *r.max_tokens : n_ctx - n_prompt;
    if (n_prompt + n_predict > n_ctx)
        throw ApiError(400, fmt::format("the prompt ({} tokens) plus max_tokens ({}) exceed the context of {} tokens",
                                        n_prompt, n_predict, n_ctx), "max_tokens", "context_length_exceeded");
    std::random_device rd;
    job.params = {.n_predict = static_cast<int32_t>(n_predict),
                  .sampling = {.temp = r.temperature, .top_k = 0, .top_p = r.top_p, .min_p = 0.0f,
                               .seed = r.seed ? *r.seed : rd()},
                  .stop = r.stop,
                  .parse_special = r.chat};
}

HttpResponse Server::Impl::complete_now(Job& job, const HttpRequest& req) {
    std::string text;
    const engine::GenerateStats st = engine::generate(job.guard->session(), job.prompt, job.params, [&](std::string_view p) {
        text += p;
        // A client that hung up gets nothing: stop at once and free the model for the next request.
        return !stopping.load() && !(req.client_gone && req.client_gone());
    });
    n_tokens_prompt += static_cast<uint64_t>(st.n_tokens_prompt);
    n_tokens_gen += static_cast<uint64_t>(st.n_tokens_gen);
    if (st.cancelled) throw ApiError(503, "the server is shutting down or the client left");
    return json_response(200, completion_json(job.header, job.request.chat, text, finish_reason(st),
                                              {.prompt_tokens = st.n_tokens_prompt, .completion_tokens = st.n_tokens_gen}));
}

HttpResponse Server::Impl::complete_streaming(std::shared_ptr<Job> job) {
    HttpResponse r{.status = 200, .content_type = "text/event-stream"};
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.stream = [this, job](net::StreamSink& sink) { stream(*job, sink); };
    return r;
}

void Server::Impl::stream(Job& job, net::StreamSink& sink) {
    const bool chat = job.request.chat;
    bool first = true;
    engine::GenerateStats st;
    try {
        st = engine::generate(job.guard->session(), job.prompt, job.params, [&](std::string_view piece) {
            const bool ok = sink.write(net::sse_event(completion_chunk_json(job.header, chat, piece, "", first)));
            first = false;
            return ok;
        });
    } catch (const std::exception& e) {
        // The head is sent: the error goes in the stream, as an event the OpenAI clients raise.
        sink.write(net::sse_event(ApiError(500, e.what()).json()));
        return;
    }
    n_tokens_prompt += static_cast<uint64_t>(st.n_tokens_prompt);
    n_tokens_gen += static_cast<uint64_t>(st.n_tokens_gen);
    if (st.cancelled) return;  // the client left or the server is stopping
    if (first) sink.write(net::sse_event(completion_chunk_json(job.header, chat, "", "", true)));
    sink.write(net::sse_event(completion_chunk_json(job.header, chat, "", finish_reason(st), false)));
    if (job.request.include_usage) {
        sink.write(net::sse_event(usage_chunk_json(
            job.header, chat, {.prompt_tokens = st.n_tokens_prompt, .completion_tokens = st.n_tokens_gen})));
    }
    sink.write(net::sse_event("[DONE]"));
}

HttpResponse Server::Impl::embeddings(const HttpRequest& req) {
    const EmbeddingRequest r = parse_embedding_request(req.body);
    const ServedModel& model = model_of(r.model);
    const auto admission = admit();
    const pool::Lease l = lease(model, true);
    const pool::SessionGuard guard = l.session();
    int64_t n_tokens = 0;
    for (const auto& text : r.input) n_tokens += static_cast<int64_t>(engine::tokenize(guard.model(), text, true).size());
    const auto vectors = engine::embed(guard.session(), r.input, {.normalize = true});
    n_tokens_prompt += static_cast<uint64_t>(n_tokens);
    return json_response(200, embeddings_json(model.id, vectors, r.base64, static_cast<int32_t>(n_tokens)));
}

HttpResponse Server::Impl::models() const {
    std::vector<ModelEntry> entries;
    for (const auto& m : catalog.models()) entries.push_back({.id = m.id, .created = m.created});
    return json_response(200, models_json(entries));
}

HttpResponse Server::Impl::metrics() const {
    std::string out;
    auto counter = [&](const char* name, const char* help, uint64_t v, const char* type = "counter") {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
    };
    counter("accel_serve_requests_total", "HTTP requests answered by the handler", n_requests.load());
    counter("accel_serve_errors_total", "requests answered with a 4xx or 5xx", n_errors.load());
    counter("accel_serve_rejected_total", "model requests refused with 503 because the queue was full", n_rejected.load());
    counter("accel_serve_prompt_tokens_total", "prompt tokens decoded (completions and embeddings)", n_tokens_prompt.load());
    counter("accel_serve_completion_tokens_total", "tokens generated", n_tokens_gen.load());
    counter("accel_serve_requests_in_flight", "model requests running or waiting", static_cast<uint64_t>(in_flight.load()),
            "gauge");
    return HttpResponse{.status = 200, .content_type = "text/plain; version=0.0.4", .body = std::move(out)};
}

}  // namespace accel::serve
