#pragma once

// Output quality of a model over a text, measured by running it: perplexity, KL divergence from a reference
// model, and embedding similarity. Used by `accel perplexity`, `accel quantize` checks and `accel tradeoffs`.
// (Owned by the quantization work, issue 11; the signatures below are the contract tradeoffs builds on.)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/loaded_model.h"

namespace accel::engine {

struct PerplexityParams {
    uint32_t n_ctx = 512;     // tokens per chunk, as llama-perplexity's -c
    uint32_t n_batch = 2048;  // as llama-perplexity's -b
    int32_t n_threads = 0;    // 0: one per logical core
    int32_t max_chunks = 0;   // 0: every full chunk of the text
};

struct PerplexityResult {
    double perplexity = 0;
    double perplexity_stderr = 0;  // the same estimate llama-perplexity prints after ±
    int32_t n_chunks = 0;
    int64_t n_tokens_scored = 0;
    double seconds = 0;
};

// Perplexity of the model over the text, scored the way llama.cpp's perplexity tool scores it (the second half of
// each chunk). Throws Error{invalid_input} when the text is shorter than one chunk (2 * n_ctx tokens are not needed;
// n_ctx tokens are), naming how many tokens it has.
PerplexityResult perplexity(const LoadedModel& model, std::string_view text, const PerplexityParams& params);

struct KlDivergenceResult {
    double kl_mean = 0;          // mean KL(reference || test) per scored token, nats
    double kl_p99 = 0;
    double top1_agreement = 0;   // fraction of scored tokens where both argmaxes agree
    double ppl_reference = 0;
    double ppl_test = 0;
    int64_t n_tokens_scored = 0;
};

// KL divergence of the test model's next-token distribution from the reference's over the same text, chunks and
// positions as perplexity(). Throws Error{invalid_input} when the vocabularies differ.
KlDivergenceResult kl_divergence(const LoadedModel& reference, const LoadedModel& test, std::string_view text,
                                 const PerplexityParams& params);

struct EmbeddingSimilarityResult {
    double mean_cosine = 0;
    double min_cosine = 0;
    double max_abs_diff = 0;
    int32_t n_texts = 0;
};

// Cosine similarity of the test model's pooled embeddings to the reference's, per sentence.
EmbeddingSimilarityResult embedding_similarity(const LoadedModel& reference, const LoadedModel& test,
                                               const std::vector<std::string>& sentences, int32_t n_threads = 0);

}  // namespace accel::engine
