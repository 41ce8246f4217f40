// `accel convert --mmproj-out` and `accel infer --mmproj` through the binary on the llava fixture (random weights:
// the answer's text means nothing, only its shape is checked), and exit 2 with one line for a projector that does
// not belong to the model, a text model given as the projector and a missing --image.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

class InferLlavaCli : public testing::Test {
protected:
    static void SetUpTestSuite() {
        tmp_ = new accel::test::TempDir;
        const auto r = run_accel({"convert", accel::test::hf_fixture("llava").string(), "--out", (*tmp_ / "text.gguf").string(),
                                  "--mmproj-out", (*tmp_ / "mmproj.gguf").string(), "--json"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        convert_ = new nlohmann::json(nlohmann::json::parse(r.out));
    }
    static void TearDownTestSuite() {
        delete tmp_;
        delete convert_;
        tmp_ = nullptr;
        convert_ = nullptr;
    }
    static std::string path(const char* name) { return (*tmp_ / name).string(); }
    static std::string image() { return (accel::test::hf_fixture("llava") / "shapes.png").string(); }
    static inline accel::test::TempDir* tmp_ = nullptr;
    static inline nlohmann::json* convert_ = nullptr;
};

void expect_usage_error(const accel::test::ProcessResult& r, const std::string& names) {
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(names), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line
}

TEST_F(InferLlavaCli, ConvertWritesBothFiles) {
    const auto& j = *convert_;
    EXPECT_EQ(j["arch"], "llama");
    EXPECT_EQ(j["mmproj"]["arch"], "clip");
    EXPECT_EQ(j["mmproj"]["tensors"].size(), 25u);
    EXPECT_TRUE(fs::exists(path("mmproj.gguf")));
    // --mmproj-out for a checkpoint without a projector: exit 2, nothing written
    const auto r = run_accel({"convert", accel::test::hf_fixture("llama").string(), "--out", path("l.gguf"),
                              "--mmproj-out", path("l-mmproj.gguf")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("no multimodal projector"), std::string::npos) << r.err;
}

TEST_F(InferLlavaCli, StreamsTheAnswerAndJsonSaysWhatRan) {
    const auto t = run_accel({"infer", "--model", path("text.gguf"), "--mmproj", path("mmproj.gguf"), "--image", image(),
                              "--prompt", "What is in the picture?", "-n", "4", "-t", "2"});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_FALSE(t.out.empty());
    const auto r = run_accel({"infer", "--model", path("text.gguf"), "--mmproj", path("mmproj.gguf"), "--image", image(),
                              "-n", "4", "-t", "2", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(j["task"], "image_text_to_text");
    EXPECT_EQ(j["n_image_tokens"], 16);
    EXPECT_EQ(j["vision"], "accel");
    EXPECT_LE(j["n_generated"].get<int>(), 4);
    EXPECT_TRUE(j["answer"].is_string());
}

TEST_F(InferLlavaCli, WrongInputsExitTwoWithOneLine) {
    expect_usage_error(run_accel({"infer", "--model", path("text.gguf"), "--mmproj", path("mmproj.gguf")}), "needs --image");
    expect_usage_error(run_accel({"infer", "--model", path("text.gguf"), "--mmproj", path("text.gguf"), "--image", image()}),
                       "not a vision projector");
    const auto other = accel::test::synthetic_model("llama", "8M", "f32");  // 128 wide; the projector gives 64
    expect_usage_error(run_accel({"infer", "--model", other.string(), "--mmproj", path("mmproj.gguf"), "--image", image()}),
                       "does not belong to");
    expect_usage_error(run_accel({"infer", "--model", path("text.gguf"), "--image", image()}),
                       "llama with --mmproj");
}

}  // namespace
