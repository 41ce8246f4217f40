// accel's ViT graph against transformers: the vit fixture (tests/fixtures/hf/vit) converted by accel, run on the
// CPU over the pixel values transformers' processor gave, compared with transformers' logits and final hidden
// states; then the whole path (decode, preprocess, run, softmax) on the fixture's image files. Limits: the table in
// docs/conform.md ("Against transformers").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/image_classifier.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;

struct Case {
    ConvertType type;
    double logits_limit, hidden_limit;  // max |accel - ref| / (max - min of the reference)
};

Case limits(ConvertType t) {
    using accel::model::HfMetric;
    return {t, accel::test::table_limit("vit", t, HfMetric::logits_rel), accel::test::table_limit("vit", t, HfMetric::state_rel)};
}

double rel_diff(const std::vector<float>& got, const std::vector<float>& ref) {
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    double m = 0;
    for (size_t i = 0; i < ref.size(); ++i) m = std::max(m, std::fabs(double(got[i]) - ref[i]));
    return m / (*hi - *lo);
}

size_t argmax(const float* v, size_t n) { return static_cast<size_t>(std::max_element(v, v + n) - v); }

class VitReference : public testing::TestWithParam<Case> {};

TEST_P(VitReference, LogitsAndHiddenStatesMatchTransformers) {
    const Case c = GetParam();
    const auto dir = accel::test::hf_fixture("vit");
    const auto st = dir / "reference.safetensors";
    accel::test::TempDir tmp;
    const auto gguf = tmp / "vit.gguf";
    accel::model::convert_hf(dir, gguf, {.type = c.type});
    auto model = accel::engine::ImageClassifier::load(gguf, {.device = "cpu", .n_threads = 2});
    ASSERT_EQ(model.labels().size(), 5u);
    EXPECT_EQ(model.labels()[2], "red fox");
    for (const char* stem : {"shapes_png", "shapes_jpg", "small_png"}) {
        accel::media::PixelValues pv{3, 32, 32, accel::test::read_st_tensor(st, std::string(stem) + ".pixel_values")};
        const auto out = model.run(std::span(&pv, 1));
        const auto ref = accel::test::read_st_tensor(st, std::string(stem) + ".logits");
        ASSERT_EQ(out.logits.size(), ref.size());
        const double rel = rel_diff(out.logits, ref);
        EXPECT_LE(rel, c.logits_limit) << stem << " " << accel::model::to_string(c.type);
        EXPECT_EQ(argmax(out.logits.data(), ref.size()), argmax(ref.data(), ref.size())) << stem;
        std::fprintf(stderr, "%s %s: logits %.2e\n", accel::model::to_string(c.type), stem, rel);
        if (std::string(stem) != "shapes_png") continue;
        const auto hidden = accel::test::read_st_tensor(st, "shapes_png.last_hidden_state");
        ASSERT_EQ(out.last_hidden_state.size(), hidden.size());
        const double hrel = rel_diff(out.last_hidden_state, hidden);
        EXPECT_LE(hrel, c.hidden_limit);
        std::fprintf(stderr, "%s %s: last hidden state %.2e\n", accel::model::to_string(c.type), stem, hrel);
    }
}

// Measured values and the reasons for the limits are in docs/conform.md.
INSTANTIATE_TEST_SUITE_P(Types, VitReference,
                         testing::Values(limits(ConvertType::f32), limits(ConvertType::f16), limits(ConvertType::q8_0)),
                         [](const auto& p) { return std::string(accel::model::to_string(p.param.type)); });

// A batch of all three images at once gives what each gives alone (the batch dimension of every op is right).
TEST(VitBatch, BatchEqualsOneAtATime) {
    const auto dir = accel::test::hf_fixture("vit");
    const auto st = dir / "reference.safetensors";
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "vit.gguf", {.type = ConvertType::f32});
    auto model = accel::engine::ImageClassifier::load(tmp / "vit.gguf", {.device = "cpu", .n_threads = 2});
    std::vector<accel::media::PixelValues> batch;
    for (const char* stem : {"shapes_png", "shapes_jpg", "small_png"})
        batch.push_back({3, 32, 32, accel::test::read_st_tensor(st, std::string(stem) + ".pixel_values")});
    const auto all = model.run(batch);
    ASSERT_EQ(all.n_images, 3u);
    for (size_t i = 0; i < batch.size(); ++i) {
        const auto one = model.run(std::span(&batch[i], 1));
        for (size_t j = 0; j < one.logits.size(); ++j)
            EXPECT_NEAR(all.logits[i * one.logits.size() + j], one.logits[j], 1e-5) << i << " " << j;
    }
}

// Files in, labels out: the top-1 of each fixture image is transformers', probabilities are sorted and sum to 1.
TEST(ClassifyImages, TopLabelsOfTheFixtureImages) {
    const auto dir = accel::test::hf_fixture("vit");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    accel::test::TempDir tmp;
    accel::model::convert_hf(dir, tmp / "vit.gguf", {.type = ConvertType::f32});
    std::vector<std::filesystem::path> files;
    for (const auto& name : ref["images"]) files.push_back(dir / name.get<std::string>());
    const auto results = accel::engine::classify_images(tmp / "vit.gguf", files, 5, {.n_threads = 2});
    ASSERT_EQ(results.size(), files.size());
    for (const auto& r : results) {
        ASSERT_EQ(r.top.size(), 5u);
        EXPECT_EQ(r.top[0].label, ref["top1"][r.image.filename().string()].get<std::string>()) << r.image;
        double sum = 0;
        for (size_t i = 0; i < r.top.size(); ++i) {
            sum += r.top[i].probability;
            if (i > 0) {
                EXPECT_GE(r.top[i - 1].probability, r.top[i].probability);
            }
        }
        EXPECT_NEAR(sum, 1.0, 1e-5);
    }
    EXPECT_EQ(accel::engine::classify_images(tmp / "vit.gguf", {files[0]}, 2).at(0).top.size(), 2u);
    try {
        accel::engine::classify_images(tmp / "vit.gguf", {dir / "config.json"}, 1);
        ADD_FAILURE() << "config.json classified";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos);
    }
}

}  // namespace
