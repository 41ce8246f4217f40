// accel's X-CLIP graph against transformers: the xclip fixture (tests/fixtures/hf/xclip, random weights: the figures
// say nothing of quality) converted by accel at f32, f16 and q8_0, run on the CPU over transformers' frame pixel
// values and the fixture's token ids, compared with transformers' normalized video and text embeddings and
// logits_per_video. Limits: the one table (model::hf_limits, docs/conform.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/quantize.h"
#include "accel/engine/xclip_model.h"
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

std::vector<accel::media::PixelValues> fixture_frames(const std::filesystem::path& st, uint32_t side) {
    const auto pixels = accel::test::read_st_tensor(st, "pixel_values");
    const size_t one = size_t{3} * side * side;
    std::vector<accel::media::PixelValues> frames;
    for (size_t at = 0; at + one <= pixels.size(); at += one)
        frames.push_back({3, side, side,
                          std::vector<float>(pixels.begin() + static_cast<std::ptrdiff_t>(at),
                                             pixels.begin() + static_cast<std::ptrdiff_t>(at + one))});
    return frames;
}

class XclipReference : public testing::TestWithParam<ConvertType> {};

TEST_P(XclipReference, EmbeddingsAndLogitsMatchTransformers) {
    const ConvertType type = GetParam();
    const auto dir = accel::test::hf_fixture("xclip");
    const auto st = dir / "reference.safetensors";
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "xclip.gguf", {.type = type});
    auto model = accel::engine::XclipModel::load(tmp / "xclip.gguf", {.device = "cpu", .n_threads = 2});
    EXPECT_EQ(model.n_frames(), 4u);
    EXPECT_EQ(model.image_size(), 32u);
    const auto frames = fixture_frames(st, 32);
    ASSERT_EQ(frames.size(), 4u);
    const auto texts = ref["input_ids"].get<std::vector<std::vector<int32_t>>>();
    const auto out = model.run(frames, texts);
    const auto video = accel::test::read_st_tensor(st, "video_embeds");
    const auto text = accel::test::read_st_tensor(st, "text_embeds");
    const auto logits = accel::test::read_st_tensor(st, "logits_per_video");
    ASSERT_EQ(out.video_embeds.size(), video.size());
    ASSERT_EQ(out.text_embeds.size(), text.size());
    ASSERT_EQ(out.logits_per_video.size(), logits.size());
    const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
    const double ve = max_abs(out.video_embeds, video), te = max_abs(out.text_embeds, text);
    const double lr = max_abs(out.logits_per_video, logits) / (*hi - *lo);
    std::fprintf(stderr, "%s: video embeds %.2e, text embeds %.2e, logits %.2e\n", accel::model::to_string(type), ve,
                 te, lr);
    const double embeds_limit = accel::test::table_limit("xclip", type, HfMetric::embedding_max_abs);
    EXPECT_LE(ve, embeds_limit);
    EXPECT_LE(te, embeds_limit);
    EXPECT_LE(lr, accel::test::table_limit("xclip", type, HfMetric::logits_rel));
    EXPECT_EQ(std::max_element(out.logits_per_video.begin(), out.logits_per_video.end()) - out.logits_per_video.begin(),
              std::max_element(logits.begin(), logits.end()) - logits.begin());
    // the video tower alone gives the same embedding
    const auto alone = model.embed_video(frames);
    EXPECT_LE(max_abs(alone, out.video_embeds), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Types, XclipReference, testing::Values(ConvertType::f32, ConvertType::f16, ConvertType::q8_0),
                         [](const auto& p) { return std::string(accel::model::to_string(p.param)); });

// accel quantize on an xclip file (vision_quantize.cpp): Q8_0 meets the table's q8_0 limits, as convert --type q8_0
// does; Q4_0 (no table row) keeps the best text within the limits stated here.
TEST(XclipQuantize, Q8MeetsTheTableAndQ4KeepsTheBestText) {
    const auto dir = accel::test::hf_fixture("xclip");
    const auto st = dir / "reference.safetensors";
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "xclip-f32.gguf", {.type = ConvertType::f32});
    const auto outs =
        accel::engine::quantize({.input = tmp / "xclip-f32.gguf", .types = {"q8_0", "Q4_0"}, .n_threads = 2});
    ASSERT_EQ(outs.size(), 2u);
    const auto logits = accel::test::read_st_tensor(st, "logits_per_video");
    const auto video = accel::test::read_st_tensor(st, "video_embeds");
    const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
    for (size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(outs[k].estimated_bytes, outs[k].file_bytes);
        auto model = accel::engine::XclipModel::load(outs[k].path, {.device = "cpu", .n_threads = 2});
        const auto out = model.run(fixture_frames(st, 32), ref["input_ids"].get<std::vector<std::vector<int32_t>>>());
        const double ve = max_abs(out.video_embeds, video), lr = max_abs(out.logits_per_video, logits) / (*hi - *lo);
        std::fprintf(stderr, "%s: video embeds %.2e, logits %.2e\n", outs[k].path.filename().c_str(), ve, lr);
        EXPECT_LE(ve, k == 0 ? accel::test::table_limit("xclip", ConvertType::q8_0, HfMetric::embedding_max_abs) : 0.1);
        EXPECT_LE(lr, k == 0 ? accel::test::table_limit("xclip", ConvertType::q8_0, HfMetric::logits_rel) : 0.5);
        EXPECT_EQ(
            std::max_element(out.logits_per_video.begin(), out.logits_per_video.end()) - out.logits_per_video.begin(),
            std::max_element(logits.begin(), logits.end()) - logits.begin())
            << outs[k].path;
    }
}

// The GGUF carries the tokenizer (transformers' ids of the fixture's texts up to the first EOS) and the video
// processor; wrong frame counts, texts and architectures are refused with one line.
TEST(XclipModel, TokenizerProcessorAndRefusals) {
    const auto dir = accel::test::hf_fixture("xclip");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "xclip.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::XclipModel::load(tmp / "xclip.gguf", {.n_threads = 2});
    ASSERT_TRUE(model.has_tokenizer());
    const auto texts = ref["texts"].get<std::vector<std::string>>();
    for (size_t i = 0; i < texts.size(); ++i) {
        auto ids = model.tokenize(texts[i]);
        ids.resize(ref["input_ids"][i].size(), static_cast<int32_t>(model.eos_token_id()));
        EXPECT_EQ(ids, ref["input_ids"][i].get<std::vector<int32_t>>()) << texts[i];
    }
    EXPECT_EQ(model.processor().type, "VideoMAEImageProcessor");
    EXPECT_EQ(model.processor().shortest_edge.value_or(0), 32u);
    const auto frames = fixture_frames(dir / "reference.safetensors", 32);
    const std::vector<accel::media::PixelValues> three(frames.begin(), frames.begin() + 3);
    EXPECT_NE(accel::test::thrown_message<accel::Error>([&] {
                  model.run(three, {{512, 513}});
              }).find("a video of 3 frames: the model takes 4"),
              std::string::npos);
    EXPECT_NE(
        accel::test::thrown_message<accel::Error>([&] { model.run(frames, {{512, 70}}); }).find("ending with EOS"),
        std::string::npos);
    EXPECT_NE(accel::test::thrown_message<accel::Error>([&] { model.run(frames, {}); }).find("at least one"),
              std::string::npos);
    accel::model::convert_hf(accel::test::hf_fixture("clip"), tmp / "clip.gguf", {.type = ConvertType::f32});
    EXPECT_NE(accel::test::thrown_message<accel::Error>([&] {
                  (void)accel::engine::XclipModel::load(tmp / "clip.gguf");
              }).find("not an X-CLIP model"),
              std::string::npos);
}

}  // namespace
