// Real photographs from a Debian package (mate-backgrounds: /usr/share/backgrounds/mate/nature, installed by
// scripts/bootstrap.sh) through `accel infer`: a 2560x1600 baseline JPEG and a 1600x1203 progressive one, decoded,
// resized and run. The models have RANDOM WEIGHTS (the fixtures' tiny ones here; make-model's full-size ViT-B/16 and
// CLIP ViT-B/32 in the slow test), so the labels and matches mean nothing: the test checks that the real-photo path
// runs and gives well-formed output, not what the photo shows. Skipped without the package, failed under CI=true.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

const fs::path photos = "/usr/share/backgrounds/mate/nature";

#define REQUIRE_PHOTOS()                                                                                    \
    if (!fs::exists(photos / "LadyBird.jpg") || !fs::exists(photos / "FreshFlower.jpg")) {                  \
        if (accel::test::in_ci()) FAIL() << "no " << photos << ": install mate-backgrounds (bootstrap.sh)"; \
        GTEST_SKIP() << "no " << photos << " (Debian's mate-backgrounds)";                                 \
    }

std::vector<std::string> photo_args() {
    return {"--image", (photos / "LadyBird.jpg").string(), "--image", (photos / "FreshFlower.jpg").string()};
}

void expect_classifications(const std::string& out, int32_t top) {
    const auto j = nlohmann::json::parse(out);
    ASSERT_EQ(j["results"].size(), 2u);
    for (const auto& r : j["results"]) {
        ASSERT_EQ(r["top"].size(), static_cast<size_t>(top));
        double prev = 1.0;
        for (const auto& t : r["top"]) {
            const double p = t["probability"].get<double>();
            EXPECT_TRUE(std::isfinite(p) && p > 0 && p <= prev) << out;
            prev = p;
        }
    }
}

void expect_matches(const std::string& out, size_t n_texts) {
    const auto j = nlohmann::json::parse(out);
    ASSERT_EQ(j["results"].size(), 2u);
    for (const auto& r : j["results"]) {
        double sum = 0;
        for (const auto& p : r["probabilities"]) sum += p.get<double>();
        EXPECT_NEAR(sum, 1.0, 1e-5) << out;
        EXPECT_EQ(r["probabilities"].size(), n_texts);
        EXPECT_LT(r["best"]["text_index"].get<size_t>(), n_texts);
    }
}

#ifndef ACCEL_VISION_MAKE_MODEL  // vision_photo_test (model); the other build is vision_make_model_test (slow)
TEST(VisionPhoto, FixtureModelsRunOnDebianPhotographs) {
    REQUIRE_PHOTOS();
    accel::test::TempDir tmp;
    for (const char* m : {"vit", "clip"})
        ASSERT_EQ(run_accel({"convert", accel::test::hf_fixture(m).string(), "--out", (tmp / m).string() + ".gguf"})
                      .exit_code, 0);
    auto args = std::vector<std::string>{"infer", "--model", (tmp / "vit.gguf").string(), "--top", "3", "--json", "-t", "2"};
    for (const auto& a : photo_args()) args.push_back(a);
    auto r = run_accel(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_classifications(r.out, 3);
    args = {"infer", "--model", (tmp / "clip.gguf").string(), "--text", "a red cat", "--text", "green circles",
            "--json", "-t", "2"};
    for (const auto& a : photo_args()) args.push_back(a);
    r = run_accel(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_matches(r.out, 2);
}

#else
// make-model's full-size models (RANDOM WEIGHTS) on the photographs: ViT-B/16 in f16 and CLIP ViT-B/32 in q4_0
// (make-model's quantized path), each with its make-model report; about a minute on two busy cores.
TEST(VisionPhoto, MakeModelVitAndClipRunOnDebianPhotographs) {
    REQUIRE_PHOTOS();
    accel::test::TempDir tmp;
    const auto vit = tmp / "vit.gguf", clip = tmp / "clip.gguf";
    auto made = run_accel({"make-model", "--arch", "vit", "--type", "f16", "--out", vit.string(), "--json"}, {}, 600);
    ASSERT_EQ(made.exit_code, 0) << made.err;
    auto j = nlohmann::json::parse(made.out);
    EXPECT_EQ(j["n_params"], 86567656);  // ViT-B/16 with a 1000-label head, as google/vit-base-patch16-224
    EXPECT_NE(j["name"].get<std::string>().find("RANDOM WEIGHTS"), std::string::npos);
    made = run_accel({"make-model", "--arch", "clip", "--type", "q4_0", "--out", clip.string(), "--json"}, {}, 600);
    ASSERT_EQ(made.exit_code, 0) << made.err;
    j = nlohmann::json::parse(made.out);
    EXPECT_EQ(j["n_params"], 151277313);  // CLIP ViT-B/32, as openai/clip-vit-base-patch32
    EXPECT_FALSE(fs::exists(tmp / ".clip.gguf.synthetic"));  // the work folder is gone
    auto args = std::vector<std::string>{"infer", "--model", vit.string(), "--top", "2", "--json", "-t", "2"};
    for (const auto& a : photo_args()) args.push_back(a);
    auto r = run_accel(args, {}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_classifications(r.out, 2);
    args = {"infer", "--model", clip.string(), "--text", "a ladybird on a leaf", "--text", "a yellow flower",
            "--text", "a city at night", "--json", "-t", "2"};
    for (const auto& a : photo_args()) args.push_back(a);
    r = run_accel(args, {}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_matches(r.out, 3);
    // the same arguments give the same file
    const auto again = tmp / "again.gguf";
    ASSERT_EQ(run_accel({"make-model", "--arch", "clip", "--type", "q4_0", "--out", again.string()}, {}, 600).exit_code, 0);
    EXPECT_EQ(accel::test::read_file(clip), accel::test::read_file(again));
}
#endif

}  // namespace
