// The safetensors header reader and the Hugging Face directory reader.
#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/model/model_info.h"
#include "accel/model/safetensors_file.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::model::parse_safetensors_header;

std::string with_prefix(const std::string& header, size_t data_bytes) {
    std::string out(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(out.data(), &n, 8);
    return out + header + std::string(data_bytes, '\0');
}

void expect_rejected(const std::string& header, uint64_t file_bytes, const std::string& what) {
    try {
        (void)parse_safetensors_header(header, file_bytes, "m.safetensors");
        ADD_FAILURE() << "accepted; expected: " << what;
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_EQ(std::string(e.what()).rfind("m.safetensors: ", 0), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
}

const std::string two = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                        R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]},"__metadata__":{"format":"pt"}})";

TEST(Safetensors, ValidHeader) {
    const auto f = parse_safetensors_header(two, 8 + two.size() + 24, "m.safetensors");
    ASSERT_EQ(f.tensors.size(), 2u);
    EXPECT_EQ(f.tensors[0].name, "a");
    EXPECT_EQ(f.tensors[1].dtype, "BF16");
    EXPECT_EQ(f.n_params(), 8u);
    EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST(Safetensors, Checks) {
    const uint64_t ok = 8 + two.size() + 24;
    expect_rejected(two, ok + 1, "data ends at 24 bytes after the header, but the file holds 25");
    expect_rejected("[1]", 11, "does not start with '{'");
    expect_rejected("{\"a\":", 13, "invalid JSON");
    expect_rejected("{\"\xff\":{}}", 16, "invalid JSON");
    expect_rejected(
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
        200, "duplicate JSON key 'a'");
    expect_rejected(R"({"a":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}})", 100, "unsupported dtype 'Q4'");
    expect_rejected(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}})", 100,
                    "spans 16 bytes but shape x dtype needs 20");
    expect_rejected(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 100, "leaving a hole");
    expect_rejected(
        R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
        200, "overlaps");
    expect_rejected(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", 100, "ends before it begins");
    expect_rejected(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", 100, "non-negative integer");
    expect_rejected(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,16]}})",
                    200, "overflows");
    expect_rejected(R"({"a":{"dtype":"F32","shape":[4]}})", 100, "data_offsets is not [begin, end]");
    expect_rejected(R"({"a":1})", 100, "entry is not an object");
    try {
        (void)parse_safetensors_header(two, 1000, "m.safetensors", {.max_tensor_count = 1});
        ADD_FAILURE();
    } catch (const accel::Error& e) {
        EXPECT_NE(std::string(e.what()).find("exceed the limit"), std::string::npos) << e.what();
    }
    try {
        (void)parse_safetensors_header(two, 1000, "m.safetensors", {.max_header_bytes = 10});
        ADD_FAILURE();
    } catch (const accel::Error& e) {
        EXPECT_NE(std::string(e.what()).find("over the limit"), std::string::npos) << e.what();
    }
}

TEST(Safetensors, CorpusSeedsRejectedCleanly) {
    const char* src = std::getenv("ACCEL_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    int n = 0;
    for (const char* sub : {"fuzz/corpus/safetensors", "fuzz/regressions/safetensors"}) {
        const auto dir = fs::path(src) / sub;
        if (!fs::exists(dir)) continue;
        for (const auto& entry : fs::directory_iterator(dir)) {
            const auto name = entry.path().filename().string();
            if (name.rfind("bad_", 0) != 0) continue;
            ++n;
            try {
                (void)accel::model::read_safetensors(entry.path());
                ADD_FAILURE() << name << " accepted";
            } catch (const accel::Error& e) {
                EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << name << ": " << e.what();
                EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
            }
        }
    }
    EXPECT_GE(n, 15);
    EXPECT_EQ(accel::model::read_safetensors(fs::path(src) / "fuzz/corpus/safetensors/good.safetensors").tensors.size(),
              2u);
}

TEST(HfDirectory, ShardedIndexConfigAndTokenizer) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "config.json",
                            R"({"model_type":"llama","architectures":["LlamaForCausalLM"],"hidden_size":64,
                                "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
                                "max_position_embeddings":512,"vocab_size":100,"intermediate_size":128,
                                "torch_dtype":"bfloat16"})");
    const std::string h1 = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
    const std::string h2 = R"({"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}})";
    accel::test::write_file(dir / "model-00001-of-00002.safetensors", with_prefix(h1, 16));
    accel::test::write_file(dir / "model-00002-of-00002.safetensors", with_prefix(h2, 6));
    accel::test::write_file(dir / "model.safetensors.index.json",
                            R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
                            R"("b":"model-00002-of-00002.safetensors"}})");
    accel::test::write_file(dir / "tokenizer.json", R"({"model":{"type":"BPE","vocab":{}}})");
    accel::test::write_file(dir / "tokenizer_config.json", R"({"tokenizer_class":"LlamaTokenizer"})");
    accel::test::write_file(dir / "generation_config.json", R"({"do_sample":false})");
    const auto m = accel::model::inspect_model(dir.path());
    EXPECT_EQ(m.format, "hf_directory");
    EXPECT_EQ(m.architecture, "llama");
    EXPECT_EQ(m.n_params, 7u);
    EXPECT_EQ(m.n_tensors, 2u);
    EXPECT_EQ(m.weights_bytes, 22u);
    EXPECT_EQ(m.tokenizer_model, "BPE");
    EXPECT_EQ(m.tokenizer_class, "LlamaTokenizer");
    EXPECT_TRUE(m.has_generation_config);
    EXPECT_EQ(m.n_head_kv, 2u);
    EXPECT_EQ(m.file_type, "bfloat16");
    ASSERT_TRUE(m.memory_shape.has_value());
    EXPECT_EQ(m.memory_shape->weights_bytes, 22u);
    EXPECT_EQ(m.memory_shape->head_dim_k, 16u);
    EXPECT_EQ(m.tensor_type_counts.at("BF16"), 1u);
}

TEST(HfDirectory, BadShardNamesTheFile) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "config.json", R"({"model_type":"llama"})");
    accel::test::write_file(dir / "model.safetensors",
                            with_prefix(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 15));
    try {
        (void)accel::model::inspect_model(dir.path());
        FAIL();
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
    }
    accel::test::write_file(dir / "model.safetensors.index.json", R"({"weight_map":{"a":"../../etc/passwd"}})");
    EXPECT_THROW((void)accel::model::inspect_model(dir.path()), accel::Error);
}

TEST(HfDirectory, MissingConfig) {
    accel::test::TempDir dir;
    try {
        (void)accel::model::inspect_model(dir.path());
        FAIL();
    } catch (const accel::Error& e) {
        EXPECT_NE(std::string(e.what()).find("no config.json"), std::string::npos);
    }
}

}  // namespace
