#pragma once

// Next-token logits for given token ids: what a comparison with a reference implementation (transformers, through
// the committed fixtures in tests/fixtures/hf) needs, with no tokenizer and no sampling in between.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::engine {

struct TokenLogits {
    std::vector<float> values;  // n_rows x n_vocab, row i = the logits after token i
    uint32_t n_rows = 0;
    uint32_t n_vocab = 0;
};

// Loads the GGUF model on `device` (ggml's name, case-insensitive), runs one causal forward pass over `tokens`
// (positions 0..n-1, one sequence, an f32 KV cache) and returns every position's logits. Throws Error{invalid_input} for an unknown
// device, an empty token list, a token id outside the vocabulary or more tokens than the training context;
// Error{backend} when llama.cpp cannot load the model or the pass fails. Each call loads its own model.
TokenLogits token_logits(const std::filesystem::path& model, const std::vector<int32_t>& tokens,
                         const std::string& device = "cpu", int32_t n_threads = 2);

}  // namespace accel::engine
