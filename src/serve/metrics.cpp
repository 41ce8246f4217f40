// GET /metrics: Prometheus text. Server-wide counters, then per model and device (each decode loop's latency
// histograms, queue, sequences, KV cells, prefix-cache hits, tokens, loads), then the pool's memory per device.
#include <fmt/core.h>

#include "prometheus.h"
#include "server_impl.h"

namespace accel::serve {

net::HttpResponse Server::Impl::metrics() const {
    MetricsText m;
    auto single = [&m](const char* name, const char* type, const char* help, double v) {
        m.family(name, type, help);
        m.sample(name, {}, v);
    };
    single("accel_serve_requests_total", "counter", "HTTP requests answered by the handler", double(n_requests.load()));
    single("accel_serve_errors_total", "counter", "requests answered with a 4xx or 5xx", double(n_errors.load()));
    single("accel_serve_rejected_total", "counter", "model requests refused with 503 because the queue was full",
           double(n_rejected.load()));
    single("accel_serve_prompt_tokens_total", "counter", "prompt tokens of answered requests (completions and embeddings)",
           double(n_tokens_prompt.load()));
    single("accel_serve_completion_tokens_total", "counter", "tokens generated for answered requests",
           double(n_tokens_gen.load()));
    single("accel_serve_requests_in_flight", "gauge", "model requests in the server, waiting or running",
           double(in_flight.load()));
    single("accel_serve_requests_waiting", "gauge", "model requests waiting for a sequence (bounded by --max-queue)",
           double(waiting.load()));

    struct Row {
        MetricsText::Labels labels;
        WorkerStats s;
    };
    std::vector<Row> rows;
    {
        std::lock_guard lock(workers_mu);
        for (const auto& [key, w] : workers)
            rows.push_back({{{"model", w->model_id()}, {"device", w->device()}}, w->stats()});
    }
    auto per_row = [&](const char* name, const char* type, const char* help, auto value) {
        m.family(name, type, help);
        for (const auto& r : rows) m.sample(name, r.labels, static_cast<double>(value(r.s)));
    };
    auto histogram = [&](const char* name, const char* help, auto pick) {
        m.family(name, "histogram", help);
        for (const auto& r : rows) m.histogram(name, r.labels, pick(r.s));
    };
    histogram("accel_serve_queue_wait_seconds", "arrival to the request's sequence starting (model load included)",
              [](const WorkerStats& s) { return s.queue_wait; });
    histogram("accel_serve_time_to_first_token_seconds", "arrival to the first generated token",
              [](const WorkerStats& s) { return s.ttft; });
    histogram("accel_serve_time_per_output_token_seconds",
              "per request: (end - first token) / (output tokens - 1), requests with 2 or more tokens",
              [](const WorkerStats& s) { return s.tpot; });
    histogram("accel_serve_request_duration_seconds", "arrival to the last token (end to end)",
              [](const WorkerStats& s) { return s.e2e; });
    m.family("accel_serve_model_requests_total", "counter", "generation requests ended, by outcome");
    for (const auto& r : rows) {
        auto labels = r.labels;
        labels.emplace_back("outcome", "ok");
        m.sample("accel_serve_model_requests_total", labels, double(r.s.n_requests - r.s.n_cancelled - r.s.n_failed));
        labels.back().second = "cancelled";
        m.sample("accel_serve_model_requests_total", labels, double(r.s.n_cancelled));
        labels.back().second = "failed";
        m.sample("accel_serve_model_requests_total", labels, double(r.s.n_failed));
    }
    per_row("accel_serve_queue_depth", "gauge", "requests submitted to the model, not yet in a sequence",
            [](const WorkerStats& s) { return s.n_unissued + s.batcher.n_queued; });
    per_row("accel_serve_sequences_busy", "gauge", "sequences generating", [](const WorkerStats& s) { return s.batcher.n_busy; });
    per_row("accel_serve_sequences_busy_peak", "gauge", "the most sequences generating at once so far",
            [](const WorkerStats& s) { return s.batcher.max_busy; });
    per_row("accel_serve_sequences_free", "gauge", "sequences free (--parallel minus busy)",
            [](const WorkerStats& s) { return s.batcher.n_slots - s.batcher.n_busy; });
    per_row("accel_serve_kv_cells_used", "gauge", "KV-cache cells the sequences hold, cached prefixes included",
            [](const WorkerStats& s) { return s.batcher.n_cells; });
    per_row("accel_serve_prefix_cache_hits_total", "counter", "requests that started on a cached prompt prefix",
            [](const WorkerStats& s) { return s.batcher.prefix_hits; });
    per_row("accel_serve_prefix_cache_tokens_total", "counter", "prompt tokens not decoded thanks to the prefix cache",
            [](const WorkerStats& s) { return s.batcher.prefix_tokens; });
    per_row("accel_serve_prompt_cache_hits_total", "counter",
            "requests that started on a prompt state restored from host memory (--cache-ram)",
            [](const WorkerStats& s) { return s.batcher.prompt_cache_hits; });
    per_row("accel_serve_prompt_cache_tokens_total", "counter",
            "prompt tokens not decoded thanks to states restored from host memory",
            [](const WorkerStats& s) { return s.batcher.prompt_cache_tokens; });
    per_row("accel_serve_prompt_cache_bytes", "gauge", "bytes of prompt states held in host memory",
            [](const WorkerStats& s) { return s.batcher.prompt_cache_bytes; });
    per_row("accel_serve_prompt_cache_entries", "gauge", "prompt states held in host memory",
            [](const WorkerStats& s) { return s.batcher.prompt_cache_entries; });
    per_row("accel_serve_tokens_in_total", "counter", "prompt tokens of generation requests",
            [](const WorkerStats& s) { return s.n_tokens_prompt; });
    per_row("accel_serve_tokens_out_total", "counter", "tokens generated",
            [](const WorkerStats& s) { return s.n_tokens_gen; });

    m.family("accel_serve_model_loads_total", "counter", "requests that loaded their model (pool misses)");
    {
        std::lock_guard lock(loads_mu);
        for (const auto& [key, n] : loads) m.sample("accel_serve_model_loads_total", {{"model", key.first}, {"device", key.second}}, double(n));
    }

    const pool::PoolStats st = pool.stats();
    m.family("accel_pool_evictions_total", "counter", "models the pool unloaded, by reason");
    m.sample("accel_pool_evictions_total", {{"reason", "lru"}}, double(st.evictions_lru));
    m.sample("accel_pool_evictions_total", {{"reason", "ttl"}}, double(st.evictions_ttl));
    m.sample("accel_pool_evictions_total", {{"reason", "explicit"}}, double(st.evictions_explicit));
    m.sample("accel_pool_evictions_total", {{"reason", "low_memory"}}, double(st.evictions_low_memory));
    single("accel_pool_load_failures_total", "counter", "loads that failed", double(st.load_failures));
    m.family("accel_pool_device_used_bytes", "gauge", "bytes the pool accounts for on the device");
    for (const auto& d : st.devices) m.sample("accel_pool_device_used_bytes", {{"device", d.device}}, double(d.used_bytes));
    m.family("accel_pool_device_budget_bytes", "gauge", "the pool's budget on the device");
    for (const auto& d : st.devices) m.sample("accel_pool_device_budget_bytes", {{"device", d.device}}, double(d.budget_bytes));
    m.family("accel_pool_device_free_bytes", "gauge", "min(driver free, budget - used)");
    for (const auto& d : st.devices) m.sample("accel_pool_device_free_bytes", {{"device", d.device}}, double(d.free_bytes));
    m.family("accel_pool_model_bytes", "gauge", "bytes a resident model takes on a device");
    for (const auto& e : st.entries) {
        const std::string kind = e.options.embeddings ? "embedding" : "generation";
        for (const auto& [device, bytes] : e.bytes)
            m.sample("accel_pool_model_bytes", {{"model", model_id_of(e.model)}, {"device", device}, {"kind", kind}}, double(bytes));
    }
    return net::HttpResponse{.status = 200, .content_type = "text/plain; version=0.0.4", .body = m.take()};
}

}  // namespace accel::serve
