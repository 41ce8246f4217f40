#include "accel/engine/token_sampler.h"

#include <llama.h>

#include <vector>

#include "accel/core/error.h"

namespace accel::engine {

void TokenSampler::Free::operator()(llama_sampler* s) const { llama_sampler_free(s); }

TokenSampler::TokenSampler(const SamplingParams& p, int32_t n_vocab)
    : chain_(llama_sampler_chain_init(llama_sampler_chain_default_params())),
      greedy_(p.temp <= 0.0f && p.repeat_penalty == 1.0f) {
    if (!chain_) throw Error(ErrorKind::backend, "llama_sampler_chain_init failed");
    llama_sampler* chain = chain_.get();
    if (p.repeat_penalty != 1.0f) {
        llama_sampler_chain_add(chain, llama_sampler_init_penalties(n_vocab, p.repeat_last_n, p.repeat_penalty, 0.0f, 0.0f));
    }
    if (p.temp <= 0.0f) {
        llama_sampler_chain_add(chain, llama_sampler_init_greedy());
        return;
    }
    if (p.top_k > 0) llama_sampler_chain_add(chain, llama_sampler_init_top_k(p.top_k));
    if (p.top_p < 1.0f) llama_sampler_chain_add(chain, llama_sampler_init_top_p(p.top_p, 1));
    if (p.min_p > 0.0f) llama_sampler_chain_add(chain, llama_sampler_init_min_p(p.min_p, 1));
    llama_sampler_chain_add(chain, llama_sampler_init_temp(p.temp));
    llama_sampler_chain_add(chain, llama_sampler_init_dist(p.seed));
}

TokenSampler::~TokenSampler() = default;
TokenSampler::TokenSampler(TokenSampler&&) noexcept = default;
TokenSampler& TokenSampler::operator=(TokenSampler&&) noexcept = default;

int32_t TokenSampler::sample(std::span<const float> logits) {
    // What llama_sampler_sample does with a context's logits, on a row the caller holds.
    std::vector<llama_token_data> cur(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) cur[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
    llama_token_data_array arr{cur.data(), cur.size(), -1, false};
    llama_sampler_apply(chain_.get(), &arr);
    if (arr.selected < 0 || static_cast<size_t>(arr.selected) >= arr.size) {
        throw Error(ErrorKind::internal, "the sampler chain selected no token");
    }
    const llama_token tok = arr.data[arr.selected].id;
    llama_sampler_accept(chain_.get(), tok);
    return tok;
}

}  // namespace accel::engine
