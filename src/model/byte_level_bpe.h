#pragma once
// Internal to model/: what the byte-level BPE tokenizers share (CLIP's clip_tokenizer.cpp, RoBERTa's
// roberta_tokenizer.cpp): UTF-8 decoding and encoding, Unicode classes from the C library's C.UTF-8 tables (without
// changing the process locale), GPT-2's byte-to-character map, and the BPE merge loop.
#include <array>
#include <cstdint>
#include <locale.h>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace accel::model::detail {

locale_t utf8_locale();  // null when C.UTF-8 is absent: the classes fall back to ASCII rules
bool is_space(char32_t c);
bool is_letter(char32_t c);
bool is_number(char32_t c);  // ASCII digits only
// Throws Error{invalid_input} when `s` is not valid UTF-8.
std::u32string decode_utf8(std::string_view s);
void append_utf8(std::string& out, char32_t c);
// GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n in byte order.
const std::array<std::string, 256>& byte_chars();
// Applies the merges ("a b" -> rank) to `parts` by rank, every occurrence of the best pair left to right, until none
// applies.
std::vector<std::string> bpe_merge(std::vector<std::string> parts, const std::unordered_map<std::string, int32_t>& ranks);

}  // namespace accel::model::detail
