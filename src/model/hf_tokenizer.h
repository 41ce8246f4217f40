#pragma once
// Internal to model/: a Hugging Face tokenizer folder read into GGUF's tokenizer.* metadata, the way the pinned
// llama.cpp's convert_hf_to_gguf.py writes it (SentencePiece tokenizer.model, byte-level BPE tokenizer.json).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gguf_writer.h"

namespace accel::model::detail {

struct HfVocab {
    std::string model;                      // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (BPE)
    std::string pre;                        // tokenizer.ggml.pre
    std::vector<std::string> tokens;        // exactly n_vocab, padded with "[PAD<i>]" (unused)
    std::vector<float> scores;              // SentencePiece only
    std::vector<int32_t> types;             // llama.cpp's token types: 1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte
    std::vector<std::string> merges;        // BPE only, "a b" in rank order
    std::map<std::string, uint32_t> special_ids;  // "bos", "eos", "unk", "sep", "pad", "cls", "mask"
    std::optional<bool> add_bos, add_eos, add_space_prefix;
    std::string chat_template;              // "" when none
};

// Reads the tokenizer of `dir` for a model whose embedding has `n_vocab` rows. `config` is config.json's text (for
// the special-token ids it gives). Throws Error{invalid_input} naming the file when there is no tokenizer, it is
// malformed, has more tokens than n_vocab, or its pre-tokenizer is not one llama.cpp knows.
HfVocab read_hf_vocab(const std::filesystem::path& dir, uint32_t n_vocab, const std::string& config_text);

void add_vocab(const HfVocab& vocab, GgufWriter& w);

}  // namespace accel::model::detail
