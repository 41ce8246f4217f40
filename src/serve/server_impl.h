#pragma once
// Private to serve/: the server's state, shared by server.cpp (the OpenAI API), pool_endpoints.cpp (/api/ps,
// load, unload, pin) and metrics.cpp (/metrics).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "accel/net/http_message.h"
#include "accel/net/http_server.h"
#include "accel/serve/openai_api.h"
#include "accel/serve/server.h"
#include "model_worker.h"

namespace accel::serve {

net::HttpResponse json_response(int status, std::string body);

struct Server::Impl {
    ServeOptions opt;
    size_t prompt_cache_bytes = 0;  // each worker's, from --cache-ram (prompt_cache_budget)
    ModelCatalog catalog;
    pool::ResourcePool& pool;
    LeaseRequestFactory make_request;
    std::unique_ptr<net::HttpServer> http;
    std::atomic<bool> stopping{false};
    std::atomic<int32_t> in_flight{0};  // model requests in the server (waiting or running)
    std::atomic<int32_t> waiting{0};    // model requests not yet running: what --max-queue bounds
    std::atomic<uint32_t> next_job{1};
    std::atomic<uint64_t> n_requests{0}, n_errors{0}, n_tokens_prompt{0}, n_tokens_gen{0}, n_rejected{0};

    mutable std::mutex workers_mu;
    std::map<std::string, std::unique_ptr<ModelWorker>> workers;  // by model id and device
    mutable std::mutex loads_mu;
    std::map<std::pair<std::string, std::string>, uint64_t> loads;  // leases that loaded, by model id and device

    Impl(ServeOptions o, ModelCatalog c, pool::ResourcePool& p, LeaseRequestFactory f)
        : opt(std::move(o)), catalog(std::move(c)), pool(p), make_request(std::move(f)) {}
    // --cache-ram in bytes, at most a quarter of the host's memory: the pool does not account for the cache, so a
    // default sized for a large server must not let a small machine's caches crowd out its models.
    static size_t prompt_cache_budget(uint64_t cache_ram_mib);

    net::HttpResponse handle(const net::HttpRequest& req);
    net::HttpResponse route(const net::HttpRequest& req);
    bool authorized(const net::HttpRequest& req) const;
    const ServedModel& model_of(const std::string& id) const;
    pool::LoadOptions generation_options() const;
    pool::Lease lease(const ServedModel& model, bool embeddings, std::optional<std::chrono::milliseconds> keep_alive);
    ModelWorker& worker(const std::string& model_id, const std::string& device);
    std::string model_id_of(const std::string& path) const;  // a pool entry's served id (else the file's stem)

    // server.cpp
    net::HttpResponse complete(const net::HttpRequest& req, bool chat);
    net::HttpResponse embeddings(const net::HttpRequest& req);
    net::HttpResponse models() const;
    // pool_endpoints.cpp
    net::HttpResponse ps() const;
    net::HttpResponse load(const net::HttpRequest& req);
    net::HttpResponse unload(const net::HttpRequest& req);
    net::HttpResponse pin(const net::HttpRequest& req);
    // metrics.cpp
    net::HttpResponse metrics() const;
};

}  // namespace accel::serve
