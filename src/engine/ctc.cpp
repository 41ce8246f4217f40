// CTC greedy decoding as Wav2Vec2CTCTokenizer.decode does it (transformers' tokenization_wav2vec2.py,
// convert_tokens_to_string with group_tokens), and the transcription path over CtcModel.
#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/ctc_model.h"

namespace accel::engine {

std::vector<int32_t> ctc_greedy_ids(std::span<const float> logits, uint32_t n_vocab) {
    if (n_vocab == 0 || logits.size() % n_vocab != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{} logits are not whole frames of {}", logits.size(), n_vocab));
    std::vector<int32_t> ids;
    for (size_t f = 0; f < logits.size(); f += n_vocab) {
        const auto row = logits.subspan(f, n_vocab);
        ids.push_back(static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin()));
    }
    return ids;
}

std::string ctc_decode(std::span<const int32_t> ids, const CtcVocab& vocab) {
    std::string text;
    for (size_t i = 0; i < ids.size(); ++i) {
        const int32_t id = ids[i];
        if (id < 0 || static_cast<size_t>(id) >= vocab.tokens.size())
            throw Error(ErrorKind::invalid_input, fmt::format("CTC id {} is outside the vocabulary of {}", id,
                                                              vocab.tokens.size()));
        const std::string& token = vocab.tokens[static_cast<size_t>(id)];
        // tokens, not ids, are grouped and compared (two ids of one text merge, as groupby over the tokens does)
        if (i > 0 && vocab.tokens[static_cast<size_t>(ids[i - 1])] == token) continue;
        if (token == vocab.tokens[static_cast<size_t>(vocab.blank_id)]) continue;
        text += token == vocab.word_delimiter ? vocab.replace_word_delimiter : token;
    }
    const auto first = text.find_first_not_of(" \t\n\r\f\v");
    text = first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(" \t\n\r\f\v") - first + 1);
    if (vocab.do_lower_case)
        std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string transcribe_ctc(CtcModel& model, std::span<const float> samples) {
    const auto values = model.preprocess(samples);
    const CtcOutput out = model.run(values);
    return ctc_decode(ctc_greedy_ids(out.logits, out.n_vocab), model.vocab());
}

}  // namespace accel::engine
