// CLIPTokenizer's encoding (transformers' tokenization_clip.py and its tokenizer.json: Replace(\s+, " "),
// Lowercase, Split(CLIP's pattern), ByteLevel, BPE with end_of_word_suffix "</w>"). Unicode classes come from the
// C library's C.UTF-8 tables (iswalpha_l, iswspace_l, towlower_l), without changing the process locale.
#include "accel/model/clip_tokenizer.h"

#include <array>
#include <clocale>
#include <cwctype>
#include <limits>
#include <locale.h>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "byte_level_bpe.h"

namespace accel::model {
namespace {

using detail::append_utf8;
using detail::byte_chars;
using detail::decode_utf8;
using detail::is_letter;
using detail::is_number;
using detail::is_space;

char32_t lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    const locale_t loc = detail::utf8_locale();
    return loc == nullptr ? c : static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), loc));
}

// CLIP's pattern over the normalized text: <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|
// [^\s\p{L}\p{N}]+, tried in that order at each position; whitespace between pieces is dropped.
std::vector<std::u32string> split_pieces(const std::u32string& t) {
    static const std::u32string literals[] = {U"<|startoftext|>", U"<|endoftext|>", U"'s", U"'t", U"'re",
                                              U"'ve", U"'m", U"'ll", U"'d"};
    std::vector<std::u32string> pieces;
    size_t i = 0;
    auto take = [&](size_t n) { pieces.push_back(t.substr(i, n)); i += n; };
    while (i < t.size()) {
        if (is_space(t[i])) { ++i; continue; }
        bool matched = false;
        for (const auto& s : literals)
            if (!matched && t.compare(i, s.size(), s) == 0) { take(s.size()); matched = true; }
        if (matched) continue;
        size_t j = i;
        if (is_letter(t[i])) {
            while (j < t.size() && is_letter(t[j])) ++j;
        } else if (is_number(t[i])) {
            j = i + 1;
        } else {
            while (j < t.size() && !is_space(t[j]) && !is_letter(t[j]) && !is_number(t[j])) ++j;
        }
        take(j - i);
    }
    return pieces;
}

}  // namespace

ClipTokenizer::ClipTokenizer(ClipVocab vocab) : vocab_(std::move(vocab)) {
    const auto n = static_cast<int64_t>(vocab_.tokens.size());
    if (n == 0 || n > std::numeric_limits<int32_t>::max())
        throw Error(ErrorKind::invalid_input, "CLIP tokenizer: the vocabulary is empty");
    for (const int32_t id : {vocab_.bos, vocab_.eos, vocab_.unk})
        if (id < 0 || id >= n)
            throw Error(ErrorKind::invalid_input, fmt::format("CLIP tokenizer: special id {} is outside the {} "
                                                              "tokens", id, n));
    for (int32_t i = 0; i < static_cast<int32_t>(n); ++i) {
        const std::string& tok = vocab_.tokens[static_cast<size_t>(i)];
        if (!tok.empty() && !ids_.emplace(tok, i).second)
            throw Error(ErrorKind::invalid_input, fmt::format("CLIP tokenizer: token {} '{}' repeats", i, tok));
    }
    for (size_t r = 0; r < vocab_.merges.size(); ++r) {
        const std::string& m = vocab_.merges[r];
        const size_t sp = m.find(' ');
        if (sp == 0 || sp == std::string::npos || sp + 1 == m.size() || m.find(' ', sp + 1) != std::string::npos)
            throw Error(ErrorKind::invalid_input, fmt::format("CLIP tokenizer: merge {} '{}' is not two tokens "
                                                              "separated by a space", r, m));
        ranks_.emplace(m, static_cast<int32_t>(r));  // a repeated merge keeps its first rank
    }
}

std::vector<std::string> ClipTokenizer::bpe(const std::string& word) const {
    std::vector<std::string> parts;
    for (const char32_t c : decode_utf8(word)) {
        parts.emplace_back();
        append_utf8(parts.back(), c);
    }
    parts.back() += "</w>";
    return detail::bpe_merge(std::move(parts), ranks_);
}

std::vector<int32_t> ClipTokenizer::encode(std::string_view text) const {
    std::u32string norm;
    for (const char32_t c : decode_utf8(text)) {
        if (is_space(c)) {
            if (norm.empty() || norm.back() != U' ') norm.push_back(U' ');
        } else {
            norm.push_back(lower(c));
        }
    }
    std::vector<int32_t> ids{vocab_.bos};
    for (const auto& piece : split_pieces(norm)) {
        std::string utf8;
        for (const char32_t c : piece) append_utf8(utf8, c);
        if (utf8 == "<|startoftext|>" || utf8 == "<|endoftext|>") {
            const auto it = ids_.find(utf8);
            ids.push_back(it != ids_.end() ? it->second : vocab_.unk);
            continue;
        }
        std::string mapped;
        for (const char ch : utf8) mapped += byte_chars()[static_cast<unsigned char>(ch)];
        for (const auto& tok : bpe(mapped)) {
            const auto it = ids_.find(tok);
            ids.push_back(it != ids_.end() ? it->second : vocab_.unk);
        }
    }
    ids.push_back(vocab_.eos);
    return ids;
}

}  // namespace accel::model
