// accel's Wav2Vec2 graph against transformers: the wav2vec2 fixtures (tests/fixtures/hf/wav2vec2, random-weight
// Wav2Vec2ForCTC in wav2vec2-base's layout, and wav2vec2_stable in the large lv60 models' one) converted by accel, run on the CPU over the input values transformers' feature extractor gave, its
// CTC logits and encoder output compared with transformers', then the whole path (normalize, run, greedy CTC decode)
// from the raw waveform to the reference's transcription. Limits: the table in docs/conform.md ("Against
// transformers").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/ctc_model.h"
#include "accel/engine/synthetic_model.h"
#include "accel/media/wav2vec2_features.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;
using accel::model::HfMetric;
using accel::test::rel_diff;
using accel::test::table_limit;

nlohmann::json reference(const std::string& fixture = "wav2vec2") {
    return nlohmann::json::parse(accel::test::read_file(accel::test::hf_fixture(fixture) / "reference.json"));
}

std::vector<float> ref_tensor(const std::string& name, const std::string& fixture = "wav2vec2") {
    return accel::test::read_st_tensor(accel::test::hf_fixture(fixture) / "reference.safetensors", name);
}

// Share of frames whose best id is the reference's, counting only frames whose reference margin between its two
// best logits exceeds hf_top1_epsilon (random weights make near-ties that rounding may flip).
double top1(const std::vector<float>& got, const std::vector<float>& ref, size_t n_vocab) {
    size_t same = 0, counted = 0;
    for (size_t f = 0; f * n_vocab < ref.size(); ++f) {
        std::vector<float> row(ref.begin() + f * n_vocab, ref.begin() + (f + 1) * n_vocab);
        const size_t best = std::max_element(row.begin(), row.end()) - row.begin();
        std::vector<float> sorted = row;
        std::sort(sorted.rbegin(), sorted.rend());
        if (sorted[0] - sorted[1] <= accel::model::hf_top1_epsilon) continue;
        ++counted;
        const auto* g = got.data() + f * n_vocab;
        same += static_cast<size_t>(std::max_element(g, g + n_vocab) - g) == best;
    }
    return counted == 0 ? 1.0 : double(same) / double(counted);
}

struct Case {
    std::string fixture;
    ConvertType type;
};

class Wav2Vec2Reference : public testing::TestWithParam<Case> {};

TEST_P(Wav2Vec2Reference, LogitsAndEncoderOutputMatchTransformers) {
    const ConvertType t = GetParam().type;
    const std::string& fx = GetParam().fixture;
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture(fx), tmp / "w.gguf", {.type = t});
    auto model = accel::engine::CtcModel::load(tmp / "w.gguf", {.device = "cpu", .n_threads = 2});
    const auto values = ref_tensor("input_values", fx);
    const auto out = model.run(values);
    const auto logits = ref_tensor("logits", fx), hidden = ref_tensor("last_hidden_state", fx);
    ASSERT_EQ(out.n_frames, 149u);
    ASSERT_EQ(model.n_frames(values.size()), 149u);
    ASSERT_EQ(out.logits.size(), logits.size());
    ASSERT_EQ(out.last_hidden_state.size(), hidden.size());
    const double l = rel_diff(out.logits, logits), h = rel_diff(out.last_hidden_state, hidden);
    const double agree = top1(out.logits, logits, out.n_vocab);
    std::fprintf(stderr, "%s %s: logits %.2e, encoder output %.2e, top-1 %.4f\n", fx.c_str(), accel::model::to_string(t),
                 l, h, agree);
    EXPECT_LE(l, table_limit("wav2vec2", t, HfMetric::logits_rel));
    EXPECT_LE(h, table_limit("wav2vec2", t, HfMetric::state_rel));
    EXPECT_GE(agree, table_limit("wav2vec2", t, HfMetric::top1));
}

INSTANTIATE_TEST_SUITE_P(Types, Wav2Vec2Reference,
                         testing::Values(Case{"wav2vec2", ConvertType::f32}, Case{"wav2vec2", ConvertType::f16},
                                         Case{"wav2vec2", ConvertType::q8_0}, Case{"wav2vec2_stable", ConvertType::f32},
                                         Case{"wav2vec2_stable", ConvertType::f16},
                                         Case{"wav2vec2_stable", ConvertType::q8_0}),
                         [](const auto& p) { return p.param.fixture + "_" + accel::model::to_string(p.param.type); });

// Wav2Vec2FeatureExtractor's normalization of the raw waveform gives transformers' input values.
TEST(Wav2Vec2Features, NormalizeGivesTheExtractorsInputValues) {
    const auto wave = ref_tensor("waveform"), values = ref_tensor("input_values");
    const auto got = accel::media::wav2vec2_normalize(wave);
    ASSERT_EQ(got.size(), values.size());
    double m = 0;
    for (size_t i = 0; i < got.size(); ++i) m = std::max(m, std::fabs(double(got[i]) - values[i]));
    std::fprintf(stderr, "input values: max |accel - transformers| %.2e\n", m);
    EXPECT_LE(m, 1e-5);
    EXPECT_TRUE(accel::media::wav2vec2_normalize({}).empty());
}

// From the waveform to the text: the greedy ids of every frame and their decoding are transformers', in both layouts.
class Wav2Vec2Transcribe : public testing::TestWithParam<std::string> {};

TEST_P(Wav2Vec2Transcribe, GreedyCtcOfTheWaveformIsTransformers) {
    const std::string fx = GetParam();
    const auto ref = reference(fx);
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture(fx), tmp / "w.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::CtcModel::load(tmp / "w.gguf", {.n_threads = 2});
    EXPECT_EQ(model.sampling_rate(), 16000u);
    EXPECT_TRUE(model.do_normalize());
    EXPECT_EQ(model.vocab().tokens.size(), 32u);
    EXPECT_EQ(model.vocab().blank_id, 0);
    const auto wave = ref_tensor("waveform", fx);
    const auto out = model.run(model.preprocess(wave));
    EXPECT_EQ(accel::engine::ctc_greedy_ids(out.logits, out.n_vocab), ref["greedy_ctc_ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(accel::engine::transcribe_ctc(model, wave), ref["greedy_ctc_text"].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Layouts, Wav2Vec2Transcribe, testing::Values("wav2vec2", "wav2vec2_stable"));

// Wav2Vec2CTCTokenizer.decode's rules on a hand-made vocabulary: repeats collapse before blanks are dropped (so a
// blank separates a real double letter), the delimiter becomes a space, the ends are stripped.
TEST(CtcDecode, CollapsesRepeatsDropsBlanksAndReplacesTheDelimiter) {
    accel::engine::CtcVocab v{.tokens = {"<pad>", "<s>", "|", "A", "B", "L"}, .blank_id = 0};
    using Ids = std::vector<int32_t>;
    EXPECT_EQ(accel::engine::ctc_decode(Ids{0, 3, 3, 0, 3, 2, 2, 4, 0, 0}, v), "AA B");
    EXPECT_EQ(accel::engine::ctc_decode(Ids{2, 5, 5, 0, 5, 2, 0, 2}, v), "LL");
    EXPECT_EQ(accel::engine::ctc_decode(Ids{1, 3, 2, 0, 2, 4}, v), "<s>A  B");  // special tokens stay, as HF's default
    EXPECT_EQ(accel::engine::ctc_decode(Ids{}, v), "");
    v.do_lower_case = true;
    EXPECT_EQ(accel::engine::ctc_decode(Ids{3, 2, 4}, v), "a b");
    EXPECT_THROW(accel::engine::ctc_decode(Ids{6}, v), accel::Error);
    EXPECT_EQ(accel::engine::ctc_greedy_ids(std::vector<float>{0, 2, 1, 5, 5, 0}, 3), (Ids{1, 0}));  // first maximum
    EXPECT_THROW(accel::engine::ctc_greedy_ids(std::vector<float>{0, 2}, 3), accel::Error);
}

TEST(Wav2Vec2Load, RefusesOtherModelsAndClipsTooShort) {
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture("vit"), tmp / "vit.gguf", {.type = ConvertType::f32});
    try {
        accel::engine::CtcModel::load(tmp / "vit.gguf");
        ADD_FAILURE() << "a ViT loaded as a CTC model";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("'vit' model is not a CTC speech recognizer"), std::string::npos) << e.what();
    }
    accel::model::convert_hf(accel::test::hf_fixture("wav2vec2"), tmp / "w.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::CtcModel::load(tmp / "w.gguf", {.n_threads = 2});
    EXPECT_EQ(model.n_frames(399), 0u);
    EXPECT_EQ(model.n_frames(400), 1u);
    const std::vector<float> short_clip(399, 0.1f);
    try {
        model.run(short_clip);
        ADD_FAILURE() << "399 samples ran";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("400 samples give the first frame"), std::string::npos) << e.what();
    }
    EXPECT_EQ(model.run(std::vector<float>(400, 0.1f)).n_frames, 1u);
}

}  // namespace

namespace {

// make-model's wav2vec2: wav2vec2-base's shape (one block at 16M), random weights, through accel convert; the same
// spec gives the same bytes, and accel's graph runs it (one frame per 320 samples).
TEST(Wav2Vec2MakeModel, BaseShapeThatTheGraphRuns) {
    accel::test::TempDir tmp;
    accel::engine::SyntheticSpec spec{.arch = "wav2vec2", .n_params_target = 16'000'000,
                                      .type = accel::engine::WeightType::f16, .out = tmp / "a.gguf"};
    const auto a = accel::engine::make_synthetic_model(spec);
    EXPECT_EQ(a.shape.n_layer, 1u);
    EXPECT_EQ(a.shape.n_embd, 768u);
    // conv encoder 4,200,448 + projection 395,008 + positional conv 4,719,360 (its gain g folded in) + encoder norm
    // 1,536 + CTC head 24,608, and one block of 7,087,872
    EXPECT_EQ(a.n_params, 9'340'960u + 7'087'872u);
    EXPECT_TRUE(accel::engine::has_random_weights(a.name));
    spec.out = tmp / "b.gguf";
    EXPECT_EQ(accel::engine::make_synthetic_model(spec).sha256, a.sha256);
    for (const auto& f : std::filesystem::directory_iterator(tmp.path()))
        EXPECT_TRUE(f.path().extension() == ".gguf") << f.path();  // the temporary folder is gone
    auto model = accel::engine::CtcModel::load(a.path, {.n_threads = 2});
    std::vector<float> wave(16000);
    for (size_t i = 0; i < wave.size(); ++i) wave[i] = static_cast<float>(std::sin(0.05 * double(i)));
    const auto out = model.run(model.preprocess(wave));
    EXPECT_EQ(out.n_frames, 49u);
    for (const float v : out.logits) ASSERT_TRUE(std::isfinite(v));
    spec.type = accel::engine::WeightType::q4_0;
    EXPECT_THROW(accel::engine::make_synthetic_model(spec), accel::Error);
}

}  // namespace
