// accel against transformers: each committed Hugging Face fixture (tests/fixtures/hf) converted by accel, run by
// llama.cpp on the CPU, and compared with the logits transformers computed for the same token ids. The limits are
// the table in docs/conform.md ("Against transformers").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "accel/engine/token_logits.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;

struct Limit {
    ConvertType type;
    double max_rel_diff;  // max |accel - reference| / (max - min of the reference logits)
    double min_top1 = 1.0;  // share of positions with a reference margin > top1_epsilon whose top-1 must agree
};

// Top-1 must agree wherever the reference's own margin between its two best logits exceeds this (logit units):
// random weights give near-ties that float rounding may legitimately flip.
constexpr double top1_epsilon = 0.01;

struct Case {
    std::string cls;
    Limit limit;
};

class HfReference : public testing::TestWithParam<Case> {};

TEST_P(HfReference, LogitsAndTeacherForcedGreedyMatchTransformers) {
    const Case c = GetParam();
    const auto dir = accel::test::hf_fixture(c.cls);
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    std::vector<int32_t> tokens = ref["input_ids"].get<std::vector<int32_t>>();
    const auto generated = ref["generated_ids"].get<std::vector<int32_t>>();
    const auto margins = ref["top1_margins"].get<std::vector<double>>();
    const size_t n_prompt = tokens.size();
    tokens.insert(tokens.end(), generated.begin(), generated.end());
    const auto expected = accel::test::read_st_tensor(dir / "reference.safetensors", "logits");

    accel::test::TempDir tmp;
    const auto gguf = tmp / (c.cls + ".gguf");
    accel::model::convert_hf(dir, gguf, {.type = c.limit.type});
    const auto got = accel::engine::token_logits(gguf, tokens, "cpu", 2);
    ASSERT_EQ(got.n_rows, tokens.size());
    ASSERT_EQ(got.values.size(), expected.size());
    const size_t n_vocab = got.n_vocab;

    const auto [lo, hi] = std::minmax_element(expected.begin(), expected.end());
    double max_diff = 0;
    for (size_t i = 0; i < expected.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(got.values[i]) - expected[i]));
    const double rel = max_diff / (*hi - *lo);

    auto argmax = [&](const float* row) { return static_cast<size_t>(std::max_element(row, row + n_vocab) - row); };
    size_t n_checked = 0, n_agree = 0;
    for (size_t r = 0; r < tokens.size(); ++r) {
        const float* e = expected.data() + r * n_vocab;
        std::vector<float> sorted(e, e + n_vocab);
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
        if (sorted[0] - sorted[1] <= top1_epsilon) continue;
        ++n_checked;
        n_agree += argmax(got.values.data() + r * n_vocab) == argmax(e);
    }
    // the greedy steps: row n_prompt - 1 + k predicted generated[k] in transformers' own generation
    for (size_t k = 0; k < generated.size() && c.limit.min_top1 == 1.0; ++k) {
        if (margins[k] <= top1_epsilon) continue;
        EXPECT_EQ(argmax(got.values.data() + (n_prompt - 1 + k) * n_vocab), static_cast<size_t>(generated[k]))
            << c.cls << " greedy step " << k << " (reference margin " << margins[k] << ")";
    }
    std::printf("%s %s: max |diff| %.3g over range %.3g = %.3g (limit %.3g); top-1 %zu/%zu rows with margin > %.2g\n",
                c.cls.c_str(), accel::model::to_string(c.limit.type), max_diff, double(*hi - *lo), rel,
                c.limit.max_rel_diff, n_agree, n_checked, top1_epsilon);
    EXPECT_LE(rel, c.limit.max_rel_diff) << c.cls;
    EXPECT_GE(double(n_agree), c.limit.min_top1 * double(n_checked)) << c.cls;
}

// Limits: docs/conform.md, "Against transformers".
INSTANTIATE_TEST_SUITE_P(Fixtures, HfReference,
                         testing::Values(Case{"llama", {ConvertType::f32, 1e-5}}, Case{"qwen2", {ConvertType::f32, 1e-5}},
                                         Case{"llama", {ConvertType::f16, 2e-3}}, Case{"qwen2", {ConvertType::f16, 2e-3}},
                                         Case{"llama", {ConvertType::q8_0, 5e-2, 0.9}},
                                         Case{"qwen2", {ConvertType::q8_0, 5e-2, 0.9}}),
                         [](const testing::TestParamInfo<Case>& p) {
                             return p.param.cls + "_" + accel::model::to_string(p.param.limit.type);
                         });

}  // namespace
