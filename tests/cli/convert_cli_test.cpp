// `accel convert` through the binary: JSON output, exit codes, refusals naming the input.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

TEST(ConvertCli, JsonDescribesTheOutput) {
    accel::test::TempDir tmp;
    const auto out = tmp / "qwen2.gguf";
    const auto r = run_accel({"convert", accel::test::hf_fixture("qwen2").string(), "--out", out.string(), "--type",
                              "q8_0", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(j["hf_architecture"], "Qwen2ForCausalLM");
    EXPECT_EQ(j["arch"], "qwen2");
    EXPECT_EQ(j["tokenizer"], "gpt2");
    EXPECT_EQ(j["tokenizer_pre"], "qwen2");
    EXPECT_EQ(j["n_shards"], 2);
    EXPECT_EQ(j["chat_template"], true);
    EXPECT_EQ(j["out_bytes"].get<uint64_t>(), fs::file_size(out));
    EXPECT_EQ(j["tensors"].size(), 2u + 2u * 12u);
    EXPECT_EQ(j["tensors"][0]["name"], "token_embd.weight");
    EXPECT_EQ(j["tensors"][0]["type"], "q8_0");
}

TEST(ConvertCli, UnsupportedArchitectureExitsTwoAndListsTheSupportedOnes) {
    accel::test::TempDir tmp;
    fs::copy(accel::test::hf_fixture("llama"), tmp / "m", fs::copy_options::recursive);
    accel::test::write_file(tmp / "m" / "config.json", R"({"architectures":["MambaForCausalLM"],"vocab_size":10})");
    const auto r = run_accel({"convert", (tmp / "m").string(), "--out", (tmp / "x.gguf").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("MambaForCausalLM"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("LlamaForCausalLM, Qwen2ForCausalLM"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp / "x.gguf"));
    EXPECT_TRUE(r.out.empty());
}

TEST(ConvertCli, UsageErrors) {
    accel::test::TempDir tmp;
    EXPECT_EQ(run_accel({"convert", accel::test::hf_fixture("llama").string()}).exit_code, 2);  // no --out
    const auto r = run_accel({"convert", accel::test::hf_fixture("llama").string(), "--out",
                              (tmp / "x.gguf").string(), "--type", "q4_0"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("q4_0"), std::string::npos) << r.err;
    const auto missing = run_accel({"convert", (tmp / "nothing").string(), "--out", (tmp / "x.gguf").string()});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("nothing"), std::string::npos) << missing.err;
}

}  // namespace
