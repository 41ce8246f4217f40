#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "accel/engine/parallel_target.h"
#include "accel/engine/query_queue.h"

namespace accel::engine {

// One LLM request: a prompt, then n_gen greedily generated tokens (the first comes from the prompt's logits).
struct LlmQuery {
    std::vector<int32_t> prompt;
    int32_t n_gen = 1;
};

// The caller's side of a query's life, called from the serving thread: a benchmark takes its timestamps here, a
// server streams. Calls for one query come in order, once each.
class QueryObserver {
public:
    virtual ~QueryObserver() = default;
    virtual void first_token(uint32_t query) = 0;  // LLMs: the first generated token exists
    virtual void complete(uint32_t query) = 0;     // the query's last output exists
};

// Continuous batching over the target's n_slots() sequences (llama-server's and vLLM's scheduling, greedy).
// Each decode step carries one token of every slot that is generating, then prompt chunks of newly admitted
// queries in the room left (at most n_batch() tokens in all). A finished query frees its slot, and the next queued
// query takes it at the next step. The KV cells of a freed slot are cleared. Output lengths are fixed: no EOS stop.
// Each query's prompt plus n_gen must fit the context a slot has; the caller sizes the session for that.
// issue() and finish() are thread-safe; serve() runs on one thread, which alone drives the target.
class ContinuousBatcher {
public:
    // queries must outlive the batcher. Throws Error{invalid_input} for an empty prompt or n_gen < 1, or when the
    // target has more slots than its batch has tokens.
    ContinuousBatcher(ParallelLlmTarget& target, std::span<const LlmQuery> queries);
    void issue(uint32_t query) { queue_.push(query); }  // queues the query; returns at once
    void finish() { queue_.close(); }                   // no more queries will be issued
    // Serves issued queries, reporting to observer, and returns once finish() was called and every issued query
    // completed. Throws accel::Error when the target fails.
    void serve(QueryObserver& observer);

    // The tokens generated for a query (after serve returned).
    const std::vector<int32_t>& generated(uint32_t query) const { return generated_[query]; }
    int32_t max_in_flight() const { return max_in_flight_; }  // most slots busy at once during serve

private:
    ParallelLlmTarget& target_;
    std::span<const LlmQuery> queries_;
    QueryQueue queue_;
    std::vector<std::vector<int32_t>> generated_;
    int32_t max_in_flight_ = 0;
};

}  // namespace accel::engine
