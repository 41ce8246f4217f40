#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "accel/net/http_server.h"
#include "accel/pool/resource_pool.h"
#include "accel/serve/model_catalog.h"

namespace accel::serve {

struct ServeOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;        // 0: a free port the kernel picks (tests)
    std::string api_key;         // empty: none, which only a loopback host may have
    int32_t max_queue = 8;       // model requests waiting for a sequence (or a model load); past it 503 + Retry-After
    int32_t parallel = 1;        // sequences each generation model decodes together (continuous batching)
    uint32_t n_ctx = 2048;       // context of each sequence: a generation model is loaded with n_ctx * parallel
    int32_t n_threads = 0;       // CPU threads per request; 0: the session's default
    // Host-memory prompt cache of each generation model on each device (llama-server's --cache-ram, whose default
    // this is), bounded at startup to a quarter of the host's memory; 0: off. Used only as prompts are saved.
    uint64_t cache_ram_mib = 8192;
    net::HttpLimits limits{.max_header_bytes = 16 * 1024, .max_body_bytes = 4 * 1024 * 1024,
                           .read_timeout = std::chrono::milliseconds(30000),
                           .write_timeout = std::chrono::milliseconds(60000), .max_connections = 64,
                           .keep_alive_idle = std::chrono::milliseconds(5000)};
};

// Turns a served model file and its load options into the pool request (devices ranked, fallback policy), as the
// caller's runtime decides (the CLI's PoolRuntime).
using LeaseRequestFactory = std::function<pool::Request(const std::filesystem::path&, const pool::LoadOptions&)>;

// `accel serve`: the OpenAI-compatible HTTP API over the ResourcePool (docs/serve.md). /health, /v1/models,
// /v1/completions and /v1/chat/completions (SSE streaming with stream_options.include_usage), /v1/embeddings,
// /metrics, /api/ps, /api/load, /api/unload, /api/pin. Each model request leases its model from the pool; requests
// to one generation model are batched by one decode loop over `parallel` llama.cpp sequences (the engine's
// ContinuousBatcher, with prompt-prefix reuse). Errors are OpenAI-style JSON with a 4xx/5xx.
// Thread-safe. The pool must outlive the server; stop() (also the destructor) stops accepting, cancels streams and
// running generations at their next token, and joins every connection.
class Server {
public:
    // Starts listening. Throws Error{invalid_input} for a non-loopback host without an API key (or a bad host),
    // Error{io} when the port cannot be bound.
    Server(ServeOptions options, ModelCatalog catalog, pool::ResourcePool& pool, LeaseRequestFactory make_request);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    uint16_t port() const;
    const std::string& host() const;
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace accel::serve
