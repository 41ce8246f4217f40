// accel against transformers: each committed Hugging Face fixture (tests/fixtures/hf) converted by accel, run by
// llama.cpp on the CPU, and compared with what transformers computed for the same input: the logits of the
// decoders (llama, qwen2), the tokenization and sentence embeddings of the encoder (bert). The limits are the table
// are model::hf_limits(), the one table that docs/conform.md ("Against transformers") prints and `accel conform`
// uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "accel/engine/embedder.h"
#include "accel/engine/session.h"
#include "accel/engine/token_logits.h"
#include "accel/model/hf_convert.h"
#include "accel/model/hf_limits.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;
using accel::model::HfMetric;
constexpr double top1_epsilon = accel::model::hf_top1_epsilon;

// The limit of the one table; a class and type the table has no row for is a mistake in this test.
double limit(const std::string& cls, ConvertType type, HfMetric metric) {
    const auto l = accel::model::hf_limit(cls, type, metric);
    if (!l) throw std::runtime_error("model::hf_limits() has no " + cls + " " + accel::model::to_string(type) + " row");
    return *l;
}

struct Limit {
    ConvertType type;
    double max_rel_diff;  // max |accel - reference| / (max - min of the reference logits)
    double min_top1 = 1.0;  // share of positions with a reference margin > top1_epsilon whose top-1 must agree
};

struct Case {
    std::string cls;
    Limit limit;
};

Case decoder_case(const std::string& cls, ConvertType type) {
    return {cls, {type, limit(cls, type, HfMetric::logits_rel), limit(cls, type, HfMetric::top1)}};
}

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

// Limits: model::hf_limits() (docs/conform.md, "Against transformers").
INSTANTIATE_TEST_SUITE_P(Fixtures, HfReference,
                         testing::Values(decoder_case("llama", ConvertType::f32), decoder_case("qwen2", ConvertType::f32),
                                         decoder_case("llama", ConvertType::f16), decoder_case("qwen2", ConvertType::f16),
                                         decoder_case("llama", ConvertType::q8_0), decoder_case("qwen2", ConvertType::q8_0)),
                         [](const testing::TestParamInfo<Case>& p) {
                             return p.param.cls + "_" + accel::model::to_string(p.param.limit.type);
                         });

// ---- BERT: tokenizer ids, pooled embeddings and per-token states against transformers

struct VectorDiff {
    double max_abs = 0, cosine = 0;
};

VectorDiff compare(const std::vector<float>& got, const float* ref, size_t n) {
    double dot = 0, g2 = 0, r2 = 0, max_abs = 0;
    for (size_t i = 0; i < n; ++i) {
        dot += double(got[i]) * ref[i];
        g2 += double(got[i]) * got[i];
        r2 += double(ref[i]) * ref[i];
        max_abs = std::max(max_abs, std::fabs(double(got[i]) - ref[i]));
    }
    return {max_abs, dot / std::sqrt(g2 * r2)};
}

struct BertCase {
    ConvertType type;
    double max_abs_normalized;  // mean-pooled, L2-normalised embedding: max |accel - reference|
    double min_cosine;
    double max_rel_state;       // the [CLS] and last token states (pooling cls / last): max |diff| / (max - min) of
                                // the reference's last_hidden_state
};

class HfBertReference : public testing::TestWithParam<BertCase> {};

std::vector<float> embed_one(const accel::engine::LoadedModel& m, const std::string& text, accel::engine::Pooling pooling,
                             bool normalize) {
    auto s = accel::engine::Session::open(m, {.n_ctx = 128, .n_threads = 2, .flash_attn = accel::model::FlashAttn::off,
                                              .embeddings = true, .pooling = pooling});
    return accel::engine::embed(s, {text}, {.normalize = normalize}).at(0);
}

TEST_P(HfBertReference, TokenizationAndEmbeddingsMatchTransformers) {
    using accel::engine::Pooling;
    const BertCase c = GetParam();
    const auto dir = accel::test::hf_fixture("bert");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    const std::string text = ref["text"].get<std::string>();
    const auto ids = ref["input_ids"].get<std::vector<int32_t>>();
    const auto st = dir / "reference.safetensors";
    const auto mean_ref = accel::test::read_st_tensor(st, "mean_pooled_normalized");
    const auto states = accel::test::read_st_tensor(st, "last_hidden_state");
    const size_t n_embd = mean_ref.size();
    ASSERT_EQ(states.size(), ids.size() * n_embd);
    const auto [lo, hi] = std::minmax_element(states.begin(), states.end());
    const double range = *hi - *lo;

    accel::test::TempDir tmp;
    const auto gguf = tmp / "bert.gguf";
    accel::model::convert_hf(dir, gguf, {.type = c.type});
    const auto m = accel::engine::LoadedModel::load(gguf);
    // (a) llama.cpp's WPM tokenizer over the converted vocabulary gives transformers' ids, [CLS] and [SEP] included
    EXPECT_EQ(accel::engine::tokenize(m, text, true), ids);

    // (b) the sentence embedding: mean over every token, L2-normalised
    const auto mean = compare(embed_one(m, text, Pooling::mean, true), mean_ref.data(), n_embd);
    // (c) per-token states: the engine returns pooled vectors only, so the first ([CLS]) and last ([SEP]) rows of
    // last_hidden_state, through pooling cls and last without normalisation
    const auto first = compare(embed_one(m, text, Pooling::cls, false), states.data(), n_embd);
    const auto last = compare(embed_one(m, text, Pooling::last, false), states.data() + (ids.size() - 1) * n_embd, n_embd);
    std::printf("bert %s: mean-pooled normalized max |diff| %.3g cosine 1 - %.3g (limits %.3g, 1 - %.3g); "
                "[CLS] state max |diff| %.3g, last state %.3g, over the states' range %.3g = %.3g (limit %.3g)\n",
                accel::model::to_string(c.type), mean.max_abs, 1 - mean.cosine, c.max_abs_normalized, 1 - c.min_cosine,
                first.max_abs, last.max_abs, range, std::max(first.max_abs, last.max_abs) / range,
                c.max_rel_state);
    EXPECT_LE(mean.max_abs, c.max_abs_normalized);
    EXPECT_GE(mean.cosine, c.min_cosine);
    EXPECT_LE(std::max(first.max_abs, last.max_abs) / range, c.max_rel_state);
}

BertCase bert_case(ConvertType type) {
    return {type, limit("bert", type, HfMetric::embedding_max_abs), limit("bert", type, HfMetric::embedding_cosine),
            limit("bert", type, HfMetric::state_rel)};
}

// Limits: model::hf_limits() (docs/conform.md, "Against transformers").
INSTANTIATE_TEST_SUITE_P(Fixtures, HfBertReference,
                         testing::Values(bert_case(ConvertType::f32), bert_case(ConvertType::f16),
                                         bert_case(ConvertType::bf16), bert_case(ConvertType::q8_0)),
                         [](const testing::TestParamInfo<BertCase>& p) {
                             return std::string("bert_") + accel::model::to_string(p.param.type);
                         });

// ---- BertForSequenceClassification: the classification head (pooler, tanh, classifier) through llama.cpp's
// pooling "rank", against transformers' logits.

class HfBertClassifier : public testing::TestWithParam<ConvertType> {};

TEST_P(HfBertClassifier, LogitsMatchTransformers) {
    const ConvertType type = GetParam();
    const auto dir = accel::test::hf_fixture("bert_cls");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    const auto expected = accel::test::read_st_tensor(dir / "reference.safetensors", "logits");
    ASSERT_EQ(expected.size(), 3u);  // negative, neutral, positive

    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "cls.gguf", {.type = type});
    const auto m = accel::engine::LoadedModel::load(tmp / "cls.gguf");
    EXPECT_EQ(accel::engine::tokenize(m, ref["text"].get<std::string>(), true), ref["input_ids"].get<std::vector<int32_t>>());
    // the model's own pooling is rank: the converter wrote it
    auto s = accel::engine::Session::open(m, {.n_ctx = 128, .n_threads = 2, .flash_attn = accel::model::FlashAttn::off,
                                              .embeddings = true});
    EXPECT_EQ(s.pooling(), accel::engine::Pooling::rank);
    const auto got = accel::engine::embed(s, {ref["text"].get<std::string>()}, {}).at(0);
    ASSERT_EQ(got.size(), expected.size());
    const auto [lo, hi] = std::minmax_element(expected.begin(), expected.end());
    double max_diff = 0;
    for (size_t i = 0; i < got.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(got[i]) - expected[i]));
    const double rel = max_diff / (*hi - *lo);
    std::printf("bert_cls %s: logits accel [%.6f %.6f %.6f] transformers [%.6f %.6f %.6f], max |diff| %.3g / range "
                "%.3g = %.3g (limit %.3g)\n", accel::model::to_string(type), got[0], got[1], got[2], expected[0],
                expected[1], expected[2], max_diff, double(*hi - *lo), rel, limit("bert", type, HfMetric::class_logits_rel));
    EXPECT_LE(rel, limit("bert", type, HfMetric::class_logits_rel));
    // the same label wins
    EXPECT_EQ(std::max_element(got.begin(), got.end()) - got.begin(), hi - expected.begin());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfBertClassifier,
                         testing::Values(ConvertType::f32, ConvertType::f16, ConvertType::bf16, ConvertType::q8_0),
                         [](const testing::TestParamInfo<ConvertType>& p) {
                             return std::string("bert_cls_") + accel::model::to_string(p.param);
                         });

// ---- BERT: where the remaining difference comes from. An independent float64 forward pass over the fixture's
// safetensors, once with transformers' erf GELU and once with the GELU of ggml's CPU backend (tanh approximation,
// looked up in an f16 table: GGML_GELU_FP16 in ggml-cpu/vec.h), each compared with its own counterpart.

double gelu_erf(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

double gelu_tanh(double x) {
    return 0.5 * x * (1 + std::tanh(0.79788456080286535587989211986876 * x * (1 + 0.044715 * x * x)));
}

double gelu_ggml_cpu(double xd) {
    const auto x = static_cast<float>(xd);
    if (x <= -10.0f) return 0;
    if (x >= 10.0f) return x;
    const auto h = static_cast<float>(static_cast<_Float16>(x));
    const float g = 0.5f * h * (1.0f + std::tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
    return static_cast<float>(static_cast<_Float16>(g));
}

using Rows = std::vector<std::vector<double>>;

void layer_norm(Rows& x, const std::vector<float>& w, const std::vector<float>& b, double eps) {
    for (auto& r : x) {
        double mean = 0, var = 0;
        for (double v : r) mean += v;
        mean /= double(r.size());
        for (double v : r) var += (v - mean) * (v - mean);
        const double inv = 1 / std::sqrt(var / double(r.size()) + eps);
        for (size_t i = 0; i < r.size(); ++i) r[i] = (r[i] - mean) * inv * w[i] + b[i];
    }
}

Rows linear(const Rows& x, const std::vector<float>& w, const std::vector<float>& b) {  // x W^T + b, W [out, in]
    Rows y(x.size(), std::vector<double>(b.size()));
    for (size_t t = 0; t < x.size(); ++t)
        for (size_t o = 0; o < b.size(); ++o) {
            double acc = b[o];
            for (size_t i = 0; i < x[t].size(); ++i) acc += double(w[o * x[t].size() + i]) * x[t][i];
            y[t][o] = acc;
        }
    return y;
}

Rows attention(const Rows& q, const Rows& k, const Rows& v, size_t n_head) {
    const size_t n = q.size(), d = q[0].size() / n_head;
    Rows out(n, std::vector<double>(q[0].size()));
    for (size_t h = 0; h < n_head; ++h)
        for (size_t i = 0; i < n; ++i) {
            std::vector<double> p(n);
            double top = -1e300, sum = 0;
            for (size_t j = 0; j < n; ++j) {
                for (size_t e = 0; e < d; ++e) p[j] += q[i][h * d + e] * k[j][h * d + e];
                p[j] /= std::sqrt(double(d));
                top = std::max(top, p[j]);
            }
            for (double& x : p) sum += (x = std::exp(x - top));
            for (size_t j = 0; j < n; ++j)
                for (size_t e = 0; e < d; ++e) out[i][h * d + e] += p[j] / sum * v[j][h * d + e];
        }
    return out;
}

Rows bert_forward(const std::filesystem::path& dir, const std::vector<int32_t>& ids, double (*gelu)(double)) {
    const auto config = nlohmann::json::parse(accel::test::read_file(dir / "config.json"));
    const auto st = dir / "model.safetensors";
    auto w = [&](const std::string& name) { return accel::test::read_st_tensor(st, name); };
    const size_t n_embd = config["hidden_size"], n_head = config["num_attention_heads"];
    const double eps = config["layer_norm_eps"];
    const auto word = w("embeddings.word_embeddings.weight"), pos = w("embeddings.position_embeddings.weight"),
               type = w("embeddings.token_type_embeddings.weight");
    Rows x(ids.size(), std::vector<double>(n_embd));
    for (size_t t = 0; t < ids.size(); ++t)
        for (size_t e = 0; e < n_embd; ++e)
            x[t][e] = double(word[size_t(ids[t]) * n_embd + e]) + pos[t * n_embd + e] + type[e];
    layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps);
    for (int l = 0; l < config["num_hidden_layers"].get<int>(); ++l) {
        const std::string p = "encoder.layer." + std::to_string(l) + ".";
        auto lin = [&](const Rows& in, const std::string& m) { return linear(in, w(p + m + ".weight"), w(p + m + ".bias")); };
        const Rows a = lin(attention(lin(x, "attention.self.query"), lin(x, "attention.self.key"),
                                     lin(x, "attention.self.value"), n_head),
                           "attention.output.dense");
        for (size_t t = 0; t < x.size(); ++t)
            for (size_t e = 0; e < n_embd; ++e) x[t][e] += a[t][e];
        layer_norm(x, w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"), eps);
        Rows h = lin(x, "intermediate.dense");
        for (auto& r : h)
            for (double& v : r) v = gelu(v);
        const Rows o = lin(h, "output.dense");
        for (size_t t = 0; t < x.size(); ++t)
            for (size_t e = 0; e < n_embd; ++e) x[t][e] += o[t][e];
        layer_norm(x, w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"), eps);
    }
    return x;
}

double max_abs_diff(const std::vector<double>& a, const float* b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

TEST(HfBertReference, TheRemainingDifferenceIsGgmlsGelu) {
    using accel::engine::Pooling;
    const auto dir = accel::test::hf_fixture("bert");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    const auto ids = ref["input_ids"].get<std::vector<int32_t>>();
    const auto states = accel::test::read_st_tensor(dir / "reference.safetensors", "last_hidden_state");
    const Rows erf = bert_forward(dir, ids, gelu_erf), ggml = bert_forward(dir, ids, gelu_ggml_cpu),
               tanh = bert_forward(dir, ids, gelu_tanh);
    const size_t n_embd = erf[0].size(), n = ids.size();

    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "bert.gguf", {.type = ConvertType::f32});
    const auto m = accel::engine::LoadedModel::load(tmp / "bert.gguf");
    const auto cls = embed_one(m, ref["text"].get<std::string>(), Pooling::cls, false);
    const auto last = embed_one(m, ref["text"].get<std::string>(), Pooling::last, false);
    double erf_vs_hf = 0, erf_vs_ggml = 0, erf_vs_tanh = 0;
    for (size_t t = 0; t < n; ++t) {
        erf_vs_hf = std::max(erf_vs_hf, max_abs_diff(erf[t], states.data() + t * n_embd));
        erf_vs_ggml = std::max(erf_vs_ggml, max_abs_diff(erf[t], std::vector<float>(ggml[t].begin(), ggml[t].end()).data()));
        erf_vs_tanh = std::max(erf_vs_tanh, max_abs_diff(erf[t], std::vector<float>(tanh[t].begin(), tanh[t].end()).data()));
    }
    const double ggml_vs_accel = std::max(max_abs_diff(ggml[0], cls.data()), max_abs_diff(ggml[n - 1], last.data()));
    std::printf("bert float64 pass: erf GELU vs transformers %.3g; ggml's CPU GELU vs accel ([CLS], last) %.3g; "
                "erf vs ggml's GELU %.3g (vs the exact tanh approximation %.3g)\n", erf_vs_hf, ggml_vs_accel, erf_vs_ggml,
                erf_vs_tanh);
    EXPECT_LE(erf_vs_hf, 1e-5);     // the float64 pass is transformers' BERT...
    EXPECT_LE(ggml_vs_accel, 1e-5); // ...and with ggml's GELU it is accel's
    EXPECT_GT(erf_vs_ggml, 10 * std::max(erf_vs_hf, ggml_vs_accel));  // the GELU is what separates them
}

}  // namespace
