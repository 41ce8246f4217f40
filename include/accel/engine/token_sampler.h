#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "accel/engine/generator.h"

struct llama_sampler;

namespace accel::engine {

// One generation's sampler: llama.cpp's sampler chain for SamplingParams (penalties, then greedy, or top-k, top-p,
// min-p, temperature and a seeded draw). Stateful (its RNG and penalty history): one per generation. Not
// thread-safe. Throws Error{backend} when llama.cpp cannot build the chain.
class TokenSampler {
public:
    TokenSampler(const SamplingParams& params, int32_t n_vocab);
    ~TokenSampler();
    TokenSampler(TokenSampler&&) noexcept;
    TokenSampler& operator=(TokenSampler&&) noexcept;

    // True when the choice is the argmax of the logits (temperature <= 0, no repeat penalty).
    bool greedy() const { return greedy_; }
    // Samples from one row of logits (n_vocab values) and records the token in the chain's history.
    int32_t sample(std::span<const float> logits);
    llama_sampler* get() const { return chain_.get(); }  // for llama_sampler_sample on a context

private:
    struct Free {
        void operator()(llama_sampler* s) const;
    };
    std::unique_ptr<llama_sampler, Free> chain_;
    bool greedy_ = true;
};

}  // namespace accel::engine
