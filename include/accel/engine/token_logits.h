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

// What an encoder(-decoder) model (llama.cpp's t5, t5encoder) computes for one input.
struct Seq2SeqLogits {
    std::vector<float> encoder_states;  // n_enc x n_embd: the encoder's output (after its final norm), one row per input id
    uint32_t n_enc = 0;
    uint32_t n_embd = 0;
    int32_t decoder_start_token = -1;   // llama_model_decoder_start_token; -1 for an encoder-only model
    TokenLogits logits;                 // 1 + decoder_ids.size() rows: row 0 after the decoder start token, row i after
                                        // decoder_ids[i-1] (teacher forcing); empty for an encoder-only model
};

// Loads the GGUF model on `device`, runs llama_encode over `input_ids`, and, when the model has a decoder, one
// causal llama_decode over [decoder start token] + `decoder_ids` (positions 0..n, one sequence, an f32 KV cache, flash
// attention off) attending to that encoder output; returns the encoder's output and every decoder position's logits.
// Throws Error{invalid_input} for an unknown device, a model without an encoder (use token_logits), no input ids, an
// id outside the vocabulary, or more ids than the training context; Error{backend} when llama.cpp cannot load the
// model or a pass fails. Each call loads its own model; safe to call from several threads on different models.
Seq2SeqLogits seq2seq_logits(const std::filesystem::path& model, const std::vector<int32_t>& input_ids,
                             const std::vector<int32_t>& decoder_ids, const std::string& device = "cpu",
                             int32_t n_threads = 2);

}  // namespace accel::engine
