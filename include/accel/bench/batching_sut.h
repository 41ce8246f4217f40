#pragma once

#include <span>
#include <string_view>

#include "accel/bench/server_sut.h"
#include "accel/engine/continuous_batcher.h"

namespace accel::bench {

// The LLM system under test for --parallel N: the engine's continuous batcher (engine/continuous_batcher.h) as a
// ServerSut, so the load harness drives it like any other SUT.
class BatchingSut : public ServerSut {
public:
    // queries must outlive the SUT. Throws what engine::ContinuousBatcher's constructor throws.
    BatchingSut(ParallelLlmTarget& target, std::span<const LlmQuery> queries) : batcher_(target, queries) {}
    std::string_view name() const override { return "continuous batching"; }
    void issue(uint32_t query) override { batcher_.issue(query); }
    void finish() override { batcher_.finish(); }
    void serve(QueryObserver& observer) override { batcher_.serve(observer); }
    const engine::ContinuousBatcher& batcher() const { return batcher_; }  // generated tokens, max in flight

private:
    engine::ContinuousBatcher batcher_;
};

}  // namespace accel::bench
