// accel's CLIP graphs against transformers: the clip fixture (tests/fixtures/hf/clip) converted by accel, run on the
// CPU over transformers' pixel values and the fixture's token ids, compared with transformers' normalized image and
// text embeddings and logits_per_image. Limits: docs/conform.md ("Against transformers").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/clip_model.h"
#include "accel/media/image.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;

struct Case {
    ConvertType type;
    double embeds_limit, logits_limit;  // max |accel - ref|; for the logits relative to their range
};

Case limits(ConvertType t) {
    using accel::model::HfMetric;
    return {t, accel::test::table_limit("clip", t, HfMetric::embedding_max_abs),
            accel::test::table_limit("clip", t, HfMetric::logits_rel)};
}

double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

class ClipReference : public testing::TestWithParam<Case> {};

TEST_P(ClipReference, EmbeddingsAndLogitsMatchTransformers) {
    const Case c = GetParam();
    const auto dir = accel::test::hf_fixture("clip");
    const auto st = dir / "reference.safetensors";
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clip.gguf", {.type = c.type});
    auto model = accel::engine::ClipModel::load(tmp / "clip.gguf", {.device = "cpu", .n_threads = 2});
    std::vector<accel::media::PixelValues> images;
    for (const char* stem : {"shapes_png", "small_png"})
        images.push_back({3, 32, 32, accel::test::read_st_tensor(st, std::string(stem) + ".pixel_values")});
    const auto texts = ref["input_ids"].get<std::vector<std::vector<int32_t>>>();
    const auto out = model.run(images, texts);
    const auto image_embeds = accel::test::read_st_tensor(st, "image_embeds");
    const auto text_embeds = accel::test::read_st_tensor(st, "text_embeds");
    const auto logits = accel::test::read_st_tensor(st, "logits_per_image");
    ASSERT_EQ(out.image_embeds.size(), image_embeds.size());
    ASSERT_EQ(out.text_embeds.size(), text_embeds.size());
    ASSERT_EQ(out.logits_per_image.size(), logits.size());
    const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
    const double ie = max_abs(out.image_embeds, image_embeds), te = max_abs(out.text_embeds, text_embeds);
    const double lr = max_abs(out.logits_per_image, logits) / (*hi - *lo);
    std::fprintf(stderr, "%s: image embeds %.2e, text embeds %.2e, logits %.2e\n", accel::model::to_string(c.type), ie,
                 te, lr);
    EXPECT_LE(ie, c.embeds_limit);
    EXPECT_LE(te, c.embeds_limit);
    EXPECT_LE(lr, c.logits_limit);
    // each image's best text is transformers'
    for (size_t i = 0; i < images.size(); ++i) {
        const float* g = out.logits_per_image.data() + i * texts.size();
        const float* r = logits.data() + i * texts.size();
        EXPECT_EQ(std::max_element(g, g + texts.size()) - g, std::max_element(r, r + texts.size()) - r) << i;
    }
}

// accel convert stores the fixture's tokenizer in the GGUF (clip_model.tokenizer.*); the loaded model's tokenize()
// gives transformers' ids of the fixture's texts up to the first EOS, and a GGUF without it says so.
TEST(ClipTokenizerInGguf, ConvertedModelTokenizesAsTransformers) {
    const auto dir = accel::test::hf_fixture("clip");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clip.gguf", {.type = ConvertType::f16});
    const auto model = accel::engine::ClipModel::load(tmp / "clip.gguf", {.device = "cpu", .n_threads = 1});
    ASSERT_TRUE(model.has_tokenizer());
    EXPECT_EQ(model.context_length(), 16u);
    const auto texts = ref["texts"].get<std::vector<std::string>>();
    for (size_t i = 0; i < texts.size(); ++i) {
        auto ids = model.tokenize(texts[i]);
        ids.resize(8, static_cast<int32_t>(model.eos_token_id()));
        EXPECT_EQ(ids, ref["input_ids"][i].get<std::vector<int32_t>>()) << texts[i];
    }
    // the same folder without its tokenizer files converts, and tokenize() refuses with a way out
    const auto bare = tmp / "bare";
    std::filesystem::create_directories(bare);
    for (const char* f : {"config.json", "model.safetensors", "preprocessor_config.json"})
        std::filesystem::copy_file(dir / f, bare / f);
    accel::model::convert_hf(bare, tmp / "bare.gguf", {.type = ConvertType::f16});
    const auto no_tok = accel::engine::ClipModel::load(tmp / "bare.gguf", {.device = "cpu", .n_threads = 1});
    EXPECT_FALSE(no_tok.has_tokenizer());
    try {
        (void)no_tok.tokenize("a red cat");
        ADD_FAILURE() << "no throw";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("has no tokenizer"), std::string::npos) << e.what();
    }
}

// The logits' range over 2 images x 3 texts is small (random towers give similar cosines), so their relative
// error runs about 7x the embeddings'. Measured values: docs/conform.md.
INSTANTIATE_TEST_SUITE_P(Types, ClipReference,
                         testing::Values(limits(ConvertType::f32), limits(ConvertType::f16), limits(ConvertType::q8_0)),
                         [](const auto& p) { return std::string(accel::model::to_string(p.param.type)); });

// The preprocessing stored in the GGUF gives transformers' pixel values from the fixture's PNG; bad texts are refused.
TEST(ClipModel, ProcessorAndRefusals) {
    const auto dir = accel::test::hf_fixture("clip");
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "clip.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::ClipModel::load(tmp / "clip.gguf", {.n_threads = 2});
    const auto pv = accel::media::preprocess(accel::media::decode_image(dir / "shapes.png"), model.processor());
    EXPECT_EQ(pv.data, accel::test::read_st_tensor(dir / "reference.safetensors", "shapes_png.pixel_values"));
    const std::vector<accel::media::PixelValues> one{pv};
    const int32_t eos = static_cast<int32_t>(model.eos_token_id());
    EXPECT_THROW(model.run(one, {{62, 5, 6}}), accel::Error);                 // no EOS
    EXPECT_THROW(model.run(one, {{62, 500, eos}}), accel::Error);             // outside the vocabulary
    EXPECT_THROW(model.run(one, {std::vector<int32_t>(17, eos)}), accel::Error);  // longer than 16
    EXPECT_THROW(accel::engine::ClipModel::load(dir / "config.json"), accel::Error);
}

}  // namespace
