#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_set>
#include <vector>

#include "accel/engine/generator.h"
#include "accel/engine/parallel_target.h"
#include "accel/engine/prompt_cache.h"
#include "accel/engine/query_queue.h"

namespace accel::engine {

class TokenSampler;

// One LLM request: a prompt, then up to n_gen generated tokens (the first comes from the prompt's logits).
struct LlmQuery {
    std::vector<int32_t> prompt;
    int32_t n_gen = 1;          // exactly this many unless the observer ends the query earlier (QueryObserver::token)
    SamplingParams sampling{};  // temp <= 0 and no penalty (the default): greedy, what a benchmark runs
};

// The caller's side of a query's life, called from the serving thread: a benchmark takes its timestamps here, a
// server streams. Calls for one query come in order: started, then token and first_token for the first token,
// token for each further one, then complete once.
class QueryObserver {
public:
    virtual ~QueryObserver() = default;
    virtual void first_token(uint32_t query) = 0;  // LLMs: the first generated token exists
    virtual void complete(uint32_t query) = 0;     // the query's last output exists (or it was cancelled)
    // The query took a slot: its wait in the queue is over. n_cached: prompt tokens found in the slot's KV cache
    // (prefix reuse), which are not decoded again.
    virtual void started(uint32_t /*query*/, int32_t /*n_cached*/) {}
    // Each generated token as soon as it exists (before first_token for the first). Return false to end the query
    // with this token (an end-of-generation token, a stop string, a client that left): complete follows.
    virtual bool token(uint32_t /*query*/, int32_t /*token*/) { return true; }
};

struct BatcherOptions {
    // Keep a finished query's KV cells in its slot, and start a new query in the free slot whose cached tokens share
    // the longest prefix with its prompt: only the rest of the prompt is decoded (llama-server's cache_prompt).
    // Off for benchmarks, whose queries must each pay their whole prompt.
    bool reuse_prefix = false;
    // With reuse_prefix: the byte budget of the host-memory prompt cache (llama-server's --cache-ram). A slot about
    // to lose cached tokens to an unrelated prompt saves its state there first, and a prompt that shares a longer
    // prefix with a saved state than with any free slot restores it into its slot. 0: off (benchmarks).
    size_t prompt_cache_bytes = 0;
};

// A consistent snapshot of the batcher's state, for a server's metrics. Thread-safe to take.
struct BatcherStats {
    int32_t n_slots = 0;
    int32_t n_busy = 0;          // slots serving a query
    int32_t max_busy = 0;        // the most slots busy at once so far
    int64_t n_queued = 0;        // issued, not yet in a slot
    int64_t n_cells = 0;         // KV cells the slots hold (cached prefixes included)
    uint64_t prefix_hits = 0;    // queries that started on a cached prefix
    uint64_t prefix_tokens = 0;  // prompt tokens those queries did not decode
    // The host-memory prompt cache (BatcherOptions::prompt_cache_bytes), apart from the slots' own prefixes above.
    uint64_t prompt_cache_hits = 0;    // queries that started on a state restored from it
    uint64_t prompt_cache_tokens = 0;  // prompt tokens those queries did not decode
    int64_t prompt_cache_bytes = 0;    // bytes of state it holds
    int64_t prompt_cache_entries = 0;  // states it holds
};

// Continuous batching over the target's n_slots() sequences (llama-server's and vLLM's scheduling). Each decode
// step carries one token of every slot that is generating, then prompt chunks of newly admitted queries in the room
// left (at most n_batch() tokens in all). A finished query frees its slot, and the next queued query takes it at
// the next step. Without prefix reuse the KV cells of a freed slot are cleared. Greedy queries take the argmax;
// others sample with their own TokenSampler. Each query's prompt plus n_gen must fit the context a slot has; the
// caller sizes the session for that.
// Two ways to use it: the benchmark's, a fixed set of queries issued by index and served by serve() until
// finish(); a server's, queries issued with their own data (issue(id, query)) and served by step() in the caller's
// loop, with cancel() and a target that may be rebound between busy periods.
// issue(), cancel(), finish() and stats() are thread-safe; serve()/step()/rebind() run on one thread, which alone
// drives the target.
class ContinuousBatcher {
public:
    // A fixed query set (the benchmark): queries must outlive the batcher. Throws Error{invalid_input} for an empty
    // prompt or n_gen < 1, or when the target has more slots than its batch has tokens.
    ContinuousBatcher(ParallelLlmTarget& target, std::span<const LlmQuery> queries, BatcherOptions options = {});
    // Queries issued with their data (a server). Throws as above for the target.
    ContinuousBatcher(ParallelLlmTarget& target, BatcherOptions options);
    ~ContinuousBatcher();
    ContinuousBatcher(const ContinuousBatcher&) = delete;
    ContinuousBatcher& operator=(const ContinuousBatcher&) = delete;

    void issue(uint32_t query);  // queues queries[query]; returns at once
    // Queues a query with its own data under the caller's id; query must live until complete(id). Throws
    // Error{invalid_input} for an empty prompt or n_gen < 1.
    void issue(uint32_t id, const LlmQuery& query);
    // Ends the query at the next step wherever it is (queued or in a slot): its slot is free for the next one, and
    // complete(id) follows. A query that already completed is left alone.
    void cancel(uint32_t id);
    void finish() { queue_.close(); }  // no more queries will be issued
    // Serves issued queries, reporting to observer, and returns once finish() was called and every issued query
    // completed. Throws accel::Error when the target fails.
    void serve(QueryObserver& observer);
    // One round for a caller that runs its own loop: admits queued queries into free slots, decodes one batch and
    // reports. With wait, blocks while nothing is in flight until a query is issued or finish() is called.
    // Returns false when there was nothing to do (nothing in flight or queued). Throws accel::Error when the
    // target fails; the slots are then in an unknown state: call abort() before the next step.
    bool step(QueryObserver& observer, bool wait = false);
    // Completes every query in a slot or in the queue (complete() for each), so that the batcher holds no query's
    // data any more, and clears the slots' memory and cache.
    void abort(QueryObserver& observer);
    // A new target over the same slots (the same session leased again). keep_cache: the session's memory is as the
    // last target left it, so cached prefixes stay valid; otherwise the cache is forgotten and the memory cleared,
    // and so is the host prompt cache (its states fit the old session's layout only).
    // Only between busy periods (nothing in a slot).
    void rebind(ParallelLlmTarget& target, bool keep_cache);

    // The tokens generated for a query of the fixed set (after serve returned).
    const std::vector<int32_t>& generated(uint32_t query) const { return generated_[query]; }
    int32_t max_in_flight() const { return max_in_flight_; }  // most slots busy at once during serve
    BatcherStats stats() const;

private:
    struct Pending {
        uint32_t id = 0;
        const LlmQuery* query = nullptr;
        bool record = false;  // a query of the fixed set: its tokens are kept for generated()
    };
    struct Slot;
    void check_target() const;
    void admit(QueryObserver& observer, bool wait);
    size_t pick_slot(const LlmQuery& q, int32_t& n_keep) const;
    int32_t prepare_slot(size_t k, const LlmQuery& q, int32_t n_keep);
    void save_to_host(size_t k);
    bool restore_from_host(size_t k, const LlmQuery& q, int32_t& n_keep);
    void publish_host_cache();
    void end_query(Slot& s, size_t index, QueryObserver& observer);
    bool take_cancelled(uint32_t id);
    void drop_cancelled(QueryObserver& observer);

    ParallelLlmTarget* target_;
    BatcherOptions options_;
    std::span<const LlmQuery> queries_;
    BasicQueue<Pending> queue_;
    std::vector<std::vector<int32_t>> generated_;
    std::vector<Slot> slots_;
    std::vector<BatchToken> batch_;
    std::vector<Pending> admitted_;
    bool open_ = true;
    int32_t max_in_flight_ = 0;
    uint64_t clock_ = 0;  // a step counter: which free slot was used least recently
    PromptCache host_cache_;

    mutable std::mutex mutex_;  // guards cancelled_ and the published stats below
    std::unordered_set<uint32_t> cancelled_;
    std::atomic<bool> any_cancelled_{false};
    BatcherStats published_;
};

}  // namespace accel::engine
