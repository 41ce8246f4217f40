// `accel infer` through the binary on the vit and clip fixtures: the text and JSON output (CLIP's probabilities against
// transformers' logits_per_image), and exit 2 with one line for a bad image, a missing --image or --text and a text
// model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "../engine/gguf_mutants.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

class InferCli : public testing::Test {
protected:
    static void SetUpTestSuite() {
        tmp_ = new accel::test::TempDir;
        const auto r = run_accel({"convert", accel::test::hf_fixture("vit").string(), "--out", model().string(),
                                  "--type", "f32"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    static void TearDownTestSuite() {
        delete tmp_;
        tmp_ = nullptr;
    }
    static fs::path model() { return *tmp_ / "vit.gguf"; }
    static fs::path image(const char* name) { return accel::test::hf_fixture("vit") / name; }
    static inline accel::test::TempDir* tmp_ = nullptr;
};

// One header line per image (its path), then `top` lines "  <probability>  <label>", best first.
TEST_F(InferCli, TextPrintsTopLabelsPerImage) {
    const auto r = run_accel({"infer", "--model", model().string(), "--image", image("shapes.png").string(),
                              "--image", image("shapes.jpg").string(), "--top", "2", "-t", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines;
    for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1)
        lines.push_back(r.out.substr(at, nl - at));
    ASSERT_EQ(lines.size(), 6u) << r.out;
    EXPECT_EQ(lines[0], image("shapes.png").string());
    EXPECT_EQ(lines[3], image("shapes.jpg").string());
    // transformers' top-1 for both (reference.json)
    EXPECT_TRUE(lines[1].starts_with("  0.") && lines[1].ends_with("  golden retriever")) << lines[1];
    EXPECT_TRUE(lines[4].ends_with("  golden retriever")) << lines[4];
}

TEST_F(InferCli, JsonHasEveryLabelWithProbabilities) {
    const auto r = run_accel({"infer", "--model", model().string(), "--image", image("small.png").string(),
                              "--json", "-t", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(j["task"], "image_classification");
    ASSERT_EQ(j["results"].size(), 1u);
    const auto& top = j["results"][0]["top"];
    ASSERT_EQ(top.size(), 5u);  // --top 5 by default, and the fixture has 5 labels
    EXPECT_EQ(top[0]["label"], "golden retriever");
    EXPECT_EQ(top[0]["id"], 1);
    double sum = 0;
    for (const auto& t : top) sum += t["probability"].get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-5);
}

void expect_usage_error(const accel::test::ProcessResult& r, const std::string& names) {
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(names), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line
}

TEST_F(InferCli, BadInputsExitTwoWithOneLine) {
    expect_usage_error(run_accel({"infer", "--model", model().string(), "--image", image("config.json").string()}),
                       "config.json: not a PNG or JPEG image");
    expect_usage_error(run_accel({"infer", "--model", model().string(), "--image", (*tmp_ / "none.png").string()}),
                       "none.png: cannot read");
    expect_usage_error(run_accel({"infer", "--model", model().string()}), "needs an image (--image FILE)");
    const auto bert = *tmp_ / "bert.gguf";
    ASSERT_EQ(run_accel({"convert", accel::test::hf_fixture("bert").string(), "--out", bert.string()}).exit_code, 0);
    expect_usage_error(run_accel({"infer", "--model", bert.string(), "--image", image("shapes.png").string()}),
                       "`accel generate` and `accel embed`");
    const auto clip = *tmp_ / "clip.gguf";
    ASSERT_EQ(run_accel({"convert", accel::test::hf_fixture("clip").string(), "--out", clip.string()}).exit_code, 0);
    expect_usage_error(run_accel({"infer", "--model", clip.string(), "--image", image("shapes.png").string()}),
                       "give at least one --image FILE and one --text TEXT");
    expect_usage_error(run_accel({"infer", "--model", clip.string(), "--image", image("shapes.png").string(),
                                  "--text", "a", "--text", std::string(40, 'x') + " y z w v u t s r q p o n m l k"}),
                       "over the model's 16");
    const auto inspected = run_accel({"inspect", clip.string()});
    EXPECT_NE(inspected.out.find("classification: multimodal/image_text_encoder"), std::string::npos)
        << inspected.out;
}

// The clip fixture's texts (reference.json "texts", tokenized by accel from the GGUF's vocabulary) against its two
// images: each image's probabilities are the softmax of transformers' logits_per_image row (f32 weights), and the
// text table names each image's best text.
TEST_F(InferCli, ClipPrintsTheSimilarityMatrixOfTransformers) {
    const auto dir = accel::test::hf_fixture("clip");
    const auto clip = *tmp_ / "clip32.gguf";
    ASSERT_EQ(run_accel({"convert", dir.string(), "--out", clip.string(), "--type", "f32"}).exit_code, 0);
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    const auto texts = ref["texts"].get<std::vector<std::string>>();
    const auto logits = accel::test::read_st_tensor(dir / "reference.safetensors", "logits_per_image");
    std::vector<std::string> args{"infer", "--model", clip.string(), "-t", "2"};
    for (const char* im : {"shapes.png", "small.png"}) args.insert(args.end(), {"--image", (dir / im).string()});
    for (const auto& t : texts) args.insert(args.end(), {"--text", t});
    args.push_back("--json");
    const auto r = run_accel(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["task"], "image_text_similarity");
    ASSERT_EQ(j["results"].size(), 2u);
    for (size_t t = 0; t < texts.size(); ++t) {  // accel's ids are transformers' up to the first EOS (then padding)
        const auto ids = j["texts"][t]["input_ids"].get<std::vector<int32_t>>();
        const auto want = ref["input_ids"][t].get<std::vector<int32_t>>();
        EXPECT_EQ(ids, std::vector<int32_t>(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(ids.size()))) << t;
    }
    for (size_t i = 0; i < 2; ++i) {
        const float* row = logits.data() + i * texts.size();
        const float max = *std::max_element(row, row + texts.size());
        double sum = 0;
        for (size_t t = 0; t < texts.size(); ++t) sum += std::exp(double(row[t]) - max);
        const auto& got = j["results"][i];
        for (size_t t = 0; t < texts.size(); ++t)
            EXPECT_NEAR(got["probabilities"][t].get<double>(), std::exp(double(row[t]) - max) / sum, 1e-4) << i << t;
        const auto best = static_cast<size_t>(std::max_element(row, row + texts.size()) - row);
        EXPECT_EQ(got["best"]["text_index"], best);
        EXPECT_EQ(got["best"]["text"], texts[best]);
    }
    args.pop_back();
    const auto text = run_accel(args);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("t0  " + texts[0] + "\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("probability (softmax over the texts, per image)"), std::string::npos) << text.out;
}

// Damaged copies of the vit GGUF (truncations, flipped bytes, hostile counts, dimensions, offsets and types):
// accel infer exits 0, 1 or 2 with a one-line message, never by a signal (a GGML_ASSERT) or silently.
TEST_F(InferCli, DamagedGgufsFailCleanly) {
    const auto all = accel::test::make_mutants(accel::test::read_file(model()), 200, 0x5117);
    ASSERT_GE(all.size(), 100u);
    const auto path = *tmp_ / "mutant.gguf";
    for (size_t i = 0; i < all.size(); i += 5) {
        accel::test::write_file(path, all[i].bytes);
        const auto r = run_accel({"infer", "--model", path.string(), "--image", image("small.png").string(), "-t", "1"},
                                 {}, 60);
        EXPECT_EQ(r.signal, 0) << all[i].name << ": " << r.err;
        if (r.exit_code != 0) {
            EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << all[i].name << ": exit " << r.exit_code << r.err;
            EXPECT_NE(r.err.find("accel: error: "), std::string::npos) << all[i].name << ": " << r.err;
        }
    }
}

// accel's own architecture is known to the classifier: not taken for a llama.cpp decoder.
TEST_F(InferCli, InspectClassifiesTheVitGgufAsAnImageClassifier) {
    const auto r = run_accel({"inspect", model().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("classification: vision/image_classifier"), std::string::npos) << r.out;
}

}  // namespace
