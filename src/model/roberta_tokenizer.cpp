// RobertaTokenizer's encoding (ByteLevel pre-tokenizer with GPT-2's regex, add_prefix_space false, then BPE without
// suffixes, then RobertaProcessing's <s> ... </s>).
#include "accel/model/roberta_tokenizer.h"

#include <limits>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "byte_level_bpe.h"

namespace accel::model {
namespace {

using detail::is_letter;
using detail::is_number;
using detail::is_space;

enum class Kind : uint8_t { letter, number, other };

Kind kind_of(char32_t c) { return is_letter(c) ? Kind::letter : is_number(c) ? Kind::number : Kind::other; }

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ at each position, in that order.
std::vector<std::u32string> split_pieces(const std::u32string& t) {
    static const std::u32string contractions[] = {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
    std::vector<std::u32string> pieces;
    size_t i = 0;
    auto take = [&](size_t n) { pieces.push_back(t.substr(i, n)); i += n; };
    while (i < t.size()) {
        bool matched = false;
        for (const auto& s : contractions)
            if (!matched && t.compare(i, s.size(), s) == 0) { take(s.size()); matched = true; }
        if (matched) continue;
        const size_t start = (t[i] == U' ' && i + 1 < t.size() && !is_space(t[i + 1])) ? i + 1 : i;
        if (!is_space(t[start])) {
            const Kind k = kind_of(t[start]);
            size_t j = start + 1;
            while (j < t.size() && !is_space(t[j]) && kind_of(t[j]) == k) ++j;
            take(j - i);
            continue;
        }
        size_t j = i;
        while (j < t.size() && is_space(t[j])) ++j;
        // \s+(?!\S): a run followed by a non-space leaves its last character (which then starts the next piece)
        take(j < t.size() && j - i > 1 ? j - i - 1 : j - i);
    }
    return pieces;
}

}  // namespace

RobertaTokenizer::RobertaTokenizer(RobertaVocab vocab) : vocab_(std::move(vocab)) {
    const auto n = static_cast<int64_t>(vocab_.tokens.size());
    if (n == 0 || n > std::numeric_limits<int32_t>::max())
        throw Error(ErrorKind::invalid_input, "RoBERTa tokenizer: the vocabulary is empty");
    for (const int32_t id : {vocab_.bos, vocab_.eos, vocab_.unk})
        if (id < 0 || id >= n)
            throw Error(ErrorKind::invalid_input, fmt::format("RoBERTa tokenizer: special id {} is outside the {} "
                                                              "tokens", id, n));
    for (int32_t i = 0; i < static_cast<int32_t>(n); ++i) {
        const std::string& tok = vocab_.tokens[static_cast<size_t>(i)];
        if (!tok.empty() && !ids_.emplace(tok, i).second)
            throw Error(ErrorKind::invalid_input, fmt::format("RoBERTa tokenizer: token {} '{}' repeats", i, tok));
    }
    for (size_t r = 0; r < vocab_.merges.size(); ++r) {
        const std::string& m = vocab_.merges[r];
        const size_t sp = m.find(' ');
        if (sp == 0 || sp == std::string::npos || sp + 1 == m.size() || m.find(' ', sp + 1) != std::string::npos)
            throw Error(ErrorKind::invalid_input, fmt::format("RoBERTa tokenizer: merge {} '{}' is not two tokens "
                                                              "separated by a space", r, m));
        ranks_.emplace(m, static_cast<int32_t>(r));
    }
}

std::vector<int32_t> RobertaTokenizer::encode(std::string_view text) const {
    std::vector<int32_t> ids{vocab_.bos};
    for (const auto& piece : split_pieces(detail::decode_utf8(text))) {
        std::string utf8;
        for (const char32_t c : piece) detail::append_utf8(utf8, c);
        std::vector<std::string> parts;
        for (const char ch : utf8) parts.push_back(detail::byte_chars()[static_cast<unsigned char>(ch)]);
        for (const auto& tok : detail::bpe_merge(std::move(parts), ranks_)) {
            const auto it = ids_.find(tok);
            ids.push_back(it != ids_.end() ? it->second : vocab_.unk);
        }
    }
    ids.push_back(vocab_.eos);
    return ids;
}

}  // namespace accel::model
