// accel against transformers for T5: the committed fixtures tests/fixtures/hf/t5 (T5ForConditionalGeneration) and
// t5_encoder (T5EncoderModel) converted by accel, run by llama.cpp on the CPU (llama_encode, then the decoder from
// its start token) and compared with what transformers computed: llama.cpp's tokenization of the reference text,
// the encoder's output, and the decoder's teacher-forced logits over the reference's own greedy ids. The limits are
// the table in docs/conform.md ("Against transformers").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/engine/token_logits.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;

// Top-1 must agree wherever the reference's own margin between its two best logits exceeds this (logit units).
constexpr double top1_epsilon = 0.01;

using accel::test::rel_diff;

// accel's f32 logits then encoder states, raw little-endian floats: what scripts/oracle/t5_gelu_probe.py compares
// with a float64 transformers pass that uses ggml's CPU GELU.
void write_floats(const char* path, const accel::engine::Seq2SeqLogits& got) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path, "wb"), std::fclose);
    ASSERT_TRUE(f) << path;
    for (const auto* v : {&got.logits.values, &got.encoder_states})
        ASSERT_EQ(std::fwrite(v->data(), sizeof(float), v->size(), f.get()), v->size()) << path;
}

struct T5Case {
    ConvertType type;
    double max_rel_logits;   // decoder logits: max |diff| / range of the reference logits
    double max_rel_encoder;  // encoder output: max |diff| / range of the reference states
    double min_top1 = 1.0;   // share of rows with a reference margin > top1_epsilon whose top-1 must agree
};

using accel::model::HfMetric;
double t5_limit(ConvertType t, HfMetric m) { return accel::test::table_limit("t5", t, m); }

class HfT5Reference : public testing::TestWithParam<T5Case> {};

TEST_P(HfT5Reference, EncoderOutputAndTeacherForcedLogitsMatchTransformers) {
    const T5Case c = GetParam();
    const auto dir = accel::test::hf_fixture("t5");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    const auto input_ids = ref["input_ids"].get<std::vector<int32_t>>();
    const auto generated = ref["generated_ids"].get<std::vector<int32_t>>();
    const auto margins = ref["top1_margins"].get<std::vector<double>>();
    const auto st = dir / "reference.safetensors";
    const auto expected = accel::test::read_st_tensor(st, "logits");
    const auto enc_expected = accel::test::read_st_tensor(st, "encoder_last_hidden_state");

    accel::test::TempDir tmp;
    const auto gguf = tmp / "t5.gguf";
    accel::model::convert_hf(dir, gguf, {.type = c.type});
    const auto got = accel::engine::seq2seq_logits(gguf, input_ids, generated, "cpu", 2);
    ASSERT_EQ(got.decoder_start_token, ref["decoder_start_token_id"].get<int32_t>());
    ASSERT_EQ(got.logits.n_rows, generated.size() + 1);
    ASSERT_EQ(got.logits.values.size(), expected.size());
    ASSERT_EQ(got.encoder_states.size(), enc_expected.size());
    const size_t n_vocab = got.logits.n_vocab;

    const double rel = rel_diff(got.logits.values, expected);
    if (const char* dump = std::getenv("ACCEL_T5_DUMP"); dump != nullptr && c.type == ConvertType::f32)
        write_floats(dump, got);  // for scripts/oracle/t5_gelu_probe.py
    const double rel_enc = rel_diff(got.encoder_states, enc_expected);
    auto argmax = [&](const float* row) { return static_cast<size_t>(std::max_element(row, row + n_vocab) - row); };
    size_t n_checked = 0, n_agree = 0;
    for (size_t r = 0; r < got.logits.n_rows; ++r) {
        const float* e = expected.data() + r * n_vocab;
        std::vector<float> sorted(e, e + n_vocab);
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
        if (sorted[0] - sorted[1] <= top1_epsilon) continue;
        ++n_checked;
        n_agree += argmax(got.logits.values.data() + r * n_vocab) == argmax(e);
    }
    // the greedy steps: row k (after the start token and k generated ids) predicted generated[k] in transformers
    for (size_t k = 0; k < generated.size() && c.min_top1 == 1.0; ++k) {
        if (margins[k] <= top1_epsilon) continue;
        EXPECT_EQ(argmax(got.logits.values.data() + k * n_vocab), static_cast<size_t>(generated[k]))
            << "greedy step " << k << " (reference margin " << margins[k] << ")";
    }
    std::printf("t5 %s: decoder logits max |diff| / range %.3g (limit %.3g); encoder output %.3g (limit %.3g); "
                "top-1 %zu/%zu rows with margin > %.2g\n",
                accel::model::to_string(c.type), rel, c.max_rel_logits, rel_enc, c.max_rel_encoder, n_agree, n_checked,
                top1_epsilon);
    EXPECT_LE(rel, c.max_rel_logits);
    EXPECT_LE(rel_enc, c.max_rel_encoder);
    EXPECT_GE(double(n_agree), c.min_top1 * double(n_checked));
}

// Limits: docs/conform.md, "Against transformers".
INSTANTIATE_TEST_SUITE_P(Fixtures, HfT5Reference,
                         testing::ValuesIn([] {
                             std::vector<T5Case> cases;
                             for (const auto type : {ConvertType::f32, ConvertType::f16, ConvertType::q8_0}) {
                                 cases.push_back({type, t5_limit(type, HfMetric::logits_rel),
                                                  t5_limit(type, HfMetric::state_rel), t5_limit(type, HfMetric::top1)});
                             }
                             return cases;
                         }()),
                         [](const testing::TestParamInfo<T5Case>& p) {
                             return std::string("t5_") + accel::model::to_string(p.param.type);
                         });

// llama.cpp's UGM tokenizer over the converted vocabulary (pieces, scores, the precompiled charsmap) gives
// transformers' ids for the reference text, the trailing </s> included.
TEST(HfT5Reference, TokenizationMatchesTransformers) {
    for (const char* cls : {"t5", "t5_encoder"}) {
        const auto dir = accel::test::hf_fixture(cls);
        const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
        accel::test::TempDir tmp;
        accel::model::convert_hf(dir, tmp / "m.gguf", {.type = ConvertType::f32});
        const auto m = accel::engine::LoadedModel::load(tmp / "m.gguf");
        EXPECT_EQ(accel::engine::tokenize(m, ref["text"].get<std::string>(), true),
                  ref["input_ids"].get<std::vector<int32_t>>())
            << cls;
    }
}

struct EncoderCase {
    ConvertType type;
    double max_rel;  // max |diff| / range of the reference's last_hidden_state
};

class HfT5EncoderReference : public testing::TestWithParam<EncoderCase> {};

TEST_P(HfT5EncoderReference, LastHiddenStateMatchesTransformers) {
    const EncoderCase c = GetParam();
    const auto dir = accel::test::hf_fixture("t5_encoder");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    const auto expected = accel::test::read_st_tensor(dir / "reference.safetensors", "last_hidden_state");
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "e.gguf", {.type = c.type});
    const auto got = accel::engine::seq2seq_logits(tmp / "e.gguf", ref["input_ids"].get<std::vector<int32_t>>(), {},
                                                   "cpu", 2);
    EXPECT_EQ(got.decoder_start_token, -1);  // encoder only: no decoder, no logits
    EXPECT_EQ(got.logits.n_rows, 0u);
    const double rel = rel_diff(got.encoder_states, expected);
    std::printf("t5_encoder %s: last_hidden_state max |diff| / range %.3g (limit %.3g)\n",
                accel::model::to_string(c.type), rel, c.max_rel);
    EXPECT_LE(rel, c.max_rel);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfT5EncoderReference,
                         testing::Values(EncoderCase{ConvertType::f32, t5_limit(ConvertType::f32, HfMetric::state_rel)},
                                         EncoderCase{ConvertType::bf16, t5_limit(ConvertType::bf16, HfMetric::state_rel)}),
                         [](const testing::TestParamInfo<EncoderCase>& p) {
                             return std::string("t5_encoder_") + accel::model::to_string(p.param.type);
                         });

TEST(HfT5Reference, Seq2SeqRefusesADecoderOnlyModelAndBadIds) {
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture("llama"), tmp / "llama.gguf", {.type = ConvertType::f16});
    EXPECT_THROW(accel::engine::seq2seq_logits(tmp / "llama.gguf", {1, 2, 3}, {}), accel::Error);
    accel::model::convert_hf(accel::test::hf_fixture("t5"), tmp / "t5.gguf", {.type = ConvertType::f16});
    EXPECT_THROW(accel::engine::seq2seq_logits(tmp / "t5.gguf", {}, {}), accel::Error);
    EXPECT_THROW(accel::engine::seq2seq_logits(tmp / "t5.gguf", {1, 100000}, {}), accel::Error);
    EXPECT_THROW(accel::engine::seq2seq_logits(tmp / "t5.gguf", {1}, {-1}), accel::Error);
}

}  // namespace
