#pragma once
// Internal to model/: a Hugging Face tokenizer folder read into GGUF's tokenizer.* metadata, the way the pinned
// llama.cpp's convert_hf_to_gguf.py writes it (SentencePiece tokenizer.model, byte-level BPE tokenizer.json,
// WordPiece tokenizer.json or vocab.txt).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gguf_writer.h"

namespace accel::model::detail {

struct HfVocab {
    std::string model;                      // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (BPE), "bert" (WordPiece)
    std::string pre;                        // tokenizer.ggml.pre
    std::vector<std::string> tokens;        // exactly n_vocab, padded with "[PAD<i>]" (unused)
    std::vector<float> scores;              // SentencePiece only
    std::vector<int32_t> types;             // llama.cpp's token types: 1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte
    std::vector<std::string> merges;        // BPE only, "a b" in rank order
    std::map<std::string, uint32_t> special_ids;  // "bos", "eos", "unk", "sep", "pad", "cls", "mask"
    std::optional<bool> add_bos, add_eos, add_space_prefix;
    std::optional<bool> lowercase, strip_accents;  // tokenizer.ggml.normalizer.* (WordPiece's BertNormalizer)
    std::optional<bool> remove_extra_whitespaces;  // SentencePiece's normalizer spec (T5)
    std::vector<uint8_t> precompiled_charsmap;     // SentencePiece's normalizer spec (T5); empty: none
    std::string chat_template;              // "" when none
};

// Reads the tokenizer of `dir` for a model whose embedding has `n_vocab` rows. `config` is config.json's text (for
// the special-token ids it gives). Throws Error{invalid_input} naming the file when there is no tokenizer, it is
// malformed, has more tokens than n_vocab, or its pre-tokenizer is not one llama.cpp knows.
HfVocab read_hf_vocab(const std::filesystem::path& dir, uint32_t n_vocab, const std::string& config_text);

// BERT's WordPiece vocabulary (tokenizer.json with a WordPiece model, else vocab.txt) as BertModel in
// convert_hf_to_gguf.py writes it: llama.cpp's phantom-space form (a word-initial token "x" becomes "\u2581x", a
// continuation "##x" becomes "x"; control tokens stay), the special ids the way gguf-py's SpecialVocab finds them
// ([CLS] doubles as BOS, [SEP] as EOS), and the normalizer's lowercase/strip_accents. Throws Error{invalid_input}
// naming the folder when there is neither file, a token id is at or past n_vocab, or the files are malformed.
HfVocab read_wordpiece_vocab(const std::filesystem::path& dir, uint32_t n_vocab, const std::string& config_text);

// T5's SentencePiece unigram model (tokenizer.model, else spiece.model) as T5Model.set_vocab in the pinned
// convert_hf_to_gguf.py writes it: tokenizer.ggml.model "t5", the pieces with their scores and types (user-defined
// pieces become normal, as SentencePieceProcessor reports them), added_tokens.json over them (user-defined, score
// -1000), every other id "[PAD<i>]" (unused, score -10000), the normalizer's add_dummy_prefix,
// remove_extra_whitespaces and precompiled_charsmap, and the special ids and add_eos the way gguf-py's
// SpecialVocab finds them. Throws Error{invalid_input} naming the file when there is no SentencePiece model, it is
// not a unigram model (a BPE T5 such as Pile-T5 is not converted), it has more pieces than n_vocab, or a file is
// malformed.
HfVocab read_t5_vocab(const std::filesystem::path& dir, uint32_t n_vocab, const std::string& config_text);

void add_vocab(const HfVocab& vocab, GgufWriter& w);

}  // namespace accel::model::detail
