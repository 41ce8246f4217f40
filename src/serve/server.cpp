#include "accel/serve/server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <random>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/version.h"
#include "accel/engine/chat.h"
#include "accel/engine/embedder.h"
#include "accel/engine/generator.h"
#include "accel/engine/session.h"
#include "accel/hw/memory_info.h"
#include "accel/net/security.h"
#include "accel/net/sse.h"
#include "accel/pool/session_guard.h"
#include "accel/serve/openai_api.h"
#include "server_impl.h"

namespace accel::serve {

using net::HttpRequest;
using net::HttpResponse;

HttpResponse json_response(int status, std::string body) {
    return HttpResponse{.status = status, .content_type = "application/json", .body = std::move(body)};
}

namespace {

HttpResponse error_response(const ApiError& e) {
    HttpResponse r = json_response(e.status(), e.json());
    if (e.status() == 503) r.headers.emplace_back("Retry-After", "1");
    if (e.status() == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Where a request ran, in its answer's headers (streams too: they are sent before the first token).
void add_placement_headers(HttpResponse& r, const std::string& model_id, const pool::Lease& lease) {
    r.headers.emplace_back("X-Accel-Model", model_id);
    r.headers.emplace_back("X-Accel-Device", lease.device());
    r.headers.emplace_back("X-Accel-Pool", lease.hit() ? "hit" : "load");
}

// Moves the job's new pieces to out, waiting up to 50 ms for something to happen. Returns true once the job is done
// (its last pieces included).
bool take_pieces(GenJob& job, std::vector<std::string>& out) {
    std::unique_lock lock(job.mu);
    job.cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return job.done || !job.pieces.empty(); });
    out.clear();
    out.swap(job.pieces);
    return job.done;
}

Usage usage_of(const GenJob& job) {
    return {.prompt_tokens = static_cast<int32_t>(job.query.prompt.size()), .completion_tokens = job.n_gen};
}

std::string finish_of(const GenJob& job) {
    return finish_reason({.stopped_by_eog = job.stopped_by_eog, .stopped_by_string = job.stopped_by_string});
}

}  // namespace

Server::Server(ServeOptions options, ModelCatalog catalog, pool::ResourcePool& pool, LeaseRequestFactory make_request)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(catalog), pool, std::move(make_request))) {
    const ServeOptions& o = impl_->opt;
    if (!net::is_loopback_host(o.host) && o.api_key.empty())
        throw Error(ErrorKind::invalid_input,
                    fmt::format("serve: listening on {} (not loopback) needs an API key: pass --api-key-file", o.host));
    if (o.max_queue < 1) throw Error(ErrorKind::invalid_input, "serve: --max-queue must be at least 1");
    if (o.parallel < 1 || o.parallel > 256) throw Error(ErrorKind::invalid_input, "serve: --parallel must be 1 to 256");
    impl_->prompt_cache_bytes = Impl::prompt_cache_budget(o.cache_ram_mib);
    // Server: accel/<version> on every answer, so a client (bench --target, the report) can tell what it measured.
    net::HttpServerOptions http{.host = o.host, .port = o.port, .limits = o.limits,
                                .default_headers = {{"Server", fmt::format("accel/{}", build_info().accel_version)}},
                                .error_response = [](int status, std::string_view why) {
                                    return error_response(ApiError(status, std::string(why)));
                                }};
    Impl* impl = impl_.get();
    impl_->http = std::make_unique<net::HttpServer>(std::move(http), [impl](const HttpRequest& r) { return impl->handle(r); });
}

Server::~Server() { stop(); }

size_t Server::Impl::prompt_cache_budget(uint64_t cache_ram_mib) {
    const uint64_t wanted = cache_ram_mib * 1024 * 1024;
    if (wanted == 0) return 0;
    try {
        return static_cast<size_t>(std::min(wanted, hw::read_memory().effective_total_bytes() / 4));
    } catch (const Error& e) {
        ACCEL_LOG_WARN("serve: host memory unknown ({}); --cache-ram {} MiB taken as is", e.what(), cache_ram_mib);
        return static_cast<size_t>(wanted);
    }
}

uint16_t Server::port() const { return impl_->http->port(); }
const std::string& Server::host() const { return impl_->http->host(); }

void Server::stop() {
    if (!impl_ || impl_->stopping.exchange(true)) return;
    // Connections see `stopping` (streams: their sink is cancelled) and cancel their jobs; the workers end them at
    // their next step. Then the workers stop, giving their sessions and leases back.
    impl_->http->stop();
    std::lock_guard lock(impl_->workers_mu);
    for (auto& [key, w] : impl_->workers) w->stop();
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
    if (req.path == "/api/ps") {
        if (!get) throw ApiError(405, "use GET for /api/ps");
        return ps();
    }
    if (req.path == "/api/load" || req.path == "/api/unload" || req.path == "/api/pin") {
        if (req.method != "POST") throw ApiError(405, "use POST for " + req.path);
        return req.path == "/api/load" ? load(req) : req.path == "/api/unload" ? unload(req) : pin(req);
    }
    const bool chat = req.path == "/v1/chat/completions";
    if (chat || req.path == "/v1/completions" || req.path == "/v1/embeddings") {
        if (req.method != "POST") throw ApiError(405, "use POST for " + req.path);
        return req.path == "/v1/embeddings" ? embeddings(req) : complete(req, chat);
    }
    throw ApiError(404, "unknown endpoint " + req.path);
}

const ServedModel& Server::Impl::model_of(const std::string& id) const {
    const ServedModel* m = catalog.find(id);
    if (m == nullptr) throw ApiError(404, "the model '" + id + "' is not served here (see /v1/models)", "model", "model_not_found");
    return *m;
}

// A generation model: --parallel sequences of --ctx tokens each (llama.cpp splits the context between them).
pool::LoadOptions Server::Impl::generation_options() const {
    const auto n_seq = static_cast<uint32_t>(opt.parallel);
    return pool::LoadOptions{.n_ctx = opt.n_ctx * n_seq, .n_seq = n_seq};
}

pool::Lease Server::Impl::lease(const ServedModel& model, bool embeddings,
                                std::optional<std::chrono::milliseconds> keep_alive) {
    // Embeddings: the context `accel embed` uses (several texts per decode).
    const pool::LoadOptions options = embeddings ? pool::LoadOptions{.n_ctx = 512, .n_seq = 8, .embeddings = true}
                                                 : generation_options();
    pool::Request request = make_request(model.path, options);
    request.n_threads = opt.n_threads;
    request.keep_alive = keep_alive;
    try {
        pool::Lease l = pool.acquire(request);
        if (!l.hit()) {
            std::lock_guard lock(loads_mu);
            ++loads[{model.id, l.device()}];
        }
        return l;
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::busy || e.kind() == ErrorKind::out_of_memory)
            throw ApiError(503, "model '" + model.id + "' cannot be loaded now: " + e.what(), "model");
        throw ApiError(500, "model '" + model.id + "' failed to load: " + e.what(), "model", "model_load_failed");
    }
}

ModelWorker& Server::Impl::worker(const std::string& model_id, const std::string& device) {
    std::lock_guard lock(workers_mu);
    auto& w = workers[model_id + "\n" + device];
    if (!w) w = std::make_unique<ModelWorker>(model_id, device, prompt_cache_bytes);
    return *w;
}

HttpResponse Server::Impl::complete(const HttpRequest& req, bool chat) {
    const auto arrival = SteadyClock::now();
    const CompletionRequest r = parse_completion_request(req.body, chat);
    const ServedModel& served = model_of(r.model);
    auto job = std::make_shared<GenJob>();
    // Admission: past --max-queue waiting requests, 503 at once.
    if (++waiting > opt.max_queue) {
        --waiting;
        ++n_rejected;
        throw ApiError(503, fmt::format("the server is busy ({} requests wait for a sequence); retry later", opt.max_queue),
                       "", "queue_full");
    }
    job->waiting = std::make_unique<WaitTicket>(waiting);
    ++in_flight;
    job->in_flight = std::make_unique<WaitTicket>(in_flight);
    job->t_arrival = arrival;
    job->lease = std::make_shared<pool::Lease>(lease(served, false, r.keep_alive));
    const engine::LoadedModel& model = job->lease->model();

    // The prompt in the model's template (chat), its length against a sequence's context, the sampling parameters.
    const std::string prompt = r.chat ? engine::apply_chat_template(model, r.messages) : r.prompt;
    std::vector<int32_t> tokens = engine::tokenize(model, prompt, true, r.chat);
    if (tokens.empty()) {
        if (model.bos() < 0) throw ApiError(400, "an empty prompt needs a model with a BOS token", "prompt");
        tokens.push_back(model.bos());
    }
    const auto n_prompt = static_cast<int64_t>(tokens.size());
    const int64_t n_ctx = opt.n_ctx;
    if (n_prompt >= n_ctx)
        throw ApiError(400, fmt::format("the prompt is {} tokens; the context is {}", n_prompt, n_ctx), "messages",
                       "context_length_exceeded");
    const int64_t n_predict = r.max_tokens ? *r.max_tokens : n_ctx - n_prompt;
    if (n_prompt + n_predict > n_ctx)
        throw ApiError(400, fmt::format("the prompt ({} tokens) plus max_tokens ({}) exceed the context of {} tokens",
                                        n_prompt, n_predict, n_ctx), "max_tokens", "context_length_exceeded");
    std::random_device rd;
    job->id = next_job++;
    job->query = {.prompt = std::move(tokens),
                  .n_gen = static_cast<int32_t>(n_predict),
                  .sampling = {.temp = r.temperature, .top_k = 0, .top_p = r.top_p, .min_p = 0.0f,
                               .seed = r.seed ? *r.seed : rd()}};
    job->starts_document = prompt.empty();
    job->filter.emplace(r.stop);
    const ResponseHeader header{.id = (chat ? "chatcmpl-" : "cmpl-") + net::random_token().substr(0, 24),
                                .created = unix_now(), .model = served.id};
    ModelWorker* w = nullptr;
    if (n_predict > 0) {
        w = &worker(served.id, job->lease->device());
        w->submit(job);
    } else {
        job->done = true;  // max_tokens 0: nothing to generate
        job->waiting.reset();
    }

    if (r.stream) {
        HttpResponse out{.status = 200, .content_type = "text/event-stream"};
        out.headers.emplace_back("Cache-Control", "no-cache");
        add_placement_headers(out, served.id, *job->lease);
        const bool include_usage = r.include_usage;
        out.stream = [this, job, w, header, chat, include_usage](net::StreamSink& sink) {
            std::vector<std::string> pieces;
            bool first = true;
            for (;;) {
                const bool done = take_pieces(*job, pieces);
                for (const auto& p : pieces) {
                    if (!sink.write(net::sse_event(completion_chunk_json(header, chat, p, "", first)))) {
                        if (w != nullptr) w->cancel(*job);  // the client left: its sequence is freed at the next step
                        return;
                    }
                    first = false;
                }
                if (done) break;
                if (sink.cancelled() || stopping.load()) {
                    if (w != nullptr) w->cancel(*job);
                    return;
                }
            }
            n_tokens_prompt += job->query.prompt.size();
            n_tokens_gen += static_cast<uint64_t>(job->n_gen);
            if (!job->error.empty()) {
                // The head is sent: the error goes in the stream, as an event the OpenAI clients raise.
                sink.write(net::sse_event(ApiError(500, job->error).json()));
                return;
            }
            if (job->cancel_requested) return;
            if (first) sink.write(net::sse_event(completion_chunk_json(header, chat, "", "", true)));
            sink.write(net::sse_event(completion_chunk_json(header, chat, "", finish_of(*job), false)));
            if (include_usage) sink.write(net::sse_event(usage_chunk_json(header, chat, usage_of(*job))));
            sink.write(net::sse_event("[DONE]"));
        };
        return out;
    }

    std::string text;
    std::vector<std::string> pieces;
    bool cancelled = false;
    for (;;) {
        const bool done = take_pieces(*job, pieces);
        for (const auto& p : pieces) text += p;
        if (done) break;
        // A client that hung up gets nothing: its sequence is freed at once for the next request.
        if (!cancelled && w != nullptr && (stopping.load() || (req.client_gone && req.client_gone()))) {
            w->cancel(*job);
            cancelled = true;
        }
    }
    n_tokens_prompt += job->query.prompt.size();
    n_tokens_gen += static_cast<uint64_t>(job->n_gen);
    if (!job->error.empty()) throw ApiError(500, "generation failed: " + job->error);
    if (job->cancel_requested) throw ApiError(503, "the server is shutting down or the client left");
    HttpResponse out = json_response(200, completion_json(header, chat, text, finish_of(*job), usage_of(*job)));
    add_placement_headers(out, served.id, *job->lease);
    return out;
}

HttpResponse Server::Impl::embeddings(const HttpRequest& req) {
    const EmbeddingRequest r = parse_embedding_request(req.body);
    const ServedModel& model = model_of(r.model);
    if (++waiting > opt.max_queue) {
        --waiting;
        ++n_rejected;
        throw ApiError(503, fmt::format("the server is busy ({} requests wait); retry later", opt.max_queue), "",
                       "queue_full");
    }
    const WaitTicket waiting_ticket(waiting);
    ++in_flight;
    const WaitTicket in_flight_ticket(in_flight);
    const pool::Lease l = lease(model, true, r.keep_alive);
    const pool::SessionGuard guard = l.session();
    int64_t n_tokens = 0;
    for (const auto& text : r.input) n_tokens += static_cast<int64_t>(engine::tokenize(guard.model(), text, true).size());
    const auto vectors = engine::embed(guard.session(), r.input, {.normalize = true});
    n_tokens_prompt += static_cast<uint64_t>(n_tokens);
    HttpResponse out = json_response(200, embeddings_json(model.id, vectors, r.base64, static_cast<int32_t>(n_tokens)));
    add_placement_headers(out, model.id, l);
    return out;
}

HttpResponse Server::Impl::models() const {
    std::vector<ModelEntry> entries;
    for (const auto& m : catalog.models()) entries.push_back({.id = m.id, .created = m.created});
    return json_response(200, models_json(entries));
}

}  // namespace accel::serve
