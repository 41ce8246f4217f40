#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace accel::bench {

// The system under test for the llm scenario, in the manner of LoadGen's SystemUnderTest: it does the work and
// never times itself. Each call returns only when the device has finished (synchronised), so the harness's clock
// measures the work. Not thread-safe: the harness drives it from one thread.
class LlmTarget {
public:
    virtual ~LlmTarget() = default;
    virtual std::string_view name() const = 0;
    virtual int32_t n_vocab() const = 0;
    virtual bool add_bos() const = 0;          // whether the model starts a text with BOS
    virtual int32_t bos() const = 0;
    virtual void reset() = 0;                  // forgets every sequence
    // Processes tokens at positions pos.. of sequence 0, with logits for the last one.
    virtual void prefill(std::span<const int32_t> tokens, int32_t pos) = 0;
    // Feeds one token at pos and computes the next-token logits (what llama-bench's tg does per step).
    virtual void decode_one(int32_t token, int32_t pos) = 0;
    // The greedy next token from the last logits.
    virtual int32_t greedy() = 0;
};

}  // namespace accel::bench
