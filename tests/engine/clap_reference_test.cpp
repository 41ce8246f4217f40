// accel's CLAP graphs against transformers: the clap fixture (tests/fixtures/hf/clap, a random-weight ClapModel: its
// numbers mean nothing about audio or text, only about agreement) converted by accel, run on the CPU over
// transformers' input features and input ids, compared with transformers' normalized audio and text embeddings and
// logits_per_audio; then the same from the waveform through accel's own ClapFeatureExtractor. Limits: the table in
// docs/conform.md ("Against transformers").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/clap_model.h"
#include "accel/engine/quantize.h"
#include "accel/engine/synthetic_model.h"
#include "accel/media/clap_features.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;
using accel::model::HfMetric;

double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

std::vector<std::vector<int32_t>> unpadded_ids(const nlohmann::json& ref) {
    std::vector<std::vector<int32_t>> texts;
    for (size_t i = 0; i < ref["input_ids"].size(); ++i) {
        std::vector<int32_t> t;
        for (size_t j = 0; j < ref["input_ids"][i].size(); ++j)
            if (ref["attention_mask"][i][j].get<int>() == 1) t.push_back(ref["input_ids"][i][j].get<int32_t>());
        texts.push_back(t);
    }
    return texts;
}

accel::engine::ClapFeatures reference_features() {
    const auto st = accel::test::hf_fixture("clap") / "reference.safetensors";
    return {61, 16, accel::test::read_st_tensor(st, "input_features")};
}

class ClapReference : public testing::TestWithParam<ConvertType> {};

TEST_P(ClapReference, EmbeddingsAndLogitsMatchTransformers) {
    const ConvertType t = GetParam();
    const auto dir = accel::test::hf_fixture("clap");
    const auto st = dir / "reference.safetensors";
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clap.gguf", {.type = t});
    auto model = accel::engine::ClapModel::load(tmp / "clap.gguf", {.device = "cpu", .n_threads = 2});
    EXPECT_EQ(model.n_mels(), 16u);
    EXPECT_EQ(model.max_frames(), 64u);
    EXPECT_EQ(model.context_length(), 32u);
    const std::vector<accel::engine::ClapFeatures> audios = {reference_features()};
    const auto texts = unpadded_ids(ref);
    const auto out = model.run(audios, texts);
    const auto audio_embeds = accel::test::read_st_tensor(st, "audio_embeds");
    const auto text_embeds = accel::test::read_st_tensor(st, "text_embeds");
    const auto logits = accel::test::read_st_tensor(st, "logits_per_audio");
    ASSERT_EQ(out.audio_embeds.size(), audio_embeds.size());
    ASSERT_EQ(out.text_embeds.size(), text_embeds.size());
    ASSERT_EQ(out.logits_per_audio.size(), logits.size());
    const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
    const double ae = max_abs(out.audio_embeds, audio_embeds), te = max_abs(out.text_embeds, text_embeds);
    const double lr = max_abs(out.logits_per_audio, logits) / (*hi - *lo);
    std::fprintf(stderr, "%s: audio embeds %.2e, text embeds %.2e, logits %.2e\n", accel::model::to_string(t), ae, te,
                 lr);
    EXPECT_LE(ae, accel::test::table_limit("clap", t, HfMetric::embedding_max_abs));
    EXPECT_LE(te, accel::test::table_limit("clap", t, HfMetric::embedding_max_abs));
    EXPECT_LE(lr, accel::test::table_limit("clap", t, HfMetric::logits_rel));
    EXPECT_EQ(std::max_element(out.logits_per_audio.begin(), out.logits_per_audio.end()) - out.logits_per_audio.begin(),
              std::max_element(logits.begin(), logits.end()) - logits.begin());
}

INSTANTIATE_TEST_SUITE_P(Types, ClapReference, testing::Values(ConvertType::f32, ConvertType::f16, ConvertType::q8_0),
                         [](const auto& p) { return std::string(accel::model::to_string(p.param)); });

// The fixture exercises the shifted windows: by transformers' rule (ClapAudioStage gives odd blocks shift_size
// window_size // 2; set_shift_and_window_size makes it 0 when the grid is no larger than the window), its config
// shifts exactly stage 0's second block (8 x 8 grid, window 4, by 2), as transformers recorded in reference.json.
// Skipping the shift moves transformers' own audio embedding by far more than the f32 and f16 limits
// (audio_embeds_unshifted: every shift_size forced to 0), and accel's f32 embedding is the shifted one.
TEST(ClapShiftedWindows, FixtureShiftsAndAccelShifts) {
    const auto dir = accel::test::hf_fixture("clap");
    const auto st = dir / "reference.safetensors";
    const auto audio = nlohmann::json::parse(accel::test::read_file(dir / "config.json"))["audio_config"];
    const int window = audio["window_size"].get<int>();
    int res = audio["spec_size"].get<int>() / audio["patch_size"].get<int>();
    std::vector<std::vector<int>> shifted;
    const auto depths = audio["depths"].get<std::vector<int>>();
    for (size_t s = 0; s < depths.size(); ++s, res /= 2)
        for (int i = 1; i < depths[s]; i += 2)
            if (res > window) shifted.push_back({static_cast<int>(s), i, window / 2});
    EXPECT_EQ(shifted, (std::vector<std::vector<int>>{{0, 1, 2}}));
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    EXPECT_EQ(ref["shifted_blocks"].get<std::vector<std::vector<int>>>(), shifted);

    const auto want = accel::test::read_st_tensor(st, "audio_embeds");
    const auto unshifted = accel::test::read_st_tensor(st, "audio_embeds_unshifted");
    ASSERT_EQ(unshifted.size(), want.size());
    const double f32_limit = accel::test::table_limit("clap", ConvertType::f32, HfMetric::embedding_max_abs);
    const double f16_limit = accel::test::table_limit("clap", ConvertType::f16, HfMetric::embedding_max_abs);
    const double shift_effect = max_abs(want, unshifted);
    std::fprintf(stderr, "transformers' audio embedding with and without the shift: max |diff| %.2e\n", shift_effect);
    EXPECT_GT(shift_effect, 10 * f16_limit);
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clap.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::ClapModel::load(tmp / "clap.gguf", {.n_threads = 2});
    const std::vector<accel::engine::ClapFeatures> audios = {reference_features()};
    const auto got = model.embed_audio(audios);
    EXPECT_LE(max_abs(got, want), f32_limit);
    EXPECT_GT(max_abs(got, unshifted), 5 * f16_limit);
}

// accel convert stores the fixture's byte-level BPE (clap.tokenizer.*); the loaded model's tokenize() gives
// transformers' ids of the fixture's texts (RobertaTokenizerFast, without the padding).
TEST(ClapTokenizerInGguf, ConvertedModelTokenizesAsTransformers) {
    const auto dir = accel::test::hf_fixture("clap");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clap.gguf", {.type = ConvertType::f16});
    const auto model = accel::engine::ClapModel::load(tmp / "clap.gguf", {.n_threads = 1});
    ASSERT_TRUE(model.has_tokenizer());
    const auto texts = ref["texts"].get<std::vector<std::string>>();
    const auto want = unpadded_ids(ref);
    for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(model.tokenize(texts[i]), want[i]) << texts[i];
    EXPECT_THROW(model.tokenize("\xff"), accel::Error);
}

// accel quantize takes clap files (vision_quantize.cpp): Q8_0 meets the table's q8_0 limits, Q4_0 runs with looser
// ones (measured, docs/clap.md); the tokenizer and the feature extractor's settings travel.
TEST(ClapQuantize, Q8MeetsTheTableAndQ4Runs) {
    const auto dir = accel::test::hf_fixture("clap");
    const auto st = dir / "reference.safetensors";
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clap-f32.gguf", {.type = ConvertType::f32});
    const auto outs = accel::engine::quantize({.input = tmp / "clap-f32.gguf", .types = {"q8_0", "q4_0"}, .n_threads = 2});
    ASSERT_EQ(outs.size(), 2u);
    const std::vector<accel::engine::ClapFeatures> audios = {reference_features()};
    const auto texts = unpadded_ids(ref);
    const auto text_embeds = accel::test::read_st_tensor(st, "text_embeds");
    const auto audio_embeds = accel::test::read_st_tensor(st, "audio_embeds");
    for (size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(outs[k].file_bytes, std::filesystem::file_size(outs[k].path));
        auto model = accel::engine::ClapModel::load(outs[k].path, {.n_threads = 2});
        EXPECT_TRUE(model.has_tokenizer());
        EXPECT_FALSE(model.preprocessor_config().empty());
        const auto out = model.run(audios, texts);
        const double ae = max_abs(out.audio_embeds, audio_embeds), te = max_abs(out.text_embeds, text_embeds);
        std::fprintf(stderr, "%s: audio embeds %.2e, text embeds %.2e\n", outs[k].path.filename().c_str(), ae, te);
        const double limit = k == 0 ? accel::test::table_limit("clap", ConvertType::q8_0, HfMetric::embedding_max_abs)
                                    : 0.15;
        EXPECT_LE(ae, limit);
        EXPECT_LE(te, limit);
    }
}

// accel make-model --arch clap: laion/clap-htsat-unfused's shape with RANDOM WEIGHTS (meaningless outputs) and the
// fewest text blocks; it loads, takes ten seconds of 48 kHz features (1,001 frames of 64 bins) and byte-level text.
TEST(ClapMakeModel, HtsatUnfusedShapeLoadsAndRuns) {
    accel::test::TempDir tmp;
    const accel::engine::SyntheticSpec spec{.arch = "clap", .n_params_target = 1, .type = accel::engine::WeightType::q8_0,
                                            .seed = 7, .out = tmp / "clap.gguf", .n_threads = 2};
    const auto made = accel::engine::make_synthetic_model(spec);
    EXPECT_EQ(made.shape.n_layer, 1u);
    EXPECT_NE(made.name.find("RANDOM WEIGHTS"), std::string::npos);
    auto model = accel::engine::ClapModel::load(made.path, {.n_threads = 2});
    EXPECT_EQ(model.n_mels(), 64u);
    EXPECT_EQ(model.max_frames(), 1024u);
    const auto ids = model.tokenize("a dog");
    EXPECT_EQ(ids, (std::vector<int32_t>{0, 4 + 'a', 4 + ' ', 4 + 'd', 4 + 'o', 4 + 'g', 2}));  // one token per byte
    const std::vector<accel::engine::ClapFeatures> audio = {{1001, 64, std::vector<float>(1001 * 64, -20.0f)}};
    const auto out = model.run(audio, {ids});
    ASSERT_EQ(out.audio_embeds.size(), 512u);
    for (const float v : out.audio_embeds) ASSERT_TRUE(std::isfinite(v));
    EXPECT_EQ(out.logits_per_audio.size(), 1u);
}

TEST(ClapLoad, RefusesOtherModelsAndBadInputs) {
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture("vit"), tmp / "vit.gguf", {.type = ConvertType::f32});
    try {
        accel::engine::ClapModel::load(tmp / "vit.gguf");
        ADD_FAILURE() << "a ViT loaded as CLAP";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("a 'vit' model, not a CLAP model"), std::string::npos) << e.what();
    }
    accel::model::convert_hf(accel::test::hf_fixture("clap"), tmp / "clap.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::ClapModel::load(tmp / "clap.gguf", {.n_threads = 1});
    const std::vector<accel::engine::ClapFeatures> too_long = {{65, 16, std::vector<float>(65 * 16)}};
    EXPECT_THROW(model.embed_audio(too_long), accel::Error);
    const std::vector<accel::engine::ClapFeatures> wrong_mels = {{10, 8, std::vector<float>(80)}};
    EXPECT_THROW(model.embed_audio(wrong_mels), accel::Error);
    EXPECT_THROW(model.embed_texts({{0, 5000, 2}}), accel::Error);
    EXPECT_THROW(model.embed_texts({std::vector<int32_t>(33, 5)}), accel::Error);
    EXPECT_THROW(model.embed_texts({}), accel::Error);
}

// ClapFeatureExtractor on the fixture's waveform (the whisper fixture's clip: 3 s at 16 kHz, exactly max_length_s, so
// nothing is cut or drawn): accel's features are transformers' input_features, and run from them the model gives
// transformers' audio embedding.
TEST(ClapFeatures, LogMelIsTheExtractorsAndEmbedsAsTransformers) {
    const auto dir = accel::test::hf_fixture("clap");
    const auto config = accel::media::parse_clap_feature_config(
        accel::test::read_file(dir / "preprocessor_config.json"), "preprocessor_config.json");
    EXPECT_EQ(config.truncation, "rand_trunc");
    const auto wave = accel::test::read_st_tensor(accel::test::hf_fixture("whisper") / "reference.safetensors", "audio");
    const auto mel = accel::media::clap_log_mel(wave, config, 2);
    const auto ref = reference_features();
    ASSERT_EQ(mel.n_frames, 61u);
    ASSERT_EQ(mel.n_mels, 16u);
    EXPECT_FALSE(mel.truncated);
    const double m = max_abs(mel.data, ref.data);
    std::fprintf(stderr, "input features: max |accel - transformers| %.2e dB\n", m);
    EXPECT_LE(m, 1e-3);
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clap.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::ClapModel::load(tmp / "clap.gguf", {.n_threads = 2});
    const std::vector<accel::engine::ClapFeatures> audios = {{mel.n_frames, mel.n_mels, mel.data}};
    const auto got = model.embed_audio(audios);
    const auto want = accel::test::read_st_tensor(dir / "reference.safetensors", "audio_embeds");
    EXPECT_LE(max_abs(got, want), accel::test::table_limit("clap", ConvertType::f32, HfMetric::embedding_max_abs));
}

// Padding and truncation rules: repeatpad tiles whole copies then zeros, a long clip keeps its first max_length_s.
TEST(ClapFeatures, PadsAndCutsAsDocumented) {
    accel::media::ClapFeatureConfig c{.sampling_rate = 16000, .feature_size = 8, .fft_window_size = 256,
                                      .hop_length = 160, .max_length_s = 1, .frequency_min = 0, .frequency_max = 8000,
                                      .truncation = "rand_trunc", .padding = "repeatpad"};
    std::vector<float> clip(6000);
    for (size_t i = 0; i < clip.size(); ++i) clip[i] = std::sin(0.05f * float(i));
    std::vector<float> tiled(16000, 0.0f);
    std::copy(clip.begin(), clip.end(), tiled.begin());
    std::copy(clip.begin(), clip.end(), tiled.begin() + 6000);
    EXPECT_EQ(accel::media::clap_log_mel(clip, c).data, accel::media::clap_log_mel(tiled, c).data);
    std::vector<float> longer = tiled;
    longer.resize(20000, 0.5f);
    const auto cut = accel::media::clap_log_mel(longer, c);
    EXPECT_TRUE(cut.truncated);
    EXPECT_EQ(cut.n_frames, 101u);
    EXPECT_EQ(cut.data, accel::media::clap_log_mel(tiled, c).data);
    EXPECT_THROW(accel::media::clap_log_mel({}, c), accel::Error);
    EXPECT_THROW(accel::media::parse_clap_feature_config(R"({"truncation": "middle"})", "p.json"), accel::Error);
    EXPECT_THROW(accel::media::parse_clap_feature_config(R"({"feature_extractor_type": "WhisperFeatureExtractor"})",
                                                         "p.json"),
                 accel::Error);
}

}  // namespace
