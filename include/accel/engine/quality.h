#pragma once

// Output quality of a model over a text, measured by running it: perplexity, KL divergence from a reference
// model, and embedding similarity. Used by `accel perplexity`, `accel quantize` checks and `accel tradeoffs`.
// (Owned by the quantization work, issue 11; the signatures below are the contract tradeoffs builds on.)

#include <cstdint>
#include <filesystem>
#include <functional>
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
    // Called after each chunk with (chunks done, chunks in all), from the calling thread. Optional.
    std::function<void(int32_t, int32_t)> on_chunk;
};

struct PerplexityResult {
    double perplexity = 0;
    double perplexity_stderr = 0;  // the same estimate llama-perplexity prints after ±
    int32_t n_chunks = 0;
    int64_t n_tokens_scored = 0;
    double seconds = 0;
};

// The text accel scores when none is given: the GPL-3 licence every Debian machine carries.
inline constexpr const char* default_corpus_path = "/usr/share/common-licenses/GPL-3";

// Reads a whole text file. Throws Error{invalid_input} naming the path when it is missing, unreadable or empty.
std::string read_corpus(const std::filesystem::path& path);

// Whether the model gives text embeddings rather than next-token scores: it has pooling metadata
// (<arch>.pooling_type other than none) or non-causal attention (<arch>.attention.causal = false).
bool is_embedding_model(const LoadedModel& model);

// Perplexity of the model over the text, scored the way llama.cpp's perplexity tool scores it: the text is tokenized
// once (with BOS when the vocabulary adds one), cut into chunks of n_ctx tokens, the first token of each chunk is
// replaced by BOS when the vocabulary adds it, and the second half of each chunk is scored. Chunks run one at a time
// (llama-perplexity packs n_batch / n_ctx of them into one decode; the scores are the same up to float rounding).
// llama-perplexity refuses texts shorter than 2 * n_ctx tokens; accel needs one chunk (n_ctx tokens).
// Throws Error{invalid_input} when the text is shorter than one chunk, naming how many tokens it has, or when the
// model is an embedding model; Error{out_of_memory} when the context does not fit; Error{backend} when a decode
// fails. Each call opens its own context and only reads the model, so calls on different threads may share it.
PerplexityResult perplexity(const LoadedModel& model, std::string_view text, const PerplexityParams& params);

struct KlDivergenceResult {
    double kl_mean = 0;          // mean KL(reference || test) per scored token, nats
    double kl_p99 = 0;
    double top1_agreement = 0;   // fraction of scored tokens where both argmaxes agree
    double ppl_reference = 0;     // the same value perplexity() gives the reference over this text and params
    double ppl_test = 0;          // ... and the test model
    double ppl_reference_stderr = 0;
    double ppl_test_stderr = 0;
    int64_t n_tokens_scored = 0;
    int32_t n_chunks = 0;
    double seconds = 0;
};

// KL divergence of the test model's next-token distribution from the reference's over the same text, chunks and
// positions as perplexity(). Both models are evaluated chunk by chunk side by side (two contexts), so memory is two
// contexts plus two chunks of logits. A model against itself gives exactly 0. The p99 is interpolated as
// llama-perplexity's --kl-divergence does. Throws Error{invalid_input} when the vocabularies or tokenizations differ,
// and what perplexity() throws.
KlDivergenceResult kl_divergence(const LoadedModel& reference, const LoadedModel& test, std::string_view text,
                                 const PerplexityParams& params);

struct EmbeddingSimilarityResult {
    double mean_cosine = 0;
    double min_cosine = 0;
    double max_abs_diff = 0;
    int32_t n_texts = 0;
};

// Cosine similarity of the test model's pooled embeddings to the reference's, per sentence (the model's own pooling).
// max_abs_diff is the largest element-wise difference of the raw (unnormalised) vectors.
// Throws Error{invalid_input} when sentences is empty, a sentence is longer than 512 tokens, the dimensions differ
// or a model has no pooling; Error{backend} when a decode fails.
EmbeddingSimilarityResult embedding_similarity(const LoadedModel& reference, const LoadedModel& test,
                                               const std::vector<std::string>& sentences, int32_t n_threads = 0);

}  // namespace accel::engine
