// `accel inspect` on real GGUF models: stories260K and synthetic models from make-model.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace {

using accel::test::run_accel;

nlohmann::json inspect_json(const std::filesystem::path& path) {
    const auto r = run_accel({"inspect", path.string(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

TEST(InspectModel, Stories260K) {
    ACCEL_REQUIRE_TEST_FILE(path, "models/stories260K.gguf");
    const auto j = inspect_json(path);
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(j["architecture"], "llama");
    EXPECT_EQ(j["n_params"], 292800);
    EXPECT_EQ(j["n_tensors"], 48);
    EXPECT_EQ(j["classification"]["family"], "text_generation");
    EXPECT_EQ(j["classification"]["subfamily"], "causal_lm");
    EXPECT_EQ(j["n_layer"], 5);
    EXPECT_EQ(j["tokenizer_model"], "llama");
    uint64_t sum = 0;
    for (const auto& t : j["gguf"]["tensors"]) sum += t["bytes"].get<uint64_t>();
    EXPECT_EQ(j["memory_estimate"]["weights_bytes"], sum);
    EXPECT_EQ(j["memory_estimate"]["total_bytes"].get<uint64_t>(),
              sum + j["memory_estimate"]["kv_cache_bytes"].get<uint64_t>() +
                  j["memory_estimate"]["compute_buffer_bytes"].get<uint64_t>());
    ASSERT_FALSE(j["devices"].empty());
    EXPECT_EQ(j["devices"][0]["device"], "cpu");

    const auto table = run_accel({"inspect", path.string()});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("parameters:     292800\n"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("classification: text_generation/causal_lm"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("(estimate)"), std::string::npos);
}

struct Synthetic {
    const char* arch;
    const char* params;
    const char* type;
    const char* family;
};

void expect_exact_params(const Synthetic& s) {
    accel::test::TempDir dir;
    const auto out = dir / "m.gguf";
    const auto made = run_accel(
        {"make-model", "--arch", s.arch, "--params", s.params, "--type", s.type, "--out", out.string(), "--json"}, {},
        600);
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto m = nlohmann::json::parse(made.out);
    const auto j = inspect_json(out);
    EXPECT_EQ(j["n_params"], m["n_params"]) << s.arch << " " << s.type;
    EXPECT_EQ(j["architecture"], s.arch);
    EXPECT_EQ(j["n_layer"], m["n_layer"]);
    EXPECT_EQ(j["n_embd"], m["n_embd"]);
    EXPECT_EQ(j["n_head_kv"], m["n_head_kv"]);
    EXPECT_EQ(j["file_bytes"], m["file_bytes"]);
    EXPECT_EQ(j["classification"]["family"], s.family) << s.arch;
}

TEST(InspectModel, SyntheticModelsReportExactParameterCounts) {
    for (const auto& s :
         {Synthetic{"qwen2", "25M", "q8_0", "text_generation"}, Synthetic{"qwen3", "25M", "q4_0", "text_generation"},
          Synthetic{"gpt2", "8M", "f16", "text_generation"}, Synthetic{"starcoder2", "8M", "f32", "text_generation"}})
        expect_exact_params(s);
}

// make-model's n_params disagrees with the file for these (engine/synthetic_model.cpp, reported):
// llama and phi3 count llama.cpp's per-layer duplicates of rope_freqs.weight once per layer (the file and
// llama_model_n_params hold it once), and the saved bert file lacks token_embd.weight, so llama.cpp cannot load it.
// Enable once make-model is fixed.
TEST(InspectModel, SyntheticLlamaPhi3BertExactParameterCounts) {
    for (const auto& s :
         {Synthetic{"llama", "5M", "q4_0", "text_generation"}, Synthetic{"phi3", "5M", "q8_0", "text_generation"},
          Synthetic{"bert", "4M", "f16", "embedding"}})
        expect_exact_params(s);
}

}  // namespace
