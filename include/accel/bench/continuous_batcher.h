#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "accel/bench/parallel_target.h"
#include "accel/bench/server_sut.h"

namespace accel::bench {

// One LLM request: a prompt, then n_gen greedily generated tokens (the first comes from the prompt's logits).
struct LlmQuery {
    std::vector<int32_t> prompt;
    int32_t n_gen = 1;
};

// The LLM system under test for --parallel N: continuous batching over the target's n_slots() sequences.
// Each decode step carries one token of every slot that is generating, then prompt chunks of newly admitted
// queries in the room left (at most n_batch() tokens in all). A finished query frees its slot, and the next queued
// query takes it at the next step. The KV cells of a freed slot are cleared. Output lengths are fixed: no EOS stop.
// Each query's prompt plus n_gen must fit the context a slot has; the caller sizes the session for that.
class ContinuousBatcher : public ServerSut {
public:
    // queries must outlive the batcher. Throws Error{invalid_input} for an empty prompt or n_gen < 1.
    ContinuousBatcher(ParallelLlmTarget& target, std::span<const LlmQuery> queries);
    std::string_view name() const override { return "continuous batching"; }
    void issue(uint32_t query) override { queue_.push(query); }
    void finish() override { queue_.close(); }
    void serve(QueryObserver& observer) override;

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

}  // namespace accel::bench
