// LLaVA and LLaVA-Next against transformers: the llava and llava_next fixtures (tests/fixtures/hf, random weights)
// converted by accel (text model + projector), teacher-forced over the reference's ids, every row within the table
// in docs/conform.md: on transformers' own pixel values, and on the fixture's image file through accel's own
// preprocessing (CLIPImageProcessor; LlavaNextImageProcessor's anyres views). Then the pin watchers (libmtmd's clip.cpp
// still differs from transformers: docs/llava.md), the streaming path (the text is meaningless: random weights), and
// a projector that does not belong to the model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/multimodal_generator.h"
#include "accel/media/image.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::engine::MultimodalGenerator;
using accel::engine::ProcessedImage;
using accel::model::ConvertType;

// pixel_values (views x 3 x 32 x 32) and the original size
ProcessedImage processed(const std::vector<float>& pv, uint32_t height, uint32_t width) {
    constexpr size_t one = 3 * 32 * 32;
    ProcessedImage im{.views = {}, .height = height, .width = width};
    for (size_t at = 0; at < pv.size(); at += one)
        im.views.push_back({3, 32, 32, std::vector<float>(pv.begin() + ptrdiff_t(at), pv.begin() + ptrdiff_t(at + one))});
    return im;
}

struct Fixture {
    std::filesystem::path dir;
    nlohmann::json ref;
    std::vector<int32_t> ids;  // prompt + generated
    int32_t image_id = 0;
    ProcessedImage pixels;
    std::vector<float> logits;

    explicit Fixture(const std::string& name) : dir(accel::test::hf_fixture(name)) {
        ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
        ids = ref.at("input_ids").get<std::vector<int32_t>>();
        const auto generated = ref.at("generated_ids").get<std::vector<int32_t>>();
        ids.insert(ids.end(), generated.begin(), generated.end());
        image_id = ref.at("image_token_id").get<int32_t>();
        const auto hw = ref.value("image_sizes", std::vector<uint32_t>{32, 32});
        pixels = processed(accel::test::read_st_tensor(dir / "reference.safetensors", "pixel_values"), hw[0], hw[1]);
        logits = accel::test::read_st_tensor(dir / "reference.safetensors", "logits");
    }
    std::filesystem::path image_file() const { return dir / ref.at("images")[0].get<std::string>(); }
};

// The first run of image ids in the reference.
size_t first_image_row(const std::vector<int32_t>& ids, int32_t image_id) {
    return static_cast<size_t>(std::find(ids.begin(), ids.end(), image_id) - ids.begin());
}

using Case = std::tuple<std::string, ConvertType>;
class LlavaReference : public testing::TestWithParam<Case> {};

TEST_P(LlavaReference, TeacherForcedLogitsMatchTransformers) {
    const auto& [name, type] = GetParam();
    const Fixture f(name);
    accel::test::TempDir tmp;
    accel::model::convert_hf(f.dir, tmp / "text.gguf", {.type = type});
    accel::model::convert_hf_mmproj(f.dir, tmp / "mmproj.gguf", {.type = type});
    auto gen = MultimodalGenerator::load(tmp / "text.gguf", tmp / "mmproj.gguf",
                                         {.device = "cpu", .n_threads = 2, .n_ctx = 256, .reference = true});
    EXPECT_EQ(gen.n_embd(), 64);
    EXPECT_EQ(gen.vision_runtime(), "accel");
    const double limit = accel::test::table_limit(name, type, accel::model::HfMetric::logits_rel);
    // transformers' pixel values: every row, the image's and those after it included
    const auto got = gen.forced_logits(f.ids, f.image_id, std::span<const ProcessedImage>(&f.pixels, 1));
    ASSERT_EQ(got.values.size(), f.logits.size());
    ASSERT_EQ(got.n_rows, f.ids.size());
    EXPECT_LE(accel::test::rel_diff(got.values, f.logits), limit);
    // the image file through accel's own preprocessing (the processor's resize, anyres views, normalization)
    const std::vector<accel::media::Image> images{accel::media::decode_image(f.image_file())};
    const auto from_file = gen.forced_logits(f.ids, f.image_id, images);
    ASSERT_EQ(from_file.values.size(), f.logits.size());
    EXPECT_LE(accel::test::rel_diff(from_file.values, f.logits), limit);
}

INSTANTIATE_TEST_SUITE_P(Types, LlavaReference,
                         testing::Combine(testing::Values("llava", "llava_next"),
                                          testing::Values(ConvertType::f32, ConvertType::f16, ConvertType::q8_0)),
                         [](const auto& p) {
                             return std::get<0>(p.param) + "_" + std::string(accel::model::to_string(std::get<1>(p.param)));
                         });

// The pin watchers: libmtmd's clip.cpp at the pin (tools/mtmd/models/llava.cpp) concatenates LLaVA's CLS embedding
// after the patches, adds position rows 0..n in that order and keeps rows 1..n, so every patch gets its neighbour's
// position and CLS stands in for the last patch (llama.cpp issue #25814, PR #25844); and it runs LLaVA-Next as the
// llava-1.6 path without unpadding or image_newline. No GGUF layout can undo the first (docs/llava.md), so accel runs
// the image side itself. When one of these fails, the pin changed: see whether libmtmd now matches transformers and
// accel could hand LLaVA back to it.
TEST(LlavaPin, ClipCppStillMisplacesTheClsToken) {
    const Fixture f("llava");
    accel::test::TempDir tmp;
    accel::model::convert_hf(f.dir, tmp / "text.gguf", {.type = ConvertType::f32});
    accel::model::convert_hf_mmproj(f.dir, tmp / "mmproj.gguf", {.type = ConvertType::f32});
    auto gen = MultimodalGenerator::load(tmp / "text.gguf", tmp / "mmproj.gguf",
                                         {.device = "cpu", .n_threads = 2, .n_ctx = 256, .reference = true,
                                          .libmtmd_vision = true});
    EXPECT_EQ(gen.vision_runtime(), "libmtmd");
    const std::vector<accel::media::Image> images{accel::media::decode_image(f.image_file())};
    const auto got = gen.forced_logits(f.ids, f.image_id, images);
    ASSERT_EQ(got.values.size(), f.logits.size());
    // the text before the image is llama.cpp's alone: within the table
    const size_t n_text = first_image_row(f.ids, f.image_id) * got.n_vocab;
    const std::vector<float> g(got.values.begin(), got.values.begin() + ptrdiff_t(n_text));
    const std::vector<float> w(f.logits.begin(), f.logits.begin() + ptrdiff_t(n_text));
    EXPECT_LE(accel::test::rel_diff(g, w), accel::test::table_limit("llava", ConvertType::f32, accel::model::HfMetric::logits_rel));
    EXPECT_GT(accel::test::rel_diff(got.values, f.logits), 0.1)
        << "the pinned clip.cpp now matches transformers for LLaVA: accel could run LLaVA on libmtmd again (docs/llava.md)";
}

TEST(LlavaPin, LibmtmdStillRunsLlavaNextWithoutUnpadding) {
    const Fixture f("llava_next");
    accel::test::TempDir tmp;
    accel::model::convert_hf(f.dir, tmp / "text.gguf");
    accel::model::convert_hf_mmproj(f.dir, tmp / "mmproj.gguf");
    const std::vector<accel::media::Image> images{accel::media::decode_image(f.image_file())};
    auto mtmd = MultimodalGenerator::load(tmp / "text.gguf", tmp / "mmproj.gguf",
                                          {.device = "cpu", .n_threads = 2, .n_ctx = 256, .libmtmd_vision = true});
    // libmtmd's llava-1.6 path: best pinpoint 64x32 -> two tiles and the overview, 16 embeddings each
    EXPECT_EQ(mtmd.prepare(MultimodalGenerator::llava_prompt("What?", 1), images).n_image_tokens, 48)
        << "libmtmd's LLaVA-Next path changed at this pin: compare it with transformers again (docs/llava.md)";
    // accel's: the overview (16), then the 4 x 8 grid unpadded to 70x36 (4 rows) with a newline each: 52, as the
    // reference's processor expands <image>
    auto gen = MultimodalGenerator::load(tmp / "text.gguf", tmp / "mmproj.gguf", {.device = "cpu", .n_threads = 2, .n_ctx = 256});
    EXPECT_EQ(gen.prepare(MultimodalGenerator::llava_prompt("What?", 1), images).n_image_tokens,
              f.ref.at("n_image_ids").get<int32_t>());
}

TEST(Llava, ConvertWritesTheTextModelAndTheProjectorClipCppReads) {
    const auto dir = accel::test::hf_fixture("llava");
    accel::test::TempDir tmp;
    const auto text = accel::model::convert_hf(dir, tmp / "text.gguf", {.type = ConvertType::f16});
    EXPECT_EQ(text.arch, "llama");
    EXPECT_EQ(text.n_vocab, 1026u);
    EXPECT_EQ(text.tensors.size(), 21u);  // LLaMA's, from language_model.*; nothing of the vision tower
    for (const auto& t : text.tensors) EXPECT_TRUE(t.source.starts_with("language_model.")) << t.source;
    const auto mm = accel::model::convert_hf_mmproj(dir, tmp / "mmproj.gguf", {.type = ConvertType::f16});
    EXPECT_EQ(mm.arch, "clip");
    std::map<std::string, accel::model::ConvertedTensor> by_name;
    for (const auto& t : mm.tensors) by_name[t.name] = t;
    // vision_feature_layer -2 of 2 layers: block 0 only, no post_layernorm
    EXPECT_TRUE(by_name.contains("v.blk.0.attn_q.weight"));
    EXPECT_FALSE(by_name.contains("v.blk.1.attn_q.weight"));
    EXPECT_FALSE(by_name.contains("v.post_ln.weight"));
    EXPECT_EQ(by_name.at("v.patch_embd.weight").ne, (std::vector<uint64_t>{8, 8, 3, 64}));
    EXPECT_EQ(by_name.at("v.position_embd.weight").type, "f32");
    EXPECT_EQ(by_name.at("mm.0.weight").ne, (std::vector<uint64_t>{64, 64}));
    EXPECT_EQ(by_name.at("mm.0.weight").source, "multi_modal_projector.linear_1.weight");
    EXPECT_EQ(by_name.at("mm.2.bias").source, "multi_modal_projector.linear_2.bias");
    EXPECT_FALSE(by_name.contains("v.image_newline"));
    EXPECT_EQ(mm.tensors.size(), 25u);
    // only a vision-language checkpoint has a projector
    accel::test::TempDir tmp2;
    EXPECT_THROW(accel::model::convert_hf_mmproj(accel::test::hf_fixture("llama"), tmp2 / "x.gguf"), accel::Error);
    EXPECT_FALSE(std::filesystem::exists(tmp2 / "x.gguf"));
}

TEST(Llava, StreamsAnAnswerAboutTheFixtureImage) {
    const auto dir = accel::test::hf_fixture("llava");
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "text.gguf");
    accel::model::convert_hf_mmproj(dir, tmp / "mmproj.gguf");
    auto gen = MultimodalGenerator::load(tmp / "text.gguf", tmp / "mmproj.gguf", {.device = "cpu", .n_threads = 2, .n_ctx = 256});
    const std::vector<accel::media::Image> images{accel::media::decode_image(dir / "shapes.png")};
    const auto p = gen.prepare(MultimodalGenerator::llava_prompt("What is in the picture?", 1), images);
    EXPECT_EQ(p.n_images, 1);
    EXPECT_EQ(p.n_image_tokens, 16);  // (32 / 8)^2 patches
    gen.encode_images();
    gen.prefill();
    int n = 0;
    while (n < 8 && gen.next()) ++n;  // random weights: the text means nothing, but 8 tokens come
    EXPECT_GT(n, 0);
    EXPECT_THROW(gen.prepare("no marker here", images), accel::Error);
}

TEST(LlavaNext, StreamsAnAnswerAboutTheFixtureImage) {
    const auto dir = accel::test::hf_fixture("llava_next");
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "text.gguf");
    const auto mm = accel::model::convert_hf_mmproj(dir, tmp / "mmproj.gguf");
    EXPECT_EQ(mm.tensors.back().name, "v.image_newline");
    auto gen = MultimodalGenerator::load(tmp / "text.gguf", tmp / "mmproj.gguf", {.device = "cpu", .n_threads = 2, .n_ctx = 256});
    const std::vector<accel::media::Image> images{accel::media::decode_image(dir / "wide.png")};
    const auto p = gen.prepare(MultimodalGenerator::llava_prompt("What?", 1), images);
    EXPECT_EQ(p.n_image_tokens, 52);
    gen.prefill();
    int n = 0;
    while (n < 8 && gen.next()) ++n;  // random weights: the text means nothing, but tokens come
    EXPECT_GT(n, 0);
}

TEST(Llava, AProjectorOfAnotherModelIsRefusedInOneLine) {
    const auto dir = accel::test::hf_fixture("llava");
    accel::test::TempDir tmp;
    accel::model::convert_hf_mmproj(dir, tmp / "mmproj.gguf");
    const auto other = accel::test::synthetic_model("llama", "8M", "f32");  // 128 wide; the projector gives 64
    try {
        MultimodalGenerator::load(other, tmp / "mmproj.gguf", {.device = "cpu", .n_threads = 2});
        FAIL() << "loaded a projector of another model";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("does not belong"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
    // the text model given as the projector
    accel::model::convert_hf(dir, tmp / "text.gguf");
    EXPECT_THROW(MultimodalGenerator::load(tmp / "text.gguf", tmp / "text.gguf"), accel::Error);
}

}  // namespace
