// End-to-end checks with real models: the exact greedy text and the synthetic model round trip.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/core/partial_file.h"
#include "test_support.h"

namespace {

using accel::test::run_accel;

TEST(Generate, StoriesGreedyContinuationMatchesLlamaCpp) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    const auto r = run_accel({"generate", "--model", model.string(), "--prompt", "Once upon a time", "-n", "48"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, "
              "red ball. She wanted to play with it,\n");
    EXPECT_NE(r.err.find("load:"), std::string::npos);
    EXPECT_NE(r.err.find("tokens/s"), std::string::npos);
}

TEST(Generate, BosOnlyReproducesReferenceImplementations) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    ACCEL_REQUIRE_TEST_FILE(expected_path, "models/stories260K.bos-greedy-200.txt");
    const auto r = run_accel({"generate", "--model", model.string(), "--prompt", "", "-n", "200"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string expected = accel::test::read_file(expected_path);
    std::string got = r.out;
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    while (!got.empty() && got.back() == '\n') got.pop_back();
    EXPECT_EQ(got, expected);
}

TEST(Generate, StopStringIsNotPrinted) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    const auto r = run_accel({"generate", "--model", model.string(), "--prompt", "Once upon a time", "-n", "48",
                              "--stop", "Lily"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, ", there was a little girl named \n");
}

TEST(Generate, TruncatedModelFailsCleanly) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    accel::test::TempDir dir;
    const std::string bytes = accel::test::read_file(model);
    for (size_t keep : {size_t{8}, size_t{100}, size_t{5000}, bytes.size() / 2, bytes.size() - 1}) {
        accel::test::write_file(dir / "cut.gguf", bytes.substr(0, keep));
        const auto r = run_accel({"generate", "--model", (dir / "cut.gguf").string(), "--prompt", "x", "-n", "4"});
        EXPECT_EQ(r.signal, 0) << "kept " << keep << " bytes: " << r.err;
        EXPECT_NE(r.exit_code, 0) << "kept " << keep << " bytes";
        EXPECT_NE(r.err.find("cut.gguf"), std::string::npos) << r.err;
    }
}

TEST(MakeModel, DeterministicLoadableAndSaysRandom) {
    accel::test::TempDir dir;
    std::string sha[2];
    for (int i = 0; i < 2; ++i) {
        const auto out = dir / ("m" + std::to_string(i) + ".gguf");
        const auto r = run_accel({"make-model", "--arch", "llama", "--params", "5M", "--type", "q8_0", "--seed", "7",
                                  "--out", out.string(), "--json"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j.at("schema_version"), 1);
        EXPECT_TRUE(j.at("random_weights").get<bool>());
        EXPECT_NE(j.at("name").get<std::string>().find("RANDOM WEIGHTS"), std::string::npos);
        const auto n = j.at("n_params").get<uint64_t>();
        EXPECT_GT(n, 4'500'000u);
        EXPECT_LT(n, 5'500'000u);
        sha[i] = j.at("sha256");
        EXPECT_FALSE(std::filesystem::exists(out.string() + ".partial"));
    }
    EXPECT_EQ(sha[0], sha[1]);
    const auto g = run_accel({"generate", "--model", (dir / "m0.gguf").string(), "--prompt", "Hello", "-n", "4"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_NE(g.err.find("generated: 4 tokens"), std::string::npos) << g.err;
}

TEST(MakeModel, DifferentSeedDifferentWeights) {
    accel::test::TempDir dir;
    const auto a = run_accel({"make-model", "--params", "5M", "--seed", "1", "--out", (dir / "a.gguf").string(), "--json"});
    const auto b = run_accel({"make-model", "--params", "5M", "--seed", "2", "--out", (dir / "b.gguf").string(), "--json"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_NE(nlohmann::json::parse(a.out).at("sha256"), nlohmann::json::parse(b.out).at("sha256"));
}

class MakeModelArch : public ::testing::TestWithParam<std::string> {};

TEST_P(MakeModelArch, BuildsAndLoads) {
    accel::test::TempDir dir;
    const auto out = dir / "m.gguf";
    const auto r = run_accel({"make-model", "--arch", GetParam(), "--params", "8M", "--type", "f16", "--out", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.signal, 0);
    EXPECT_TRUE(std::filesystem::exists(out));
}

INSTANTIATE_TEST_SUITE_P(All, MakeModelArch,
                         ::testing::Values("llama", "phi3", "gpt2", "starcoder2", "bert"));

}  // namespace
