#pragma once
// Private to serve/: one decode loop per resident generation model, batching every request to it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "accel/engine/continuous_batcher.h"
#include "accel/engine/stop_filter.h"
#include "accel/pool/resource_pool.h"
#include "prometheus.h"

namespace accel::serve {

using SteadyClock = std::chrono::steady_clock;

// Counts a request against --max-queue while it waits for a sequence (ends when it starts or ends).
struct WaitTicket {
    std::atomic<int32_t>& n;
    explicit WaitTicket(std::atomic<int32_t>& counter) : n(counter) {}
    ~WaitTicket() { --n; }
    WaitTicket(const WaitTicket&) = delete;
    WaitTicket& operator=(const WaitTicket&) = delete;
};

// One completion from admission to its last token. The connection thread creates it and reads its output; the
// worker thread produces it. Fields under `mu` are shared; the others belong to the worker thread once submitted.
struct GenJob {
    uint32_t id = 0;
    std::shared_ptr<pool::Lease> lease;  // keeps the model resident until the answer is sent
    engine::LlmQuery query;
    bool starts_document = false;        // an empty prompt: the first piece drops its leading space, as generate()
    std::optional<engine::StopFilter> filter;
    SteadyClock::time_point t_arrival;

    std::mutex mu;
    std::condition_variable cv;
    std::unique_ptr<WaitTicket> waiting;    // released when the job starts or ends
    std::unique_ptr<WaitTicket> in_flight;  // released with the job, once its answer is sent
    std::vector<std::string> pieces;      // text not yet taken by the connection
    bool started = false, done = false, cancel_requested = false;
    int32_t n_cached = 0;                 // prompt tokens reused from the slot's cache
    int32_t n_gen = 0;                    // tokens emitted (an end-of-generation token is not)
    bool stopped_by_eog = false, stopped_by_string = false;
    std::string error;                    // non-empty: the generation failed
    SteadyClock::time_point t_start, t_first, t_end;
};

// Per-model, per-device figures for /metrics.
struct WorkerStats {
    engine::BatcherStats batcher;
    int64_t n_unissued = 0;  // submitted, waiting for the worker to take the session
    uint64_t n_requests = 0, n_cancelled = 0, n_failed = 0, n_tokens_prompt = 0, n_tokens_gen = 0;
    Histogram::Snapshot queue_wait, ttft, tpot, e2e;
};

// The decode loop of one model on one device: a thread that, while requests are in flight, holds the model's
// session (from one of their leases) and runs the engine's ContinuousBatcher over its sequences, with prefix reuse.
// When nothing is left it gives the session and lease back, so the pool's keep-alive and eviction apply; the
// slots' cached prefixes survive when nobody else used the session meanwhile (SessionGuard::untouched_since).
// Thread-safe.
class ModelWorker {
public:
    // prompt_cache_bytes: the batcher's host-memory prompt cache (BatcherOptions::prompt_cache_bytes; 0: off).
    ModelWorker(std::string model_id, std::string device, size_t prompt_cache_bytes);
    ~ModelWorker();  // stop()
    ModelWorker(const ModelWorker&) = delete;
    ModelWorker& operator=(const ModelWorker&) = delete;

    const std::string& model_id() const { return model_id_; }
    const std::string& device() const { return device_; }
    // Queues the job (its lease on this model and device, its query and filter set). Output arrives in job->pieces.
    // Throws Error{busy} once the worker is stopping.
    void submit(const std::shared_ptr<GenJob>& job);
    // Ends the job at the next step (or at once when it has not reached the batcher); it completes with done set.
    void cancel(GenJob& job);
    // Cancels every job and joins the thread.
    void stop();
    WorkerStats stats() const;

private:
    class Observer;
    void run();
    void serve_busy_period(const std::shared_ptr<pool::Lease>& lease);
    void issue_unissued_locked();
    void fail_all(const std::string& why);  // every job ends with this error
    std::shared_ptr<GenJob> find(uint32_t id) const;
    void finish(GenJob& job);  // the job ended: metrics, done, notify

    std::string model_id_;
    std::string device_;
    size_t prompt_cache_bytes_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::map<uint32_t, std::shared_ptr<GenJob>> jobs_;  // submitted, not yet complete
    std::vector<std::shared_ptr<GenJob>> unissued_;     // submitted, not yet given to the batcher
    bool stopping_ = false;
    std::unique_ptr<engine::ContinuousBatcher> batcher_;  // the worker thread's; stats() reads it under mu_
    uint64_t last_serial_ = 0;
    std::atomic<uint64_t> n_requests_{0}, n_cancelled_{0}, n_failed_{0}, n_tokens_prompt_{0}, n_tokens_gen_{0};
    Histogram queue_wait_{latency_bounds()}, ttft_{latency_bounds()}, tpot_{token_time_bounds()}, e2e_{latency_bounds()};
    std::thread thread_;
};

}  // namespace accel::serve
