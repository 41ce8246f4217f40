// model::convert_hf on the committed Hugging Face fixtures (tests/fixtures/hf): names, shapes, types and metadata
// as llama.cpp expects them, the bytes against the source tensors read independently, and every refusal leaving
// nothing behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/model/gguf_file.h"
#include "accel/model/hf_convert.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::Error;
using accel::ErrorKind;
using accel::model::ConvertType;
using accel::model::convert_hf;
using accel::test::hf_fixture;
using accel::test::TempDir;

const accel::model::GgufTensor& tensor(const accel::model::GgufFile& g, const std::string& name) {
    for (const auto& t : g.tensors)
        if (t.name == name) return t;
    throw std::runtime_error(name + " not in " + g.source);
}

std::vector<uint8_t> tensor_bytes(const accel::model::GgufFile& g, const accel::model::GgufTensor& t) {
    std::ifstream in(g.source, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(g.data_offset + t.offset));
    std::vector<uint8_t> b(t.n_bytes);
    in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return b;
}

std::vector<float> tensor_f32(const accel::model::GgufFile& g, const std::string& name) {
    const auto& t = tensor(g, name);
    EXPECT_EQ(t.ggml_type, 0u) << name;
    const auto b = tensor_bytes(g, t);
    std::vector<float> out(t.n_elements);
    std::memcpy(out.data(), b.data(), b.size());
    return out;
}

// A copy of a fixture that a test may break.
fs::path copy_fixture(const TempDir& dir, const std::string& cls) {
    const fs::path to = dir / cls;
    fs::copy(hf_fixture(cls), to, fs::copy_options::recursive);
    return to;
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(accel::test::read_file(dir / "config.json"));
    edit(j);
    accel::test::write_file(dir / "config.json", j.dump());
}

// Conversion of `dir` must fail with invalid_input whose message contains `what`, and leave `out` as it was.
void expect_refused(const fs::path& dir, const std::string& what) {
    const fs::path out = dir.parent_path() / "out.gguf";
    accel::test::write_file(out, "previous");
    try {
        convert_hf(dir, out);
        ADD_FAILURE() << "converted " << dir << " without complaint (expected: " << what << ")";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input) << e.what();
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_EQ(accel::test::read_file(out), "previous");
    for (const auto& f : fs::directory_iterator(dir.parent_path()))
        EXPECT_FALSE(accel::is_partial_file_name(f.path().filename().string())) << f.path();
}

TEST(Convert, LlamaF32KeepsTheWeightsAndUndoesTheRotaryPermutation) {
    TempDir tmp;
    const auto r = convert_hf(hf_fixture("llama"), tmp / "llama.gguf", {.type = ConvertType::f32});
    EXPECT_EQ(r.arch, "llama");
    EXPECT_EQ(r.tensors.size(), 3u + 2u * 9u);
    const auto g = accel::model::read_gguf(tmp / "llama.gguf");
    EXPECT_EQ(g.get_string("general.architecture"), "llama");
    EXPECT_EQ(g.get_uint("general.file_type"), 0u);
    EXPECT_EQ(g.get_uint("llama.block_count"), 2u);
    EXPECT_EQ(g.get_uint("llama.embedding_length"), 64u);
    EXPECT_EQ(g.get_uint("llama.feed_forward_length"), 128u);
    EXPECT_EQ(g.get_uint("llama.attention.head_count"), 4u);
    EXPECT_EQ(g.get_uint("llama.attention.head_count_kv"), 2u);
    EXPECT_EQ(g.get_uint("llama.rope.dimension_count"), 16u);
    EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(g.find("tokenizer.ggml.tokens")->array_count, 2048u);
    EXPECT_EQ(g.find("tokenizer.ggml.tokens")->array_preview[1].s, "<s>");
    EXPECT_EQ(g.get_uint("tokenizer.ggml.bos_token_id"), 1u);
    EXPECT_EQ(g.get_uint("tokenizer.ggml.eos_token_id"), 2u);
    ASSERT_TRUE(g.get_string("tokenizer.chat_template"));
    EXPECT_NE(g.get_string("tokenizer.chat_template")->find("[INST]"), std::string::npos);

    const fs::path st = hf_fixture("llama") / "model.safetensors";
    EXPECT_EQ(tensor(g, "token_embd.weight").shape, (std::vector<uint64_t>{64, 2048}));
    EXPECT_EQ(tensor_f32(g, "token_embd.weight"), accel::test::read_st_tensor(st, "model.embed_tokens.weight"));
    EXPECT_EQ(tensor_f32(g, "blk.1.ffn_down.weight"), accel::test::read_st_tensor(st, "model.layers.1.mlp.down_proj.weight"));
    EXPECT_EQ(tensor_f32(g, "output_norm.weight"), accel::test::read_st_tensor(st, "model.norm.weight"));
    // transformers rotates halves (dims i and i + d/2 pair up); llama.cpp rotates neighbours (2i, 2i + 1):
    // source row i < d/2 of a head goes to row 2i, row d/2 + i to row 2i + 1.
    for (const auto& [gguf_name, hf_name, heads] :
         {std::tuple{"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", 4},
          std::tuple{"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight", 2}}) {
        const auto got = tensor_f32(g, gguf_name);
        const auto src = accel::test::read_st_tensor(st, hf_name);
        const size_t d = 16, row = 64;
        ASSERT_EQ(got.size(), heads * d * row);
        for (size_t h = 0; h < static_cast<size_t>(heads); ++h)
            for (size_t i = 0; i < d; ++i) {
                const size_t to = h * d + (i < d / 2 ? 2 * i : 2 * (i - d / 2) + 1);
                ASSERT_TRUE(std::equal(src.begin() + static_cast<long>((h * d + i) * row),
                                       src.begin() + static_cast<long>((h * d + i + 1) * row),
                                       got.begin() + static_cast<long>(to * row)))
                    << gguf_name << " head " << h << " row " << i;
            }
    }
    EXPECT_EQ(tensor_f32(g, "blk.0.attn_v.weight"), accel::test::read_st_tensor(st, "model.layers.0.self_attn.v_proj.weight"));
}

TEST(Convert, Qwen2ShardedBf16TiedWithBpeTokenizer) {
    TempDir tmp;
    const auto r = convert_hf(hf_fixture("qwen2"), tmp / "qwen2.gguf", {.type = ConvertType::f32});
    EXPECT_EQ(r.n_shards, 2u);
    EXPECT_EQ(r.arch, "qwen2");
    const auto g = accel::model::read_gguf(tmp / "qwen2.gguf");
    EXPECT_EQ(g.get_string("general.architecture"), "qwen2");
    EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(g.get_string("tokenizer.ggml.pre"), "qwen2");
    EXPECT_EQ(g.find("tokenizer.ggml.tokens")->array_count, 2064u);  // config.json's vocab_size, padded
    EXPECT_GT(g.find("tokenizer.ggml.merges")->array_count, 1000u);
    EXPECT_EQ(g.get_uint("tokenizer.ggml.eos_token_id"), 2050u);      // <|im_end|>, from tokenizer_config.json
    EXPECT_EQ(g.get_uint("tokenizer.ggml.padding_token_id"), 2048u);  // <|endoftext|>
    EXPECT_EQ(g.get_uint("tokenizer.ggml.bos_token_id"), 2048u);      // config.json's bos_token_id
    EXPECT_NE(g.get_string("tokenizer.chat_template").value_or("").find("<|im_start|>"), std::string::npos);
    for (const auto& t : g.tensors) EXPECT_NE(t.name, "output.weight");  // tied: llama.cpp reuses token_embd
    const auto index = nlohmann::json::parse(accel::test::read_file(hf_fixture("qwen2") / "model.safetensors.index.json"));
    for (const auto& [gguf_name, hf_name] : {std::pair{"token_embd.weight", "model.embed_tokens.weight"},
                                             std::pair{"blk.1.attn_k.bias", "model.layers.1.self_attn.k_proj.bias"},
                                             std::pair{"blk.1.attn_q.weight", "model.layers.1.self_attn.q_proj.weight"}}) {
        const fs::path shard = hf_fixture("qwen2") / index["weight_map"][hf_name].get<std::string>();
        EXPECT_EQ(tensor_f32(g, gguf_name), accel::test::read_st_tensor(shard, hf_name)) << gguf_name;  // no permutation
    }
}

TEST(Convert, TypesF16AndQ8_0) {
    TempDir tmp;
    convert_hf(hf_fixture("llama"), tmp / "f16.gguf", {.type = ConvertType::f16});
    convert_hf(hf_fixture("llama"), tmp / "q8.gguf", {.type = ConvertType::q8_0});
    const auto f16 = accel::model::read_gguf(tmp / "f16.gguf");
    const auto q8 = accel::model::read_gguf(tmp / "q8.gguf");
    EXPECT_EQ(f16.get_uint("general.file_type"), 1u);
    EXPECT_EQ(q8.get_uint("general.file_type"), 7u);
    EXPECT_EQ(tensor(f16, "output_norm.weight").ggml_type, 0u);  // 1-D tensors stay f32
    EXPECT_EQ(tensor(q8, "output_norm.weight").ggml_type, 0u);
    EXPECT_EQ(tensor(f16, "blk.0.ffn_up.weight").ggml_type, 1u);
    EXPECT_EQ(tensor(q8, "blk.0.ffn_up.weight").ggml_type, 8u);
    // f16 source to f16: the same bits
    const auto src = accel::test::read_st_tensor(hf_fixture("llama") / "model.safetensors", "model.layers.0.mlp.up_proj.weight");
    const auto h = tensor_bytes(f16, tensor(f16, "blk.0.ffn_up.weight"));
    for (size_t i = 0; i < src.size(); ++i) {
        uint16_t bits;
        std::memcpy(&bits, h.data() + 2 * i, 2);
        ASSERT_EQ(accel::test::half_value(bits), src[i]) << i;
    }
    // q8_0: blocks of 32 = f16 scale + 32 int8; every value within half a step of the source, plus what storing
    // the scale in f16 (relative error 2^-11) adds at |q| <= 127
    const auto q = tensor_bytes(q8, tensor(q8, "blk.0.ffn_up.weight"));
    ASSERT_EQ(q.size(), src.size() / 32 * 34);
    for (size_t b = 0; b < src.size() / 32; ++b) {
        uint16_t dbits;
        std::memcpy(&dbits, q.data() + 34 * b, 2);
        const float d = accel::test::half_value(dbits);
        float amax = 0;
        for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(src[32 * b + j]));
        ASSERT_NEAR(d, amax / 127, amax / 127 * 1e-3);
        for (size_t j = 0; j < 32; ++j)
            ASSERT_LE(std::fabs(static_cast<int8_t>(q[34 * b + 2 + j]) * d - src[32 * b + j]), d * (0.5f + 127.0f / 2048.0f) + 1e-6f);
    }
}

TEST(Convert, RefusesUnsupportedArchitectureListingTheSupportedOnes) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "llama");
    edit_config(dir, [](auto& j) { j["architectures"] = {"GPTNeoXForCausalLM"}; });
    expect_refused(dir, "GPTNeoXForCausalLM is not one accel converts (it converts LlamaForCausalLM, Qwen2ForCausalLM, "
                        "BertModel, BertForMaskedLM)");
}

TEST(Convert, RefusesTensorsThatDisagreeWithTheConfig) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "llama");
    edit_config(dir, [](auto& j) { j["num_hidden_layers"] = 3; });
    expect_refused(dir, "tensor model.layers.2.input_layernorm.weight is missing");
    edit_config(dir, [](auto& j) { j["num_hidden_layers"] = 1; });
    expect_refused(dir, "tensor model.layers.1.");
    edit_config(dir, [](auto& j) {
        j["num_hidden_layers"] = 2;
        j["intermediate_size"] = 96;
    });
    expect_refused(dir, "has shape [128, 64], config.json implies [96, 64]");
    edit_config(dir, [](auto& j) {
        j["intermediate_size"] = 128;
        j["tie_word_embeddings"] = true;
        j["vocab_size"] = 4096;
    });
    expect_refused(dir, "model.embed_tokens.weight has shape [2048, 64], config.json implies [4096, 64]");
}

TEST(Convert, RefusesATruncatedShardAndALyingIndex) {
    TempDir tmp;
    auto dir = copy_fixture(tmp, "qwen2");
    const fs::path shard = dir / "model-00002-of-00002.safetensors";
    fs::resize_file(shard, fs::file_size(shard) - 10);
    expect_refused(dir, "model-00002-of-00002.safetensors");

    TempDir tmp2;
    dir = copy_fixture(tmp2, "qwen2");
    auto index = nlohmann::json::parse(accel::test::read_file(dir / "model.safetensors.index.json"));
    auto& map = index["weight_map"];
    const std::string moved = map.begin().key();
    map[moved] = map[moved] == "model-00001-of-00002.safetensors" ? "model-00002-of-00002.safetensors"
                                                                   : "model-00001-of-00002.safetensors";
    accel::test::write_file(dir / "model.safetensors.index.json", index.dump());
    expect_refused(dir, moved);
}

TEST(Convert, RefusesAFolderWithoutTokenizer) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "llama");
    fs::remove(dir / "tokenizer.model");
    fs::remove(dir / "tokenizer.json");
    expect_refused(dir, "no tokenizer accel can convert");
}

TEST(Convert, RefusesJsonValuesOfTheWrongType) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "llama");
    edit_config(dir, [](auto& j) { j["attention_bias"] = "yes"; });
    expect_refused(dir, "malformed JSON value");
    edit_config(dir, [](auto& j) {
        j.erase("attention_bias");
        j["hidden_size"] = -64;
    });
    expect_refused(dir, "'hidden_size' is not a positive integer");
    edit_config(dir, [](auto& j) { j["hidden_size"] = 64; });
    auto tc = nlohmann::json::parse(accel::test::read_file(dir / "tokenizer_config.json"));
    tc["added_tokens_decoder"] = {{"zero", {{"content", "<unk>"}}}};
    accel::test::write_file(dir / "tokenizer_config.json", tc.dump());
    expect_refused(dir, "malformed tokenizer_config.json");
}

TEST(Convert, ParsesTypes) {
    EXPECT_EQ(accel::model::parse_convert_type("bf16"), ConvertType::bf16);
    EXPECT_THROW(accel::model::parse_convert_type("q4_0"), Error);
}

}  // namespace
