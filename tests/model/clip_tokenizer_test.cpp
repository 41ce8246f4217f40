// model::ClipTokenizer against transformers' CLIPTokenizer: the clip fixture's vocab.json and merges.txt (written by
// scripts/oracle/fixture_clip.py, which checks CLIPTokenizer and CLIPTokenizerFast agree) and its texts'
// input_ids; and rules shown on hand-made vocabularies, each expectation derived by hand from tokenization_clip.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/model/clip_tokenizer.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ClipTokenizer;
using accel::model::ClipVocab;

ClipVocab fixture_vocab() {
    const auto dir = accel::test::hf_fixture("clip");
    const auto vocab = nlohmann::json::parse(accel::test::read_file(dir / "vocab.json"));
    ClipVocab v;
    v.tokens.resize(vocab.size());
    for (const auto& [tok, id] : vocab.items()) v.tokens.at(id.get<size_t>()) = tok;
    const std::string merges = accel::test::read_file(dir / "merges.txt");
    for (size_t at = 0, nl; (nl = merges.find('\n', at)) != std::string::npos; at = nl + 1)
        if (const auto line = merges.substr(at, nl - at); !line.starts_with("#version")) v.merges.push_back(line);
    v.bos = vocab["<|startoftext|>"];
    v.eos = vocab["<|endoftext|>"];
    v.unk = v.eos;  // CLIPTokenizer's unk_token
    return v;
}

TEST(ClipTokenizer, FixtureTextsGiveTransformersIds) {
    const auto ref = nlohmann::json::parse(accel::test::read_file(accel::test::hf_fixture("clip") / "reference.json"));
    const ClipTokenizer tok(fixture_vocab());
    const auto texts = ref["texts"].get<std::vector<std::string>>();
    ASSERT_EQ(texts.size(), ref["input_ids"].size());
    for (size_t i = 0; i < texts.size(); ++i) {
        auto ids = tok.encode(texts[i]);
        ids.resize(8, tok.vocab().eos);  // transformers padded to 8 with EOS
        EXPECT_EQ(ids, ref["input_ids"][i].get<std::vector<int32_t>>()) << texts[i];
    }
}

TEST(ClipTokenizer, UnknownPiecesBecomeTheUnknownId) {
    const ClipTokenizer tok(fixture_vocab());
    const auto& v = tok.vocab();
    auto id = [&](const std::string& s) {
        return static_cast<int32_t>(std::find(v.tokens.begin(), v.tokens.end(), s) - v.tokens.begin());
    };
    // "red" is one token; "?" has no token; "cat" after "red" in one word is not split as words are
    EXPECT_EQ(tok.encode("RED ?"), (std::vector<int32_t>{v.bos, id("red</w>"), v.unk, v.eos}));
    EXPECT_EQ(tok.encode(""), (std::vector<int32_t>{v.bos, v.eos}));
    EXPECT_EQ(tok.encode("\t \n"), (std::vector<int32_t>{v.bos, v.eos}));
    EXPECT_THROW(tok.encode("\xff"), accel::Error);
}

// A vocabulary of the byte-level forms: "é" is bytes C3 A9, which GPT-2's map turns into "Ã" and "©"; "É" lowercases
// to "é" first; "don't" splits as "don" + "'t"; a digit run splits per digit; punctuation runs stay together.
TEST(ClipTokenizer, PatternBytesAndMerges) {
    ClipVocab v;
    v.tokens = {"<|startoftext|>", "<|endoftext|>", "Ã", "©</w>", "Ã©</w>", "d", "o", "n</w>", "do", "don</w>",
                "'t</w>", "1</w>", "2</w>", "!?</w>", "'", "t</w>"};
    v.merges = {"Ã ©</w>", "d o", "do n</w>", "' t</w>", "! ?</w>"};
    v.bos = 0;
    v.eos = v.unk = 1;
    const ClipTokenizer tok(v);
    EXPECT_EQ(tok.encode("\xc3\x89"), (std::vector<int32_t>{0, 4, 1}));  // É -> é -> one merged token
    EXPECT_EQ(tok.encode("DON'T 12 !?"), (std::vector<int32_t>{0, 9, 10, 11, 12, 13, 1}));
    v.merges.clear();
    const ClipTokenizer no_merges(v);
    EXPECT_EQ(no_merges.encode("\xc3\xa9"), (std::vector<int32_t>{0, 2, 3, 1}));
}

TEST(ClipTokenizer, RefusesMalformedVocabularies) {
    ClipVocab v{.tokens = {"a", "b"}, .merges = {}, .bos = 0, .eos = 2, .unk = 0};
    EXPECT_THROW(ClipTokenizer{v}, accel::Error);  // eos outside
    v.eos = 1;
    v.tokens = {"a", "a"};
    EXPECT_THROW(ClipTokenizer{v}, accel::Error);  // repeated token
    v.tokens = {"a", "b"};
    v.merges = {"ab"};
    EXPECT_THROW(ClipTokenizer{v}, accel::Error);  // not two tokens
}

}  // namespace
