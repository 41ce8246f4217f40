// Quality metrics against real models: perplexity equals llama-perplexity's, KL divergence of a model against
// itself is 0 and against its q4_0 quantization is not, embedding cosine, and the CLI's errors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/quality.h"
#include "accel/engine/quantize.h"
#include "test_support.h"

namespace {

using namespace accel;

// A fixed text every Debian machine has (the default corpus).
std::filesystem::path corpus() { return engine::default_corpus_path; }

// Debian's base-files installs it, so under CI=true its absence fails the test instead of skipping it.
#define REQUIRE_CORPUS()                                                                                       \
    if (!std::filesystem::exists(corpus())) {                                                                  \
        if (test::in_ci()) FAIL() << corpus() << " is absent (CI=true: the default corpus is required)";        \
        GTEST_SKIP() << corpus() << " is absent on this machine";                                              \
    }

std::filesystem::path llama_perplexity_bin() {
    if (const char* v = std::getenv("ACCEL_LLAMA_BIN_DIR"); v != nullptr && v[0] != '\0') {
        return std::filesystem::path(v) / "llama-perplexity";
    }
    return std::filesystem::path(ACCEL_LLAMA_BIN_DIR) / "llama-perplexity";
}

#define REQUIRE_LLAMA_PERPLEXITY(bin)                                                              \
    const auto bin = llama_perplexity_bin();                                                        \
    if (!std::filesystem::exists(bin)) {                                                            \
        if (test::in_ci()) FAIL() << bin << " is missing (built by scripts/bootstrap.sh)";         \
        GTEST_SKIP() << bin << " is missing (built by scripts/bootstrap.sh)";                       \
    }

// llama-perplexity's perplexity and its standard error over the first n_chunks chunks of the corpus.
// llama-perplexity logs through an asynchronous logger that drops the lines of its last moments when the process
// exits before the logger thread has written them (llama.cpp issue 22142), and on a loaded machine it does. So it
// runs one chunk more than compared, and the running figures it prints after chunk n_chunks (--ppl-output-type 1:
// "start ppl mean_nll stderr_nll") are read: they cover exactly the first n_chunks chunks.
struct Reference {
    std::optional<double> ppl, err;
    std::string output;
};
Reference llama_perplexity(const std::filesystem::path& bin, const std::filesystem::path& model, int n_ctx,
                           int n_batch, int n_chunks) {
    const std::vector<std::string> argv = {bin.string(), "-m", model.string(), "-f", corpus().string(), "-c",
                                           std::to_string(n_ctx), "-b", std::to_string(n_batch), "--chunks",
                                           std::to_string(n_chunks + 1), "-t", "2", "--ppl-output-type", "1"};
    Reference ref;
    for (int attempt = 0; attempt < 3 && !ref.ppl; ++attempt) {
        const test::ProcessResult r = test::run_process(argv, {}, 300);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        ref.output = r.out + r.err;
        std::istringstream lines(ref.output);
        for (std::string line; std::getline(lines, line);) {
            long start = -1;
            double ppl = 0, nll = 0, nll_err = 0;
            char extra = 0;
            if (std::sscanf(line.c_str(), " %ld %lf %lf %lf %c", &start, &ppl, &nll, &nll_err, &extra) == 4 &&
                start == static_cast<long>(n_chunks - 1) * n_ctx) {
                ref.ppl = ppl;
                ref.err = nll_err * ppl;
            }
        }
    }
    return ref;
}

TEST(Quality, PerplexityEqualsLlamaPerplexity) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    REQUIRE_CORPUS();
    REQUIRE_LLAMA_PERPLEXITY(bin);
    // Two batch shapes: one decode per chunk, and a chunk split over several decodes.
    for (const auto& [n_ctx, n_batch] : std::vector<std::pair<int, int>>{{128, 128}, {128, 32}}) {
        const Reference ref = llama_perplexity(bin, stories, n_ctx, n_batch, 4);
        ASSERT_TRUE(ref.ppl.has_value()) << ref.output;

        const auto model = engine::LoadedModel::load(stories);
        const auto got = engine::perplexity(model, engine::read_corpus(corpus()),
                                            {.n_ctx = static_cast<uint32_t>(n_ctx),
                                             .n_batch = static_cast<uint32_t>(n_batch),
                                             .n_threads = 2,
                                             .max_chunks = 4});
        EXPECT_EQ(got.n_chunks, 4);
        EXPECT_EQ(got.n_tokens_scored, 4 * (n_ctx - 1 - n_ctx / 2));
        EXPECT_NEAR(got.perplexity, *ref.ppl, 0.005 * *ref.ppl) << "n_ctx " << n_ctx << " n_batch " << n_batch;
        EXPECT_NEAR(got.perplexity_stderr, *ref.err, 0.01 * *ref.err + 1e-4);
        EXPECT_GT(got.seconds, 0);
    }
}

// The CLI's figure against llama-perplexity's (an independent implementation), not against accel's own library.
TEST(Quality, CliPerplexityJsonMatchesLlamaPerplexity) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    REQUIRE_CORPUS();
    REQUIRE_LLAMA_PERPLEXITY(bin);
    const auto r = test::run_accel({"perplexity", "--model", stories.string(), "-c", "128", "-b", "128", "--chunks",
                                    "3", "-t", "2", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc.at("schema_version"), 1);
    EXPECT_EQ(doc.at("text"), corpus().string());
    EXPECT_EQ(doc.at("perplexity").at("n_chunks"), 3);
    const Reference ref = llama_perplexity(bin, stories, 128, 128, 3);
    ASSERT_TRUE(ref.ppl.has_value()) << ref.output;
    EXPECT_NEAR(doc.at("perplexity").at("value").get<double>(), *ref.ppl, 0.005 * *ref.ppl);
}

TEST(Quality, KlDivergenceOfAModelAgainstItselfIsZero) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    REQUIRE_CORPUS();
    const auto a = engine::LoadedModel::load(stories);
    const auto b = engine::LoadedModel::load(stories);
    const auto kl = engine::kl_divergence(a, b, engine::read_corpus(corpus()),
                                          {.n_ctx = 128, .n_batch = 128, .n_threads = 2, .max_chunks = 3});
    EXPECT_LT(std::fabs(kl.kl_mean), 1e-9);
    EXPECT_LT(std::fabs(kl.kl_p99), 1e-9);
    EXPECT_EQ(kl.top1_agreement, 1.0);
    EXPECT_EQ(kl.ppl_reference, kl.ppl_test);
    EXPECT_EQ(kl.n_tokens_scored, 3 * 63);
}

TEST(Quality, KlDivergenceAgainstQ4_0IsPositive) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    REQUIRE_CORPUS();
    test::TempDir dir;
    const auto outs = engine::quantize({.input = stories, .types = {"q4_0"}, .out_dir = dir.path(), .n_threads = 2});
    ASSERT_EQ(outs.size(), 1u);
    const auto ref = engine::LoadedModel::load(stories);
    const auto q4 = engine::LoadedModel::load(outs[0].path);
    const std::string text = engine::read_corpus(corpus());
    const engine::PerplexityParams params{.n_ctx = 128, .n_batch = 128, .n_threads = 2, .max_chunks = 3};
    const auto kl = engine::kl_divergence(ref, q4, text, params);
    EXPECT_GT(kl.kl_mean, 0.0);
    EXPECT_GE(kl.kl_p99, kl.kl_mean);  // a heavy tail, never below the mean for these models
    EXPECT_NE(kl.ppl_reference, kl.ppl_test);
    // The KL run's perplexities are the same numbers perplexity() gives for each model alone.
    const auto p_ref = engine::perplexity(ref, text, params);
    const auto p_q4 = engine::perplexity(q4, text, params);
    EXPECT_NEAR(kl.ppl_reference, p_ref.perplexity, 1e-9 * kl.ppl_reference);
    EXPECT_NEAR(kl.ppl_test, p_q4.perplexity, 1e-9 * kl.ppl_test);
    EXPECT_NEAR(kl.ppl_test_stderr, p_q4.perplexity_stderr, 1e-9 * kl.ppl_test);
    EXPECT_EQ(kl.n_chunks, 3);
}

TEST(Quality, TextShorterThanOneChunkIsInvalidInput) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto model = engine::LoadedModel::load(stories);
    try {
        engine::perplexity(model, "Once upon a time", {.n_ctx = 128});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("fewer than one chunk of 128"), std::string::npos) << e.what();
    }
}

TEST(Quality, MissingCorpusIsAClearError) {
    try {
        engine::read_corpus("/nonexistent/corpus.txt");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
        EXPECT_EQ(std::string(e.what()), "text file not found: /nonexistent/corpus.txt");
    }
}

TEST(Quality, EmbeddingCosineIsOneAgainstItselfAndBelowOneAgainstQ8_0) {
    const auto f32 = test::synthetic_model("bert", "5M", "f32");
    const auto q8 = test::synthetic_model("bert", "5M", "q8_0");
    const auto ref = engine::LoadedModel::load(f32);
    const auto quant = engine::LoadedModel::load(q8);
    EXPECT_TRUE(engine::is_embedding_model(ref));
    const std::vector<std::string> sentences = {"the first sentence", "another one, a little longer than the first",
                                                "3"};
    const auto self = engine::embedding_similarity(ref, ref, sentences, 2);
    EXPECT_EQ(self.n_texts, 3);
    EXPECT_NEAR(self.mean_cosine, 1.0, 1e-6);
    EXPECT_EQ(self.max_abs_diff, 0.0);
    const auto q = engine::embedding_similarity(ref, quant, sentences, 2);
    EXPECT_GT(q.max_abs_diff, 0.0);
    EXPECT_LT(q.min_cosine, 1.0);
    EXPECT_LE(q.min_cosine, q.mean_cosine);
    EXPECT_GT(q.mean_cosine, 0.5);  // q8_0 stays close to f32 even with random weights
    // An embedding model has no perplexity.
    EXPECT_THROW(engine::perplexity(ref, "x", {}), Error);
}

TEST(QualityCli, BadInputsAreOneLineErrorsWithExit2) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    {
        const auto r = test::run_accel({"perplexity", "--model", stories.string(), "--text", "/nonexistent.txt"});
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.err, "accel: error: text file not found: /nonexistent.txt\n");
    }
    {
        const auto r = test::run_accel({"perplexity", "--model", "/nonexistent.gguf"});
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.err, "accel: error: model file not found: /nonexistent.gguf\n");
    }
    {
        test::TempDir dir;
        test::write_file(dir / "short.txt", "Once upon a time");
        const auto r = test::run_accel(
            {"perplexity", "--model", stories.string(), "--text", (dir / "short.txt").string(), "-c", "128"});
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_TRUE(r.err.starts_with("accel: error: the text has ")) << r.err;
        EXPECT_NE(r.err.find("fewer than one chunk of 128 (give a longer text or a smaller -c)\n"), std::string::npos)
            << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    {
        const auto bert = test::synthetic_model("bert", "5M", "f32");
        const auto r = test::run_accel({"perplexity", "--model", bert.string()});
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.err, "accel: error: " + bert.string() +
                             " is an embedding model: it has no perplexity; give --reference REF.gguf to compare its "
                             "embeddings by cosine\n");
    }
}

TEST(QualityCli, ReferenceAddsKlDivergence) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    REQUIRE_CORPUS();
    const auto r = test::run_accel({"perplexity", "--model", stories.string(), "--reference", stories.string(), "-c",
                                    "64", "--chunks", "2", "-t", "2", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc.at("reference"), stories.string());
    EXPECT_EQ(doc.at("kl_divergence").at("mean").get<double>(), 0.0);
    EXPECT_EQ(doc.at("kl_divergence").at("top1_agreement").get<double>(), 1.0);
    EXPECT_EQ(doc.at("kl_divergence").at("n_tokens_scored"), 2 * 31);
    EXPECT_EQ(doc.at("kl_divergence").at("ppl_reference"), doc.at("perplexity").at("value"));
}

TEST(QualityCli, EmbeddingReferenceGivesCosine) {
    const auto f32 = test::synthetic_model("bert", "5M", "f32");
    test::TempDir dir;
    test::write_file(dir / "s.txt", "one sentence\n\nanother sentence\n");
    const auto r = test::run_accel({"perplexity", "--model", f32.string(), "--reference", f32.string(), "--sentences",
                                    (dir / "s.txt").string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc.at("embedding").at("n_texts"), 2);
    EXPECT_NEAR(doc.at("embedding").at("mean_cosine").get<double>(), 1.0, 1e-6);
}

}  // namespace
