// `accel classify` and `accel inspect` on small inputs, through the binary (exit codes, JSON keys, messages).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace {

using accel::test::run_accel;

TEST(ClassifyCli, JsonKeysAndValues) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "config.json",
                            R"({"model_type":"whisper","architectures":["WhisperForConditionalGeneration"],
                                "num_mel_bins":80,"vocab_size":51865,"is_encoder_decoder":true})");
    const auto r = run_accel({"classify", "--config", (dir / "config.json").string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.push_back(k);
    EXPECT_EQ(keys,
              (std::vector<std::string>{"accel_convert", "confidence", "family", "reasons", "schema_version", "subfamily",
                                        "tasks"}));
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(j["family"], "audio");
    EXPECT_EQ(j["subfamily"], "speech_recognition");
    EXPECT_EQ(j["tasks"][0], "automatic-speech-recognition");
    EXPECT_GT(j["confidence"].get<double>(), 0.5);
    EXPECT_LT(j["confidence"].get<double>(), 1.0);
    EXPECT_GE(j["reasons"].size(), 3u);
}

// A Hugging Face folder directly, as inspect takes it: the family, and whether accel converts and runs it.
TEST(ClassifyCli, HuggingFaceFolderSaysWhetherAccelConvertsIt) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "config.json", R"({"model_type":"qwen2","architectures":["Qwen2ForCausalLM"]})");
    const auto r = run_accel({"classify", dir.path().string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["family"], "text_generation");
    EXPECT_EQ(j["accel_convert"]["convertible"], true);
    EXPECT_EQ(j["accel_convert"]["architecture"], "Qwen2ForCausalLM");
    EXPECT_EQ(j["accel_convert"]["runs_with"], "llama.cpp");

    accel::test::write_file(dir / "config.json", R"({"model_type":"siglip","architectures":["SiglipModel"]})");
    const auto t = run_accel({"classify", dir.path().string()});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("accel convert:  no: SiglipModel is not one accel converts (it converts "
                         "LlamaForCausalLM, "),
              std::string::npos)
        << t.out;
    const auto inspected = run_accel({"inspect", dir.path().string()});
    EXPECT_NE(inspected.out.find("accel convert:  no: SiglipModel"), std::string::npos) << inspected.out;
    accel::test::write_file(dir / "config.json",
                            R"({"model_type":"vit","architectures":["ViTForImageClassification"]})");
    const auto vit = run_accel({"inspect", dir.path().string(), "--json"});
    ASSERT_EQ(vit.exit_code, 0) << vit.err;
    EXPECT_EQ(nlohmann::json::parse(vit.out)["accel_convert"]["runs_with"], "accel's ggml graphs (accel infer)");
    // a folder and --config at once is a usage error
    const auto both = run_accel({"classify", dir.path().string(), "--config", (dir / "config.json").string()});
    EXPECT_EQ(both.exit_code, 2);
    EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
}

TEST(ClassifyCli, TableOutput) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "config.json", R"({"model_type":"detr","architectures":["DetrForObjectDetection"]})");
    const auto r = run_accel({"classify", "--config", (dir / "config.json").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find(" (")), "vision/object_detector");
    EXPECT_NE(r.out.find("knowledge table: model_type 'detr'"), std::string::npos) << r.out;
}

TEST(ClassifyCli, BadInputExitsTwoNamingTheFile) {
    accel::test::TempDir dir;
    auto r = run_accel({"classify", "--config", (dir / "missing.json").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
    accel::test::write_file(dir / "bad.json", "{\"model_type\": ");
    r = run_accel({"classify", "--config", (dir / "bad.json").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
}

TEST(InspectCli, MalformedSeedsExitTwoWithoutCrashing) {
    const char* src = std::getenv("ACCEL_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    for (const char* name : {"bad_offset_overlap.gguf", "bad_array_count.gguf", "bad_tensor_count_cap.gguf"}) {
        const auto path = std::filesystem::path(src) / "fuzz/corpus/gguf" / name;
        const auto r = run_accel({"inspect", path.string()});
        EXPECT_EQ(r.signal, 0) << name;
        EXPECT_EQ(r.exit_code, 2) << name << ": " << r.err;
        EXPECT_NE(r.err.find(name), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    const auto r = run_accel({"inspect", "/nonexistent/x.gguf"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("/nonexistent/x.gguf"), std::string::npos);
}

TEST(InspectCli, ConfigJsonWithEstimate) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "config.json",
                            R"({"model_type":"qwen2","architectures":["Qwen2ForCausalLM"],"hidden_size":896,
                                "num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,
                                "max_position_embeddings":32768,"vocab_size":151936,"intermediate_size":4864})");
    const auto r = run_accel({"inspect", (dir / "config.json").string(), "--json", "--ctx", "1024"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["format"], "config_json");
    EXPECT_EQ(j["classification"]["family"], "text_generation");
    // 24 layers x 1024 cells x 2 kv heads x 64 dims x (K + V) x 2 bytes (f16)
    EXPECT_EQ(j["memory_estimate"]["kv_cache_bytes"], 24u * 1024 * 2 * 64 * 2 * 2);
    EXPECT_EQ(j["memory_estimate"]["is_estimate"], true);
}

}  // namespace
