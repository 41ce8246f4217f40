// The engine against real models: embeddings from a synthetic BERT, tokenization, cancellation and errors.
#include <cmath>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/engine/embedder.h"
#include "accel/engine/generator.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "test_support.h"

namespace {

using namespace accel;

double norm(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s);
}

struct Bert : ::testing::Test {
    static void SetUpTestSuite() { path = new std::filesystem::path(test::synthetic_model("bert", "5M", "f32")); }
    static void TearDownTestSuite() { delete path; }
    static std::filesystem::path* path;
};
std::filesystem::path* Bert::path = nullptr;

TEST_F(Bert, NormalizedVectorsHaveDimensionNEmbdAndUnitNorm) {
    auto model = engine::LoadedModel::load(*path);
    auto session = engine::Session::open(model, {.n_ctx = 512, .n_seq_max = 4, .embeddings = true});
    const auto v = engine::embed(session, {"hello world", "a longer sentence about something else"}, {.normalize = true});
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].size(), 128u);  // the 5M synthetic BERT is 128 wide (see make-model)
    for (const auto& e : v) EXPECT_NEAR(norm(e), 1.0, 1e-3);
}

TEST_F(Bert, IdenticalTextsIdenticalVectors) {
    auto model = engine::LoadedModel::load(*path);
    auto session = engine::Session::open(model, {.n_ctx = 512, .n_seq_max = 4, .embeddings = true});
    const auto v = engine::embed(session, {"same text", "same text"}, {});
    EXPECT_EQ(v[0], v[1]);
    const auto again = engine::embed(session, {"same text"}, {});
    EXPECT_EQ(v[0], again[0]);
}

TEST_F(Bert, BatchEqualsOneByOne) {
    auto model = engine::LoadedModel::load(*path);
    auto session = engine::Session::open(model, {.n_ctx = 512, .n_seq_max = 8, .embeddings = true});
    const std::vector<std::string> texts = {"first", "the second text is longer", "third one", "4"};
    const auto batch = engine::embed(session, texts, {.normalize = true});
    for (size_t i = 0; i < texts.size(); ++i) {
        const auto single = engine::embed(session, {texts[i]}, {.normalize = true});
        ASSERT_EQ(single[0].size(), batch[i].size());
        for (size_t k = 0; k < batch[i].size(); ++k) EXPECT_NEAR(single[0][k], batch[i][k], 1e-4) << i << "," << k;
    }
}

TEST(Engine, CausalModelWithoutPoolingIsAClearError) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    auto model = engine::LoadedModel::load(stories);
    auto session = engine::Session::open(model, {.n_ctx = 128, .embeddings = true});
    try {
        engine::embed(session, {"hi"}, {});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("no pooling"), std::string::npos) << e.what();
    }
    // With a pooling override the hidden states can be pooled.
    auto pooled = engine::Session::open(model, {.n_ctx = 128, .embeddings = true, .pooling = engine::Pooling::mean});
    EXPECT_EQ(engine::embed(pooled, {"hi"}, {}).at(0).size(), 64u);
}

TEST(Engine, TokenizeDetokenizeRoundTrip) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    auto model = engine::LoadedModel::load(stories);
    const auto toks = engine::tokenize(model, "Once upon a time", false);
    EXPECT_FALSE(toks.empty());
    EXPECT_EQ(engine::detokenize(model, toks), " Once upon a time");  // SentencePiece's space prefix
    const auto with_bos = engine::tokenize(model, "Once upon a time", true);
    EXPECT_EQ(with_bos.size(), toks.size() + 1);
}

TEST(Engine, CancellingGenerationStopsEarly) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    auto model = engine::LoadedModel::load(stories);
    auto session = engine::Session::open(model, {.n_ctx = 256});
    int pieces = 0;
    const auto st = engine::generate(session, "Once upon a time", {.n_predict = 100}, [&](std::string_view) {
        return ++pieces < 5;
    });
    EXPECT_TRUE(st.cancelled);
    EXPECT_EQ(st.n_tokens_gen, 5);
}

TEST(Engine, LoadCanBeCancelled) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    try {
        engine::LoadedModel::load(stories, {.on_progress = [](float) { return false; }});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::busy);
        EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos);
    }
}

TEST(Engine, PromptLongerThanContextIsRejected) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    auto model = engine::LoadedModel::load(stories);
    auto session = engine::Session::open(model, {.n_ctx = 16});  // llama.cpp may round the context up
    const auto n = static_cast<int32_t>(session.n_ctx());
    EXPECT_THROW(engine::generate(session, "Once upon a time", {.n_predict = n}, [](std::string_view) { return true; }),
                 Error);
}

}  // namespace
