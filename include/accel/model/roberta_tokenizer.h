#pragma once
// RoBERTa's byte-level BPE tokenizer (GPT-2's), as transformers' RobertaTokenizer(Fast) encodes with
// add_prefix_space false: the text is split by GPT-2's pattern ('s 't 're 've 'm 'll 'd, an optional space and a run
// of letters, of digits, or of anything else but whitespace, then whitespace runs, a run before a non-space leaving
// its last character to the next piece); each piece's UTF-8 bytes take GPT-2's byte-to-character map and the merges
// apply by rank. Unknown pieces become <unk>; <s> and </s> go around. Not done: special tokens written in the text
// (they are encoded as text), NFC normalization, digits other than ASCII as \p{N}. CLAP's text tower uses it; the
// vocabulary travels in the GGUF (clap.tokenizer.*, written by accel convert; docs/convert.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace accel::model {

struct RobertaVocab {
    std::vector<std::string> tokens;  // by id, byte-level form ("Ġcat"); "" for an unused id
    std::vector<std::string> merges;  // "a b" in rank order
    int32_t bos = 0, eos = 2, unk = 3;
};

class RobertaTokenizer {
public:
    // Throws Error{invalid_input} when the vocabulary is empty, a special id is outside it, a token repeats, or a
    // merge is not two tokens separated by one space.
    explicit RobertaTokenizer(RobertaVocab vocab);

    // <s>, the text's ids, </s>. Throws Error{invalid_input} when the text is not valid UTF-8. Thread-safe.
    std::vector<int32_t> encode(std::string_view text) const;

private:
    RobertaVocab vocab_;
    std::unordered_map<std::string, int32_t> ids_;
    std::unordered_map<std::string, int32_t> ranks_;  // "a b" -> rank
};

}  // namespace accel::model
