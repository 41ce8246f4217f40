#pragma once
// CLIP's byte-level BPE tokenizer, as transformers' CLIPTokenizer(Fast) encodes: the text's runs of whitespace
// become one space and it is lowercased; it is split by CLIP's pattern (the two specials, 's 't 're 've 'm 'll 'd,
// runs of letters, single digits, runs of anything else but whitespace); each piece's UTF-8 bytes take GPT-2's
// byte-to-character map, its last character the "</w>" suffix, and the merges apply by rank. Unknown pieces
// become the unknown id; BOS and EOS go around. Not done: NFC normalization (give NFC text) and ftfy's repairs.
// The vocabulary travels in the GGUF (clip_model.tokenizer.*, written by accel convert; docs/convert.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace accel::model {

struct ClipVocab {
    std::vector<std::string> tokens;  // by id, byte-level form ("cat</w>"); "" for an unused id
    std::vector<std::string> merges;  // "a b" in rank order
    int32_t bos = 0, eos = 0, unk = 0;
};

class ClipTokenizer {
public:
    // Throws Error{invalid_input} when the vocabulary is empty, a special id is outside it, a token repeats, or a
    // merge is not two tokens separated by one space.
    explicit ClipTokenizer(ClipVocab vocab);

    // BOS, the text's ids, EOS. Throws Error{invalid_input} when the text is not valid UTF-8. Thread-safe.
    std::vector<int32_t> encode(std::string_view text) const;
    const ClipVocab& vocab() const { return vocab_; }

private:
    std::vector<std::string> bpe(const std::string& word) const;

    ClipVocab vocab_;
    std::unordered_map<std::string, int32_t> ids_;
    std::unordered_map<std::string, int32_t> ranks_;  // "a b" -> rank
};

}  // namespace accel::model
