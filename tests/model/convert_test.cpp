// model::convert_hf on the committed Hugging Face fixtures (tests/fixtures/hf): names, shapes, types and metadata
// as llama.cpp expects them, the bytes against the source tensors read independently, and every refusal leaving
// nothing behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/core.h>
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
                        "BertModel, BertForMaskedLM, BertForSequenceClassification, T5ForConditionalGeneration, "
                        "T5EncoderModel, ViTForImageClassification, CLIPModel, WhisperForConditionalGeneration, "
                        "DetrForObjectDetection, Wav2Vec2ForCTC, LlavaForConditionalGeneration, "
                        "LlavaNextForConditionalGeneration, ClapModel, XCLIPModel)");
}

TEST(Convert, RefusesViTConfigsItCannotRun) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "vit");
    edit_config(dir, [](auto& j) { j["hidden_act"] = "gelu_new"; });
    expect_refused(dir, "hidden_act 'gelu_new': accel's ViT has the exact (erf) GELU only");
    edit_config(dir, [](auto& j) {
        j["hidden_act"] = "gelu";
        j["id2label"] = {{"0", "a"}, {"2", "c"}};
    });
    expect_refused(dir, "id2label is not one string for each id 0 to 1");
}

// DetrForObjectDetection with transformers' ResNet backbone (the detr fixture: 4 basic stages of one layer each,
// shortcuts where the channels or the stride change): accel's own keys, every tensor, batch norms kept as stored.
TEST(Convert, DetrKeepsTheBackboneAndItsFrozenBatchNorms) {
    TempDir tmp;
    const auto r = convert_hf(hf_fixture("detr"), tmp / "detr.gguf", {.type = ConvertType::f16});
    EXPECT_EQ(r.arch, "detr");
    const auto g = accel::model::read_gguf(tmp / "detr.gguf");
    EXPECT_EQ(g.get_string("general.architecture"), "detr");
    EXPECT_EQ(g.get_uint("detr.embedding_length"), 64u);
    EXPECT_EQ(g.get_uint("detr.query_count"), 8u);
    EXPECT_EQ(g.get_uint("detr.backbone.stage_count"), 4u);
    EXPECT_EQ(g.get_uint("detr.backbone.stage.0.stride"), 1u);  // downsample_in_first_stage false
    EXPECT_EQ(g.get_uint("detr.backbone.stage.3.channels"), 32u);
    EXPECT_EQ(g.get_string("detr.backbone.layer_type"), "basic");
    EXPECT_NE(g.get_string("detr.preprocessor_config").value_or("").find("DetrImageProcessor"), std::string::npos);
    // the checkpoint's 166 tensors, all kept: stem 5, stages 4 x 15 (two conv+bn, a shortcut conv+bn: stage 3's
    // 32 -> 32 has one too, for its stride), projection 2, queries 1, encoder 2 x 16, decoder 2 x 26 + 2, heads 8
    EXPECT_EQ(g.tensors.size(), 5u + 4u * 15u + 2u + 1u + 2u * 16u + 2u * 26u + 2u + 8u);
    EXPECT_EQ(tensor(g, "backbone.stem.weight").ggml_type, 1u);   // f16
    EXPECT_EQ(tensor(g, "backbone.stem.bn.var").ggml_type, 0u);   // 1-D: f32
    EXPECT_EQ(tensor(g, "query_embd.weight").ggml_type, 0u);      // kept f32
    const auto var = tensor_f32(g, "backbone.0.0.conv.1.bn.var");
    const auto src = accel::test::read_st_tensor(hf_fixture("detr") / "model.safetensors",
        "model.backbone.conv_encoder.model.encoder.stages.0.layers.0.layer.1.normalization.running_var");
    EXPECT_EQ(var, src);
}

TEST(Convert, RefusesDetrConfigsItCannotRun) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "detr");
    edit_config(dir, [](auto& j) { j["use_timm_backbone"] = true; });
    expect_refused(dir, "use_timm_backbone is true and backbone_config is set");
    edit_config(dir, [](auto& j) {
        j["use_timm_backbone"] = false;
        j["position_embedding_type"] = "learned";
    });
    expect_refused(dir, "position_embedding_type is not sine");
    edit_config(dir, [](auto& j) {
        j["position_embedding_type"] = "sine";
        j["backbone_config"]["out_features"] = {"stage3"};
    });
    expect_refused(dir, "out_features does not end with stage4");
    edit_config(dir, [](auto& j) {
        j["backbone_config"]["out_features"] = {"stage4"};
        j["backbone_config"]["hidden_sizes"] = {8, 16, 32, 64};
    });
    expect_refused(dir, "encoder.stages.3.layers.0.shortcut.convolution.weight has shape [32, 32, 1, 1], config.json "
                        "implies [64, 32, 1, 1]");
}

// use_timm_backbone (the published facebook/detr-resnet-50 and -101): timm's names onto the same keys. The detr_timm
// fixture: timm's resnet50 with backbone_kwargs layers 1/2/1/1, channels 2/4/8/8 (bottleneck outputs 8-32), stem 64.
TEST(Convert, DetrTimmBackboneMapsTimmNames) {
    TempDir tmp;
    const auto dir = hf_fixture("detr_timm");
    convert_hf(dir, tmp / "detr.gguf", {.type = ConvertType::f32});
    const auto g = accel::model::read_gguf(tmp / "detr.gguf");
    EXPECT_EQ(g.get_string("detr.backbone.layer_type"), "bottleneck");
    EXPECT_EQ(g.get_uint("detr.backbone.stride_in_first_conv"), 0u);  // timm strides the 3x3
    EXPECT_EQ(g.get_uint("detr.backbone.embedding_size"), 64u);
    EXPECT_EQ(g.get_uint("detr.backbone.stage.0.stride"), 1u);
    EXPECT_EQ(g.get_uint("detr.backbone.stage.1.block_count"), 2u);
    EXPECT_EQ(g.get_uint("detr.backbone.stage.1.stride"), 2u);
    EXPECT_EQ(g.get_uint("detr.backbone.stage.3.channels"), 32u);
    // stem 5, blocks 5 x 15 (three conv+bn) + 4 shortcuts x 5 (layer2.1 has none), projection 2, queries 1,
    // encoder 2 x 16, decoder 2 x 26 + 2, heads 8
    EXPECT_EQ(g.tensors.size(), 5u + 5u * 15u + 4u * 5u + 2u + 1u + 2u * 16u + 2u * 26u + 2u + 8u);
    const auto st = dir / "model.safetensors";
    const std::string b = "model.backbone.conv_encoder.model.";
    EXPECT_EQ(tensor_f32(g, "backbone.stem.weight"), accel::test::read_st_tensor(st, b + "conv1.weight"));
    EXPECT_EQ(tensor_f32(g, "backbone.stem.bn.mean"), accel::test::read_st_tensor(st, b + "bn1.running_mean"));
    auto source = [&](const std::string& name) { return accel::test::read_st_tensor(st, b + name); };
    EXPECT_EQ(tensor_f32(g, "backbone.1.1.conv.2.bn.var"), source("layer2.1.bn3.running_var"));
    EXPECT_EQ(tensor_f32(g, "backbone.0.0.shortcut.weight"), source("layer1.0.downsample.0.weight"));
    EXPECT_EQ(tensor_f32(g, "backbone.3.0.shortcut.bn.weight"), source("layer4.0.downsample.1.weight"));
}

// Each config field that changes the network either converts or is refused with a line naming it.
TEST(Convert, RefusesDetrTimmConfigsItCannotRun) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "detr_timm");
    edit_config(dir, [](auto& j) { j["backbone"] = "resnet50d"; });
    expect_refused(dir, "backbone 'resnet50d': accel converts timm's resnet18, resnet26, resnet34, resnet50, resnet101 "
                        "and resnet152");
    edit_config(dir, [](auto& j) {
        j["backbone"] = "resnet50.a1_in1k";  // a weights tag: the same network
        j["auxiliary_loss"] = true;          // training only: the outputs are the same
    });
    convert_hf(dir, tmp / "tagged.gguf", {.type = ConvertType::f32});
    edit_config(dir, [](auto& j) { j["dilation"] = true; });
    expect_refused(dir, "dilation is true (DETR-DC5)");
    edit_config(dir, [](auto& j) {
        j["dilation"] = false;
        j["backbone_kwargs"]["output_stride"] = 16;
    });
    expect_refused(dir, "output_stride is not 32");
    edit_config(dir, [](auto& j) {
        j["backbone_kwargs"].erase("output_stride");
        j["backbone_kwargs"]["out_indices"] = {1, 2, 3};
    });
    expect_refused(dir, "out_indices does not end with 4");
    edit_config(dir, [](auto& j) {
        j["backbone_kwargs"]["out_indices"] = {1, 2, 3, 4};
        j["backbone_kwargs"]["stem_type"] = "deep";
    });
    expect_refused(dir, "'stem_type' is a timm ResNet argument accel's DETR does not handle");
    edit_config(dir, [](auto& j) {
        j["backbone_kwargs"].erase("stem_type");
        j["backbone_kwargs"]["layers"] = {1, 1, 1};
    });
    expect_refused(dir, "backbone_kwargs.layers has 3 values, not 4");
    edit_config(dir, [](auto& j) { j["backbone_kwargs"]["layers"] = {1, 1, 1, 1}; });
    expect_refused(dir, "tensor model.backbone.conv_encoder.model.layer2.1.bn1.bias does not belong");
    edit_config(dir, [](auto& j) {
        j["backbone_kwargs"]["layers"] = {1, 2, 1, 1};
        j["num_queries"] = 9;
    });
    expect_refused(dir, "model.query_position_embeddings.weight has shape [8, 64], config.json implies [9, 64]");
    edit_config(dir, [](auto& j) {
        j["num_queries"] = 8;
        j["architectures"] = {"DetrForSegmentation"};  // the masks head (panoptic checkpoints)
    });
    expect_refused(dir, "DetrForSegmentation is not one accel converts");
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

// ---- BERT

// A GGUF string array in full (GgufValue keeps a preview of 16 elements only).
std::vector<std::string> string_array(const accel::model::GgufFile& g, const std::string& key) {
    const auto* v = g.find(key);
    if (v == nullptr) throw std::runtime_error(key + " not in " + g.source);
    const std::string bytes = accel::test::read_file(g.source);
    std::vector<std::string> out;
    size_t at = v->array_data_pos;
    for (uint64_t i = 0; i < v->array_count; ++i) {
        uint64_t n = 0;
        std::memcpy(&n, bytes.data() + at, 8);
        out.push_back(bytes.substr(at + 8, n));
        at += 8 + n;
    }
    return out;
}

bool flag(const accel::model::GgufFile& g, const std::string& key) {
    const auto* v = g.find(key);
    if (v == nullptr || v->type != accel::model::GgufType::boolean) throw std::runtime_error(key + ": no boolean");
    return v->u != 0;
}

TEST(Convert, BertModelF32AsLlamaCppsConverterWritesIt) {
    TempDir tmp;
    const auto r = convert_hf(hf_fixture("bert"), tmp / "bert.gguf", {.type = ConvertType::f32});
    EXPECT_EQ(r.arch, "bert");
    EXPECT_EQ(r.tokenizer, "bert");
    EXPECT_EQ(r.tensors.size(), 5u + 2u * 16u);  // embeddings (3 + norm), per layer 6 linear and 2 norms with biases
    const auto g = accel::model::read_gguf(tmp / "bert.gguf");
    EXPECT_EQ(g.get_string("general.architecture"), "bert");
    EXPECT_EQ(g.get_uint("bert.block_count"), 2u);
    EXPECT_EQ(g.get_uint("bert.context_length"), 128u);
    EXPECT_EQ(g.get_uint("bert.embedding_length"), 64u);
    EXPECT_EQ(g.get_uint("bert.feed_forward_length"), 128u);
    EXPECT_EQ(g.get_uint("bert.attention.head_count"), 4u);
    EXPECT_EQ(g.find("bert.attention.head_count_kv"), nullptr);
    EXPECT_FLOAT_EQ(static_cast<float>(g.find("bert.attention.layer_norm_epsilon")->f), 1e-12f);
    EXPECT_FALSE(flag(g, "bert.attention.causal"));
    EXPECT_EQ(g.find("bert.pooling_type"), nullptr);  // no sentence-transformers modules.json
    EXPECT_EQ(g.get_uint("tokenizer.ggml.token_type_count"), 2u);
    EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "bert");
    const auto* tokens = g.find("tokenizer.ggml.tokens");
    EXPECT_EQ(tokens->array_count, 3076u);
    EXPECT_EQ(tokens->array_preview[0].s, "[PAD]");      // control: as it is
    EXPECT_EQ(tokens->array_preview[1].s, "[unused0]");  // "##[unused0]": a continuation loses its "##"
    EXPECT_EQ(g.find("tokenizer.ggml.token_type")->array_preview[0].i, 3);
    EXPECT_EQ(g.find("tokenizer.ggml.token_type")->array_preview[1].i, 1);
    EXPECT_EQ(g.find("tokenizer.ggml.cls_token_id"), nullptr);  // as convert_hf_to_gguf.py: [CLS] is the BOS
    for (const auto& [key, id] : {std::pair{"seperator", 102u}, std::pair{"padding", 0u},
                                  std::pair{"mask", 103u}, std::pair{"unknown", 100u}, std::pair{"bos", 101u},
                                  std::pair{"eos", 102u}})
        EXPECT_EQ(g.get_uint(std::string("tokenizer.ggml.") + key + "_token_id"), id) << key;
    EXPECT_TRUE(flag(g, "tokenizer.ggml.normalizer.lowercase"));  // BertNormalizer lowercase: true
    EXPECT_EQ(g.find("tokenizer.ggml.normalizer.strip_accents"), nullptr);  // null: llama.cpp follows lowercase
    EXPECT_TRUE(flag(g, "tokenizer.ggml.add_bos_token"));  // [CLS] A [SEP]: CLS is BOS, SEP is EOS
    EXPECT_TRUE(flag(g, "tokenizer.ggml.add_eos_token"));
    const auto words = string_array(g, "tokenizer.ggml.tokens");
    EXPECT_EQ(words[1996], "\xe2\x96\x81the");  // "the" (vocab.txt line 1997): a word starts with the phantom space
    EXPECT_EQ(words[2015], "s");                   // "##s": a continuation
    EXPECT_EQ(words[101], "[CLS]");

    const fs::path st = hf_fixture("bert") / "model.safetensors";
    for (const auto& [gguf_name, hf_name] :
         {std::pair{"token_embd.weight", "embeddings.word_embeddings.weight"},
          std::pair{"token_types.weight", "embeddings.token_type_embeddings.weight"},
          std::pair{"position_embd.weight", "embeddings.position_embeddings.weight"},
          std::pair{"token_embd_norm.bias", "embeddings.LayerNorm.bias"},
          std::pair{"blk.1.attn_q.weight", "encoder.layer.1.attention.self.query.weight"},
          std::pair{"blk.0.attn_output_norm.weight", "encoder.layer.0.attention.output.LayerNorm.weight"},
          std::pair{"blk.1.ffn_up.bias", "encoder.layer.1.intermediate.dense.bias"},
          std::pair{"blk.1.ffn_down.weight", "encoder.layer.1.output.dense.weight"},
          std::pair{"blk.1.layer_output_norm.bias", "encoder.layer.1.output.LayerNorm.bias"}})
        EXPECT_EQ(tensor_f32(g, gguf_name), accel::test::read_st_tensor(st, hf_name)) << gguf_name;
    EXPECT_EQ(tensor(g, "blk.0.ffn_down.weight").shape, (std::vector<uint64_t>{128, 64}));
    for (const auto& t : g.tensors) EXPECT_EQ(t.name.find("pooler"), std::string::npos) << t.name;  // dropped
}

TEST(Convert, BertF16KeepsPositionAndTokenTypeEmbeddingsF32) {
    TempDir tmp;
    convert_hf(hf_fixture("bert"), tmp / "bert.gguf", {.type = ConvertType::f16});
    const auto g = accel::model::read_gguf(tmp / "bert.gguf");
    EXPECT_EQ(tensor(g, "token_embd.weight").ggml_type, 1u);
    EXPECT_EQ(tensor(g, "blk.0.attn_q.weight").ggml_type, 1u);
    EXPECT_EQ(tensor(g, "position_embd.weight").ggml_type, 0u);  // as convert_hf_to_gguf.py: always f32
    EXPECT_EQ(tensor(g, "token_types.weight").ggml_type, 0u);
    EXPECT_EQ(tensor(g, "blk.0.attn_q.bias").ggml_type, 0u);
}

TEST(Convert, BertPoolingFromSentenceTransformersModules) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "bert");
    accel::test::write_file(dir / "modules.json",
                            R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},)"
                            R"({"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}])");
    fs::create_directory(dir / "1_Pooling");
    accel::test::write_file(dir / "1_Pooling" / "config.json",
                            R"({"word_embedding_dimension":64,"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true})");
    convert_hf(dir, tmp / "bert.gguf");
    EXPECT_EQ(accel::model::read_gguf(tmp / "bert.gguf").get_uint("bert.pooling_type"), 1u);  // mean
    accel::test::write_file(dir / "1_Pooling" / "config.json", R"({"pooling_mode":"max"})");
    expect_refused(dir, "a pooling llama.cpp does not have");
    accel::test::write_file(dir / "modules.json", R"([{"path":"../../etc","type":"sentence_transformers.models.Pooling"}])");
    expect_refused(dir, "leaves the folder");
    accel::test::write_file(dir / "modules.json", R"({"path":"1_Pooling"})");
    expect_refused(dir, "malformed JSON value");
}

// The fixture's tensors renamed as BertForMaskedLM saves them ("bert." prefix, old LayerNorm gamma/beta names),
// with a masked-LM head, written as a new F32 safetensors file.
void write_masked_lm(const fs::path& dir) {
    const fs::path st = dir / "model.safetensors";
    const std::string file = accel::test::read_file(st);
    uint64_t n_header = 0;
    std::memcpy(&n_header, file.data(), 8);
    const auto header = nlohmann::json::parse(file.substr(8, n_header));
    nlohmann::json out = nlohmann::json::object();
    std::string data;
    auto add = [&](std::string name, const nlohmann::json& shape, const std::vector<float>& v) {
        if (name.ends_with("LayerNorm.weight")) name = name.substr(0, name.size() - 6) + "gamma";
        if (name.ends_with("LayerNorm.bias")) name = name.substr(0, name.size() - 4) + "beta";
        out[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {data.size(), data.size() + 4 * v.size()}}};
        data.append(reinterpret_cast<const char*>(v.data()), 4 * v.size());
    };
    for (const auto& [name, info] : header.items())
        if (name != "__metadata__" && !name.starts_with("pooler."))
            add("bert." + name, info["shape"], accel::test::read_st_tensor(st, name));
    add("cls.predictions.bias", {3076}, std::vector<float>(3076, 0.5f));
    const std::string h = out.dump();
    const uint64_t n = h.size();
    accel::test::write_file(st, std::string(reinterpret_cast<const char*>(&n), 8) + h + data);
}

TEST(Convert, BertForMaskedLMDropsTheHeadAndReadsOldLayerNormNames) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "bert");
    write_masked_lm(dir);
    edit_config(dir, [](auto& j) { j["architectures"] = {"BertForMaskedLM"}; });
    const auto r = convert_hf(dir, tmp / "mlm.gguf", {.type = ConvertType::f32});
    EXPECT_EQ(r.tensors.size(), 37u);
    const auto g = accel::model::read_gguf(tmp / "mlm.gguf");
    const fs::path orig = hf_fixture("bert") / "model.safetensors";
    EXPECT_EQ(tensor_f32(g, "blk.0.layer_output_norm.weight"),
              accel::test::read_st_tensor(orig, "encoder.layer.0.output.LayerNorm.weight"));
    EXPECT_EQ(tensor_f32(g, "token_embd.weight"), accel::test::read_st_tensor(orig, "embeddings.word_embeddings.weight"));
}

TEST(Convert, BertRefusesWhatLlamaCppsBertCannotRun) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "bert");
    edit_config(dir, [](auto& j) { j["hidden_act"] = "relu"; });
    expect_refused(dir, "hidden_act 'relu'");
    edit_config(dir, [](auto& j) {
        j["hidden_act"] = "gelu";
        j["position_embedding_type"] = "relative_key";
    });
    expect_refused(dir, "position_embedding_type 'relative_key'");
    edit_config(dir, [](auto& j) {
        j["position_embedding_type"] = "absolute";
        j["type_vocab_size"] = 3;
    });
    expect_refused(dir, "embeddings.token_type_embeddings.weight has shape [2, 64], config.json implies [3, 64]");
    edit_config(dir, [](auto& j) { j["type_vocab_size"] = 2; });
    fs::remove(dir / "tokenizer.json");
    fs::remove(dir / "vocab.txt");
    expect_refused(dir, "no WordPiece tokenizer");
}

// The classification head: the pooler as cls, the classifier as cls.output, the labels, pooling rank
// (docs/convert.md: the pinned converter drops the pooler).
TEST(Convert, BertForSequenceClassificationKeepsTheHead) {
    TempDir tmp;
    const auto r = convert_hf(hf_fixture("bert_cls"), tmp / "cls.gguf", {.type = ConvertType::f32});
    EXPECT_EQ(r.hf_architecture, "BertForSequenceClassification");
    EXPECT_EQ(r.tensors.size(), 5u + 2u * 16u + 4u);
    const auto g = accel::model::read_gguf(tmp / "cls.gguf");
    EXPECT_EQ(g.get_uint("bert.pooling_type"), 4u);  // LLAMA_POOLING_TYPE_RANK
    EXPECT_EQ(string_array(g, "bert.classifier.output_labels"), (std::vector<std::string>{"negative", "neutral", "positive"}));
    const fs::path st = hf_fixture("bert_cls") / "model.safetensors";
    for (const auto& [gguf_name, hf_name] :
         {std::pair{"cls.weight", "bert.pooler.dense.weight"}, std::pair{"cls.bias", "bert.pooler.dense.bias"},
          std::pair{"cls.output.weight", "classifier.weight"}, std::pair{"cls.output.bias", "classifier.bias"},
          std::pair{"blk.1.attn_q.weight", "bert.encoder.layer.1.attention.self.query.weight"}})
        EXPECT_EQ(tensor_f32(g, gguf_name), accel::test::read_st_tensor(st, hf_name)) << gguf_name;
    EXPECT_EQ(tensor(g, "cls.output.weight").shape, (std::vector<uint64_t>{64, 3}));  // ggml order: n_embd, n_labels

    const auto dir = copy_fixture(tmp, "bert_cls");
    edit_config(dir, [](auto& j) { j["id2label"] = {{"0", "a"}, {"2", "c"}, {"3", "d"}}; });
    expect_refused(dir, "id2label is not the labels 0..2");
    edit_config(dir, [](auto& j) { j.erase("id2label"); });
    expect_refused(dir, "needs id2label");
}

TEST(Convert, BertVocabTxtAloneGivesTheSameVocabulary) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "bert");
    fs::remove(dir / "tokenizer.json");
    convert_hf(hf_fixture("bert"), tmp / "a.gguf");
    convert_hf(dir, tmp / "b.gguf");
    const auto a = accel::model::read_gguf(tmp / "a.gguf"), b = accel::model::read_gguf(tmp / "b.gguf");
    EXPECT_TRUE(string_array(a, "tokenizer.ggml.tokens") == string_array(b, "tokenizer.ggml.tokens"));
    const auto* ta = a.find("tokenizer.ggml.token_type");
    const auto* tb = b.find("tokenizer.ggml.token_type");
    EXPECT_TRUE(accel::test::read_file(a.source).substr(ta->array_data_pos, 4 * ta->array_count) ==
                accel::test::read_file(b.source).substr(tb->array_data_pos, 4 * tb->array_count));
    for (const auto& key : {"tokenizer.ggml.padding_token_id", "tokenizer.ggml.seperator_token_id",
                            "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.bos_token_id"})
        EXPECT_EQ(a.get_uint(key), b.get_uint(key)) << key;
    EXPECT_TRUE(flag(b, "tokenizer.ggml.normalizer.lowercase"));  // tokenizer_config.json's do_lower_case
}

}  // namespace

// The hand-made bad seeds of fuzz/hf_config_fuzzer: each, as a folder's config.json, is refused with a one-line
// invalid_input error that names the file; the good seeds (the fixtures' configs) get as far as the weights, whose
// one tensor (the fuzzer's folder holds the same) fits no architecture.
// ---- T5

TEST(Convert, T5AsLlamaCppsConverterWritesIt) {
    TempDir tmp;
    const auto dir = hf_fixture("t5");
    const auto r = convert_hf(dir, tmp / "t5.gguf", {.type = ConvertType::f32});
    EXPECT_EQ(r.arch, "t5");
    EXPECT_EQ(r.tokenizer, "t5");
    // token_embd, output, 2 final norms; an encoder block 9 (+ rel_b in block 0), a decoder block 14 (+ rel_b in block 0)
    EXPECT_EQ(r.tensors.size(), 4u + 2u * 9u + 1u + 2u * 14u + 1u);
    const auto g = accel::model::read_gguf(tmp / "t5.gguf");
    const auto config = nlohmann::json::parse(accel::test::read_file(dir / "config.json"));
    EXPECT_EQ(g.get_uint("t5.block_count"), 2u);
    EXPECT_EQ(g.get_uint("t5.decoder_block_count"), 2u);
    EXPECT_EQ(g.get_uint("t5.context_length"), 512u);  // no n_positions: the converter's default
    EXPECT_EQ(g.get_uint("t5.attention.key_length"), 16u);
    EXPECT_EQ(g.get_uint("t5.attention.relative_buckets_count"), 32u);
    EXPECT_EQ(g.get_uint("t5.decoder_start_token_id"), config["decoder_start_token_id"].get<uint64_t>());
    EXPECT_FLOAT_EQ(static_cast<float>(g.find("t5.attention.layer_norm_rms_epsilon")->f), 1e-6f);
    const auto tokens = string_array(g, "tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.size(), config["vocab_size"].get<size_t>());
    EXPECT_EQ(tokens[0], "<pad>");
    EXPECT_EQ(tokens[1], "</s>");
    EXPECT_EQ(tokens.back(), fmt::format("[PAD{}]", tokens.size() - 1));  // past the pieces, no added_tokens.json
    EXPECT_EQ(g.get_uint("tokenizer.ggml.eos_token_id"), 1u);
    EXPECT_EQ(g.get_uint("tokenizer.ggml.unknown_token_id"), 2u);
    EXPECT_EQ(g.get_uint("tokenizer.ggml.padding_token_id"), 0u);
    EXPECT_EQ(g.find("tokenizer.ggml.bos_token_id"), nullptr);
    EXPECT_TRUE(flag(g, "tokenizer.ggml.add_eos_token"));  // "$A </s>"
    EXPECT_TRUE(flag(g, "tokenizer.ggml.add_space_prefix"));
    EXPECT_TRUE(flag(g, "tokenizer.ggml.remove_extra_whitespaces"));
    // the charsmap is the one tokenizer.json's Precompiled normalizer carries (base64), byte count for byte count
    const auto tj = nlohmann::json::parse(accel::test::read_file(dir / "tokenizer.json"));
    const std::string b64 = tj["normalizer"]["normalizers"][0]["precompiled_charsmap"];
    const size_t pad = b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0;
    EXPECT_EQ(g.find("tokenizer.ggml.precompiled_charsmap")->array_count, b64.size() / 4 * 3 - pad);
    EXPECT_EQ(g.find("tokenizer.ggml.precompiled_charsmap")->array_type, accel::model::GgufType::u8);

    const fs::path st = dir / "model.safetensors";
    for (const auto& [gguf_name, hf_name] :
         {std::pair{"token_embd.weight", "shared.weight"}, std::pair{"output.weight", "lm_head.weight"},
          std::pair{"enc.blk.0.attn_rel_b.weight", "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"},
          std::pair{"enc.blk.1.ffn_gate.weight", "encoder.block.1.layer.1.DenseReluDense.wi_0.weight"},
          std::pair{"enc.blk.1.ffn_up.weight", "encoder.block.1.layer.1.DenseReluDense.wi_1.weight"},
          std::pair{"dec.blk.1.cross_attn_k.weight", "decoder.block.1.layer.1.EncDecAttention.k.weight"},
          std::pair{"dec.blk.0.ffn_norm.weight", "decoder.block.0.layer.2.layer_norm.weight"},
          std::pair{"dec.output_norm.weight", "decoder.final_layer_norm.weight"}})
        EXPECT_EQ(tensor_f32(g, gguf_name), accel::test::read_st_tensor(st, hf_name)) << gguf_name;
    EXPECT_EQ(tensor(g, "dec.blk.0.attn_rel_b.weight").shape, (std::vector<uint64_t>{4, 32}));  // {n_head, n_buckets}
}

TEST(Convert, T5EncoderModel) {
    TempDir tmp;
    const auto r = convert_hf(hf_fixture("t5_encoder"), tmp / "e.gguf", {.type = ConvertType::f16});
    EXPECT_EQ(r.arch, "t5encoder");
    EXPECT_EQ(r.tensors.size(), 2u + 2u * 9u + 1u);
    const auto g = accel::model::read_gguf(tmp / "e.gguf");
    EXPECT_EQ(g.find("t5encoder.decoder_start_token_id"), nullptr);
    EXPECT_EQ(tensor(g, "enc.blk.0.attn_q.weight").ggml_type, 1u);
    EXPECT_EQ(tensor(g, "enc.output_norm.weight").ggml_type, 0u);
}

// transformers scales a tied T5's decoder output by d_model^-0.5 before the shared embedding; llama.cpp's graph does
// not, so accel writes that scale into output.weight (the pinned converter writes no output.weight).
TEST(Convert, T5TiedFoldsTheOutputScaleIntoOutputWeight) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "t5");
    edit_config(dir, [](auto& j) { j["tie_word_embeddings"] = true; });  // lm_head.weight: dropped
    convert_hf(dir, tmp / "t.gguf", {.type = ConvertType::f32});
    const auto g = accel::model::read_gguf(tmp / "t.gguf");
    auto expected = accel::test::read_st_tensor(dir / "model.safetensors", "shared.weight");
    for (float& v : expected) v *= 0.125f;  // d_model 64
    EXPECT_EQ(tensor_f32(g, "output.weight"), expected);
}

TEST(Convert, T5RefusesWhatLlamaCppsT5CannotRunAndBadCheckpoints) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "t5");
    edit_config(dir, [](auto& j) { j["num_decoder_layers"] = 3; });
    expect_refused(dir, "tensor decoder.block.2.layer.0.SelfAttention.q.weight is missing");
    edit_config(dir, [](auto& j) {
        j["num_decoder_layers"] = 2;
        j["feed_forward_proj"] = "gated-silu";
    });
    expect_refused(dir, "feed_forward_proj 'gated-silu'");
    edit_config(dir, [](auto& j) {
        j["feed_forward_proj"] = "gated-gelu";
        j["relative_attention_max_distance"] = 64;
    });
    expect_refused(dir, "relative_attention_max_distance");
    edit_config(dir, [](auto& j) {
        j["relative_attention_max_distance"] = 128;
        j.erase("decoder_start_token_id");
    });
    expect_refused(dir, "no decoder_start_token_id");
    edit_config(dir, [](auto& j) { j["decoder_start_token_id"] = 100000; });
    expect_refused(dir, "decoder_start_token_id 100000 is past vocab_size");
    edit_config(dir, [](auto& j) { j["decoder_start_token_id"] = 0; });
    fs::remove(dir / "spiece.model");
    expect_refused(dir, "no SentencePiece model");
}

TEST(ConvertConfigCorpus, BadSeedsAreRefusedNamingTheFile) {
    const char* src = std::getenv("ACCEL_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    int n_bad = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(src) / "fuzz/corpus/hf_config")) {
        accel::test::TempDir dir;
        std::filesystem::copy_file(entry.path(), dir / "config.json");
        const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
        const uint64_t n = header.size();
        accel::test::write_file(dir / "model.safetensors",
                                std::string(reinterpret_cast<const char*>(&n), 8) + header + std::string(4, '\0'));
        const std::string name = entry.path().filename().string();
        const bool bad = name.rfind("bad_", 0) == 0;
        n_bad += bad ? 1 : 0;
        try {
            accel::model::convert_hf(dir.path(), dir / "out.gguf");
            ADD_FAILURE() << name << " converted without weights";
        } catch (const accel::Error& e) {
            const std::string what = e.what();
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << name << ": " << what;
            EXPECT_EQ(what.find('\n'), std::string::npos) << what;
            EXPECT_NE(what.find(bad ? "config.json" : "tensor"), std::string::npos) << name << ": " << what;
        }
        EXPECT_FALSE(std::filesystem::exists(dir / "out.gguf"));
    }
    EXPECT_GE(n_bad, 3);
}

// Wav2Vec2ForCTC: accel's own "wav2vec2" keys, the CTC vocabulary, and the positional convolution's weight norm
// folded into a plain kernel: w[o][i][k] = g[k] v[o][i][k] / sqrt(sum over o, i of v[o][i][k]^2) (torch's
// weight_norm with dim=2), computed here from the fixture's g and v.
TEST(Convert, Wav2Vec2FoldsTheWeightNormAndKeepsTheCtcVocabulary) {
    TempDir tmp;
    const auto dir = hf_fixture("wav2vec2");
    const auto r = convert_hf(dir, tmp / "w.gguf", {.type = ConvertType::f32});
    EXPECT_EQ(r.arch, "wav2vec2");
    EXPECT_EQ(r.n_vocab, 32u);
    const auto g = accel::model::read_gguf(tmp / "w.gguf");
    EXPECT_EQ(g.get_uint("wav2vec2.block_count"), 2u);
    EXPECT_EQ(g.get_uint("wav2vec2.pos_conv.groups"), 4u);
    EXPECT_EQ(g.get_uint("wav2vec2.ctc.blank_id"), 0u);
    EXPECT_EQ(g.get_string("wav2vec2.ctc.word_delimiter"), "|");
    EXPECT_EQ(g.get_string("wav2vec2.conv.norm"), "group");
    EXPECT_EQ(g.find("wav2vec2.ctc.tokens")->array_preview.at(4).s, "|");
    EXPECT_EQ(g.find("wav2vec2.ctc.tokens")->array_preview.at(5).s, "E");
    EXPECT_EQ(tensor(g, "conv.1.weight").shape, (std::vector<uint64_t>{3, 32, 32}));
    EXPECT_THROW(tensor(g, "conv.1.norm.weight"), std::runtime_error);  // group norm: layer 0 only
    const auto st = dir / "model.safetensors";
    EXPECT_EQ(tensor_f32(g, "conv.0.weight"), accel::test::read_st_tensor(st, "wav2vec2.feature_extractor.conv_layers.0.conv.weight"));
    const std::string pos = "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.";
    const auto gain = accel::test::read_st_tensor(st, pos + "original0");
    const auto v = accel::test::read_st_tensor(st, pos + "original1");
    ASSERT_EQ(gain.size(), 16u);
    ASSERT_EQ(v.size(), 64u * 16u * 16u);
    const auto w = tensor_f32(g, "pos_conv.weight");
    ASSERT_EQ(w.size(), v.size());
    for (size_t k = 0; k < 16; ++k) {
        double sq = 0;
        for (size_t oi = 0; oi < 64 * 16; ++oi) sq += double(v[oi * 16 + k]) * v[oi * 16 + k];
        for (size_t oi = 0; oi < 64 * 16; ++oi)
            ASSERT_NEAR(w[oi * 16 + k], gain[k] * v[oi * 16 + k] / std::sqrt(sq), 1e-7) << k << " " << oi;
    }
}

TEST(Convert, Wav2Vec2RefusesWhatItsGraphCannotRun) {
    TempDir tmp;
    const auto dir = copy_fixture(tmp, "wav2vec2");
    edit_config(dir, [](auto& j) { j["feat_extract_norm"] = "batch"; });
    expect_refused(dir, "feat_extract_norm 'batch' is neither 'group' nor 'layer'");
    edit_config(dir, [](auto& j) { j["feat_extract_norm"] = "layer"; });  // then every conv layer has a layer norm
    expect_refused(dir, "wav2vec2.feature_extractor.conv_layers.1.layer_norm.weight is missing");
    edit_config(dir, [](auto& j) {
        j["feat_extract_norm"] = "group";
        j["hidden_act"] = "relu";
    });
    expect_refused(dir, "hidden_act 'relu'");
    edit_config(dir, [](auto& j) {
        j["hidden_act"] = "gelu";
        j["add_adapter"] = true;
    });
    expect_refused(dir, "add_adapter");
    edit_config(dir, [](auto& j) {
        j["add_adapter"] = false;
        j["conv_kernel"] = {10, 3};
    });
    expect_refused(dir, "disagree on the layer count");
    edit_config(dir, [](auto& j) { j["conv_kernel"] = {10, 3, 3, 3, 3, 2, 2}; });
    accel::test::write_file(dir / "vocab.json", R"({"<s>": 0, "A": 1})");
    expect_refused(dir, "no pad token '<pad>'");
    fs::remove(dir / "vocab.json");
    expect_refused(dir, "no vocab.json");
}
