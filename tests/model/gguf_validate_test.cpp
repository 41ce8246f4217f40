// Validation before load: one generated bad file per rule, each refused with its own message, by the validator
// and by `accel inspect` and `accel generate` (exit 2, one line naming the file).
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/model/gguf_file.h"
#include "accel/model/gguf_validate.h"
#include "test_support.h"

namespace {

// Value payloads, written as the GGUF spec lays them out after the type id.
template <typename T>
std::string pod(T v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}
std::string str(const std::string& s) { return pod<uint64_t>(s.size()) + s; }
std::string arr_header(uint32_t type, uint64_t n) { return pod<uint32_t>(type) + pod<uint64_t>(n); }
std::string arr_str(const std::vector<std::string>& v) {
    std::string out = arr_header(8, v.size());
    for (const auto& s : v) out += str(s);
    return out;
}
std::string arr_f32(const std::vector<float>& v) {
    std::string out = arr_header(6, v.size());
    for (float x : v) out += pod(x);
    return out;
}
std::string arr_i32(const std::vector<int32_t>& v) {
    std::string out = arr_header(5, v.size());
    for (int32_t x : v) out += pod(x);
    return out;
}

constexpr uint32_t t_u32 = 4, t_i32 = 5, t_f32 = 6, t_bool = 7, t_str = 8, t_arr = 9;

struct Kv {
    std::string key;
    uint32_t type;
    std::string payload;
};
struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
};

// A tiny llama-layout model with an SPM tokenizer that passes validation; each case changes one thing.
struct Model {
    std::vector<Kv> kvs;
    std::vector<Tensor> tensors;

    void set(const std::string& key, uint32_t type, const std::string& payload) {
        for (auto& kv : kvs)
            if (kv.key == key) {
                kv = {key, type, payload};
                return;
            }
        kvs.push_back({key, type, payload});
    }
    void set_u32(const std::string& key, uint32_t v) { set(key, t_u32, pod(v)); }
    void erase(const std::string& key) { std::erase_if(kvs, [&](const Kv& kv) { return kv.key == key; }); }
    Tensor& tensor(const std::string& name) {
        for (auto& t : tensors)
            if (t.name == name) return t;
        throw std::runtime_error("no tensor " + name);
    }
    void set_tokens(const std::vector<std::string>& tokens) {
        set("tokenizer.ggml.tokens", t_arr, arr_str(tokens));
        set("tokenizer.ggml.scores", t_arr, arr_f32(std::vector<float>(tokens.size(), 0.0f)));
        set("tokenizer.ggml.token_type", t_arr, arr_i32(std::vector<int32_t>(tokens.size(), 1)));
    }

    std::string bytes() const {
        std::string b = "GGUF" + pod<uint32_t>(3) + pod<uint64_t>(tensors.size()) + pod<uint64_t>(kvs.size());
        for (const auto& kv : kvs) b += str(kv.key) + pod(kv.type) + kv.payload;
        uint64_t offset = 0;
        std::vector<uint64_t> sizes;
        for (const auto& t : tensors) {
            b += str(t.name) + pod<uint32_t>(static_cast<uint32_t>(t.dims.size()));
            uint64_t n = 1;
            for (auto d : t.dims) {
                b += pod(d);
                n *= d;
            }
            b += pod<uint32_t>(0) + pod(offset);  // f32
            sizes.push_back(n * 4);
            offset += (n * 4 + 31) / 32 * 32;
        }
        while (b.size() % 32) b.push_back('\0');
        for (auto n : sizes) b += std::string((n + 31) / 32 * 32, '\0');
        return b;
    }
};

Model base_model() {
    Model m;
    m.set("general.architecture", t_str, str("llama"));
    m.set_u32("llama.context_length", 64);
    m.set_u32("llama.embedding_length", 8);
    m.set_u32("llama.block_count", 2);
    m.set_u32("llama.feed_forward_length", 16);
    m.set_u32("llama.attention.head_count", 2);
    m.set_u32("llama.attention.head_count_kv", 1);
    m.set_u32("llama.rope.dimension_count", 4);
    m.set("llama.attention.layer_norm_rms_epsilon", t_f32, pod(1e-5f));
    m.set("tokenizer.ggml.model", t_str, str("llama"));
    m.set_tokens({"<unk>", "<s>", "</s>", "a", "b", "c", "ab"});
    m.set_u32("tokenizer.ggml.bos_token_id", 1);
    m.set_u32("tokenizer.ggml.eos_token_id", 2);
    m.tensors = {{"token_embd.weight", {8, 7}}, {"output_norm.weight", {8}}, {"output.weight", {8, 7}}};
    for (int l = 0; l < 2; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        m.tensors.push_back({p + "attn_norm.weight", {8}});
        m.tensors.push_back({p + "attn_q.weight", {8, 8}});
        m.tensors.push_back({p + "attn_k.weight", {8, 4}});
        m.tensors.push_back({p + "attn_v.weight", {8, 4}});
        m.tensors.push_back({p + "attn_output.weight", {8, 8}});
        m.tensors.push_back({p + "ffn_norm.weight", {8}});
        m.tensors.push_back({p + "ffn_up.weight", {8, 16}});
        m.tensors.push_back({p + "ffn_gate.weight", {8, 16}});
        m.tensors.push_back({p + "ffn_down.weight", {16, 8}});
    }
    return m;
}

void validate(const std::string& bytes) {
    const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
    accel::model::validate_gguf(accel::model::parse_gguf(span, "bad.gguf"), span);
}

struct Case {
    const char* name;
    std::function<void(Model&)> mutate;
    const char* message;
};

const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        // metadata value types as each key expects
        {"key_type", [](Model& m) { m.set("llama.context_length", t_i32, pod<int32_t>(64)); },
         "metadata key 'llama.context_length' has type i32, llama.cpp expects u32"},
        {"key_type_array", [](Model& m) { m.set("llama.attention.head_count", t_arr, arr_f32({2, 2})); },
         "metadata key 'llama.attention.head_count' has type array of f32"},
        {"per_layer_length", [](Model& m) { m.set("llama.attention.head_count", t_arr, arr_i32({2, 2, 2})); },
         "llama.attention.head_count has 3 values for 2 layers"},
        // tensors
        {"tensor_zero_dim", [](Model& m) { m.tensors.push_back({"extra.weight", {4, 0}}); },
         "tensor 'extra.weight' dimension 1 is 0"},
        // tokenizer
        {"tokenizer_model", [](Model& m) { m.set("tokenizer.ggml.model", t_str, str("sentencepiece")); },
         "tokenizer.ggml.model 'sentencepiece' is not a tokenizer llama.cpp knows"},
        {"tokens_missing", [](Model& m) { m.erase("tokenizer.ggml.tokens"); }, "tokenizer.ggml.tokens is missing"},
        {"tokens_empty", [](Model& m) { m.set("tokenizer.ggml.tokens", t_arr, arr_str({})); },
         "tokenizer.ggml.tokens is empty"},
        {"token_duplicate",
         [](Model& m) { m.set("tokenizer.ggml.tokens", t_arr, arr_str({"<unk>", "<s>", "</s>", "a", "b", "a", "ab"})); },
         "tokenizer.ggml.tokens: token 5 'a' duplicates token 3"},
        {"token_empty_renamed",
         [](Model& m) {
             m.set("tokenizer.ggml.tokens", t_arr, arr_str({"<unk>", "<s>", "</s>", "", "[EMPTY_3]", "c", "ab"}));
         },
         "token 4 '[EMPTY_3]' duplicates token 3"},
        {"scores_count", [](Model& m) { m.set("tokenizer.ggml.scores", t_arr, arr_f32({0, 0, 0, 0, 0, 0})); },
         "tokenizer.ggml.scores has 6 entries for 7 tokens"},
        {"score_nan",
         [](Model& m) {
             m.set("tokenizer.ggml.scores", t_arr, arr_f32({0, 0, 0, std::nanf(""), 0, 0, 0}));
         },
         "score of token 3 is NaN"},
        {"token_type_count", [](Model& m) { m.set("tokenizer.ggml.token_type", t_arr, arr_i32({1, 1, 1})); },
         "tokenizer.ggml.token_type has 3 entries for 7 tokens"},
        {"token_type_value", [](Model& m) { m.set("tokenizer.ggml.token_type", t_arr, arr_i32({1, 3, 3, 1, 9, 1, 1})); },
         "tokenizer.ggml.token_type: token 4 has type 9"},
        {"byte_token_text", [](Model& m) { m.set("tokenizer.ggml.token_type", t_arr, arr_i32({2, 3, 3, 6, 1, 1, 1})); },
         "tokenizer.ggml.tokens: token 3 'a' has type byte but is not <0xXX>"},
        {"merge_no_space",
         [](Model& m) {
             m.set("tokenizer.ggml.model", t_str, str("gpt2"));
             m.set("tokenizer.ggml.merges", t_arr, arr_str({"a b", "ab"}));
         },
         "tokenizer.ggml.merges: merge 1 'ab' is not two tokens separated by a space"},
        {"merge_missing_token",
         [](Model& m) {
             m.set("tokenizer.ggml.model", t_str, str("gpt2"));
             m.set("tokenizer.ggml.merges", t_arr, arr_str({"a b", "ab z"}));
         },
         "merge 1 'ab z' names 'z', which is not a token"},
        {"merges_type", [](Model& m) { m.set("tokenizer.ggml.merges", t_arr, arr_i32({1})); },
         "metadata key 'tokenizer.ggml.merges' has type array of i32"},
        {"special_out_of_range", [](Model& m) { m.set_u32("tokenizer.ggml.eos_token_id", 7); },
         "tokenizer.ggml.eos_token_id is 7, outside the vocabulary of 7 tokens"},
        {"added_bos_none",
         [](Model& m) {
             m.set_u32("tokenizer.ggml.bos_token_id", 0xffffffffu);  // "none" is allowed, but llama adds BOS
             m.set_tokens({"a"});
             m.erase("tokenizer.ggml.eos_token_id");
         },
         "the llama tokenizer adds a BOS token, but tokenizer.ggml.bos_token_id is none (4294967295) and the default "
         "id 1"},
        {"special_type", [](Model& m) { m.set("tokenizer.ggml.bos_token_id", t_i32, pod<int32_t>(1)); },
         "metadata key 'tokenizer.ggml.bos_token_id' has type i32"},
        {"added_bos_missing",
         [](Model& m) {
             m.erase("tokenizer.ggml.bos_token_id");
             m.erase("tokenizer.ggml.eos_token_id");
             m.set_tokens({"a"});
         },
         "the llama tokenizer adds a BOS token, but tokenizer.ggml.bos_token_id is missing"},
        {"bpe_bos_missing",
         [](Model& m) {
             m.set("tokenizer.ggml.model", t_str, str("gpt2"));
             m.set("tokenizer.ggml.pre", t_str, str("llama-bpe"));
             m.set("tokenizer.ggml.merges", t_arr, arr_str({"a b"}));
             m.erase("tokenizer.ggml.bos_token_id");
         },
         "the gpt2 tokenizer adds a BOS token, but tokenizer.ggml.bos_token_id is missing and the default id 11"},
        {"bert_sep_missing",
         [](Model& m) {
             m.set("tokenizer.ggml.model", t_str, str("bert"));
             m.set_u32("tokenizer.ggml.bos_token_id", 1);
         },
         "the bert tokenizer adds a SEP token"},
        // hyperparameters
        {"block_count_zero", [](Model& m) { m.set_u32("llama.block_count", 0); }, "llama.block_count is 0 (1 to 512"},
        {"block_count_big", [](Model& m) { m.set_u32("llama.block_count", 513); }, "llama.block_count is 513"},
        {"nextn", [](Model& m) { m.set_u32("llama.nextn_predict_layers", 3); },
         "llama.nextn_predict_layers 3 exceeds block_count 2"},
        {"embedding_zero", [](Model& m) { m.set_u32("llama.embedding_length", 0); }, "llama.embedding_length is 0"},
        {"context_zero", [](Model& m) { m.set_u32("llama.context_length", 0); }, "llama.context_length is 0"},
        {"experts_max", [](Model& m) { m.set_u32("llama.expert_count", 2000); },
         "llama.expert_count 2000 exceeds llama.cpp's limit of 1024"},
        {"experts_used_over",
         [](Model& m) {
             m.set_u32("llama.expert_count", 2);
             m.set_u32("llama.expert_used_count", 3);
         },
         "llama.expert_used_count 3 exceeds expert_count 2"},
        {"experts_used_zero", [](Model& m) { m.set_u32("llama.expert_count", 4); },
         "llama.expert_count is 4 but expert_used_count is 0"},
        {"expert_groups_without_experts", [](Model& m) { m.set_u32("llama.expert_group_count", 2); },
         "llama.expert_group_count 2 without experts"},
        {"expert_groups_divide",
         [](Model& m) {
             m.set_u32("llama.expert_count", 4);
             m.set_u32("llama.expert_used_count", 2);
             m.set_u32("llama.expert_group_count", 3);
         },
         "llama.expert_count 4 is not a multiple of expert_group_count 3"},
        {"expert_group_used",
         [](Model& m) {
             m.set_u32("llama.expert_count", 4);
             m.set_u32("llama.expert_used_count", 2);
             m.set_u32("llama.expert_group_count", 2);
         },
         "llama.expert_group_used_count 0 must be between 1"},
        {"rope_scaling", [](Model& m) { m.set("llama.rope.scaling.type", t_str, str("cubic")); },
         "llama.rope.scaling.type 'cubic' is not none, linear, yarn or longrope"},
        {"kv_heads_without_heads", [](Model& m) { m.set_u32("llama.attention.head_count", 0); },
         "layer 0: 1 key/value heads but no attention heads"},
        {"gqa_divide", [](Model& m) { m.set_u32("llama.attention.head_count_kv", 3); },
         "layer 0: attention.head_count 2 is not a multiple of attention.head_count_kv 3"},
        {"head_divide",
         [](Model& m) {
             m.set_u32("llama.attention.head_count", 3);
             m.set_u32("llama.attention.head_count_kv", 3);
         },
         "llama.embedding_length 8 is not a multiple of attention.head_count 3"},
        {"rope_dims", [](Model& m) { m.set_u32("llama.rope.dimension_count", 6); },
         "llama.rope.dimension_count 6 exceeds the head size 4"},
        // hyperparameters against tensor shapes
        {"tensor_layer", [](Model& m) { m.tensors.push_back({"blk.5.attn_norm.weight", {8}}); },
         "tensor 'blk.5.attn_norm.weight' is for layer 5, but block_count is 2"},
        {"shape_q", [](Model& m) { m.tensor("blk.1.attn_q.weight").dims = {8, 6}; },
         "tensor 'blk.1.attn_q.weight' has shape [8, 6], but embedding_length and head_count give [8, 8]"},
        {"shape_k", [](Model& m) { m.tensor("blk.0.attn_k.weight").dims = {8, 8}; },
         "tensor 'blk.0.attn_k.weight' has shape [8, 8], but embedding_length and head_count_kv give [8, 4]"},
        {"shape_ffn", [](Model& m) { m.tensor("blk.0.ffn_down.weight").dims = {8, 16}; },
         "tensor 'blk.0.ffn_down.weight' has shape [8, 16], but feed_forward_length and embedding_length"},
        {"shape_norm", [](Model& m) { m.tensor("output_norm.weight").dims = {4, 2}; },
         "tensor 'output_norm.weight' has shape [4, 2], but embedding_length give [8]"},
        {"shape_vocab", [](Model& m) { m.tensor("token_embd.weight").dims = {8, 6}; },
         "tensor 'token_embd.weight' has shape [8, 6], but embedding_length and the token count give [8, 7]"},
    };
    return all;
}

TEST(GgufValidate, BaseModelPasses) { EXPECT_NO_THROW(validate(base_model().bytes())); }

TEST(GgufValidate, ValidVariantsPass) {
    // Per-layer arrays, BPE merges that name tokens, MoE counts that agree, a non-LLM file without a tokenizer.
    Model m = base_model();
    m.set("llama.attention.head_count", t_arr, arr_i32({2, 2}));
    m.set("tokenizer.ggml.model", t_str, str("gpt2"));
    m.set("tokenizer.ggml.merges", t_arr, arr_str({"a b"}));
    m.set_u32("llama.expert_count", 4);
    m.set_u32("llama.expert_used_count", 2);
    EXPECT_NO_THROW(validate(m.bytes()));
    Model clip;
    clip.set("general.architecture", t_str, str("clip"));
    clip.tensors = {{"v.patch_embd.weight", {4, 4}}};
    EXPECT_NO_THROW(validate(clip.bytes()));
}

TEST(GgufValidate, EachRuleRefusedWithItsOwnMessage) {
    std::set<std::string> messages;
    for (const auto& c : cases()) {
        Model m = base_model();
        c.mutate(m);
        try {
            validate(m.bytes());
            ADD_FAILURE() << c.name << ": accepted; expected: " << c.message;
        } catch (const accel::Error& e) {
            const std::string msg = e.what();
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << c.name;
            EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << c.name << ": " << msg;
            EXPECT_NE(msg.find(c.message), std::string::npos) << c.name << ": " << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name << ": one line: " << msg;
            EXPECT_TRUE(messages.insert(msg.substr(10)).second) << c.name << ": message not unique: " << msg;
        }
    }
}

TEST(GgufValidate, RealModelPasses) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    EXPECT_NO_THROW((void)accel::model::read_validated_gguf(model));
}

// The same files through the command line: exit 2 and the rule's message on one line naming the file.
TEST(GgufValidateCli, InspectAndGenerateRefuseEachRule) {
    accel::test::TempDir dir;
    for (const auto& c : cases()) {
        Model m = base_model();
        c.mutate(m);
        const auto path = dir / (std::string("bad_") + c.name + ".gguf");
        accel::test::write_file(path, m.bytes());
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"inspect", path.string()},
              std::vector<std::string>{"generate", "--model", path.string(), "--prompt", "x", "-n", "1"}}) {
            const auto r = accel::test::run_accel(args, {}, 60);
            EXPECT_EQ(r.signal, 0) << c.name << " " << args[0];
            EXPECT_EQ(r.exit_code, 2) << c.name << " " << args[0] << ": " << r.err;
            EXPECT_NE(r.err.find(path.string() + ": "), std::string::npos) << c.name << " " << args[0] << ": " << r.err;
            EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << " " << args[0] << ": " << r.err;
        }
    }
}

}  // namespace
