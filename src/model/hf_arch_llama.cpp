// LlamaForCausalLM and Qwen2ForCausalLM -> GGUF "llama" and "qwen2": one decoder layout. Names and metadata follow
// the pinned llama.cpp's convert_hf_to_gguf.py (conversion/llama.py, conversion/qwen.py, conversion/base.py).
#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"

namespace accel::model::detail {
namespace {

using nlohmann::json;

struct Hparams {
    std::string arch;
    uint32_t n_vocab = 0, n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ctx = 0;
    float rope_theta = 10000.0f, rms_eps = 1e-6f;
    bool tied = false, qkv_bias = false, permute_qk = false, explicit_head_dim = false;
};

void read_rope(const json& c, const std::string& source, Hparams& h) {
    // transformers < 5 has rope_theta and rope_scaling at the top; 5 moves them into rope_parameters
    const json rope = c.contains("rope_parameters") && c["rope_parameters"].is_object() ? c["rope_parameters"] : c;
    if (const auto theta = get_f32(rope, "rope_theta")) h.rope_theta = *theta;
    const json scaling = c.contains("rope_scaling") ? c["rope_scaling"] : rope;
    if (scaling.is_object()) {
        const std::string type = scaling.value("rope_type", scaling.value("type", "default"));
        if (type != "default")
            throw Error(ErrorKind::invalid_input, fmt::format("{}: rope scaling '{}' is not converted yet", source, type));
    }
}

Hparams read_hparams(const json& c, const std::string& hf_arch, const std::string& source) {
    Hparams h;
    if (hf_arch == "LlamaForCausalLM") {
        h.arch = "llama";
        h.permute_qk = true;  // HF stores q/k for rotate_half; llama.cpp's llama uses the interleaved rope
        h.qkv_bias = c.value("attention_bias", false);
    } else {
        h.arch = "qwen2";
        h.qkv_bias = true;
    }
    h.n_vocab = get_u32(c, "vocab_size", source);
    h.n_embd = get_u32(c, "hidden_size", source);
    h.n_ff = get_u32(c, "intermediate_size", source);
    h.n_layer = get_u32(c, "num_hidden_layers", source);
    h.n_head = get_u32(c, "num_attention_heads", source);
    h.n_head_kv = get_u32(c, "num_key_value_heads", source, h.n_head);
    h.n_ctx = get_u32(c, "max_position_embeddings", source, 2048);
    h.explicit_head_dim = c.contains("head_dim");
    if (h.n_embd % h.n_head != 0 && !h.explicit_head_dim)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: hidden_size {} is not a multiple of num_attention_heads {}",
                                                          source, h.n_embd, h.n_head));
    h.head_dim = get_u32(c, "head_dim", source, h.n_embd / h.n_head);
    if (h.n_head % h.n_head_kv != 0 || (h.permute_qk && h.head_dim % 2 != 0))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: num_attention_heads {} is not a multiple of "
                                                          "num_key_value_heads {} (or head_dim is odd)",
                                                          source, h.n_head, h.n_head_kv));
    if (c.contains("tie_word_embeddings") && c["tie_word_embeddings"].is_boolean()) h.tied = c["tie_word_embeddings"].get<bool>();
    read_rope(c, source, h);
    if (const auto eps = get_f32(c, "rms_norm_eps")) h.rms_eps = *eps;
    return h;
}

class LlamaArchitecture final : public HfArchitecture {
public:
    explicit LlamaArchitecture(const HfInput& in)
        : h_(read_hparams(in.config, in.hf_arch, in.config_source)), dir_(in.dir), config_text_(in.config_text),
          has_lm_head_(in.source_names.contains("lm_head.weight")) {}

    const std::string& arch() const override { return h_.arch; }
    uint32_t n_vocab() const override { return h_.n_vocab; }
    bool dropped(const std::string& source) const override { return source.ends_with("rotary_emb.inv_freq"); }
    HfVocab read_vocab() const override { return read_hf_vocab(dir_, h_.n_vocab, config_text_); }

    std::vector<TensorPlan> plan() const override {
        const Hparams& h = h_;
        const uint64_t q = uint64_t{h.n_head} * h.head_dim, kv = uint64_t{h.n_head_kv} * h.head_dim;
        std::vector<TensorPlan> p;
        p.push_back({"token_embd.weight", "model.embed_tokens.weight", {h.n_vocab, h.n_embd}});
        p.push_back({"output_norm.weight", "model.norm.weight", {h.n_embd}});
        if (!h.tied || has_lm_head_) p.push_back({"output.weight", "lm_head.weight", {h.n_vocab, h.n_embd}});
        const uint32_t q_heads = h.permute_qk ? h.n_head : 0, k_heads = h.permute_qk ? h.n_head_kv : 0;
        for (uint32_t i = 0; i < h.n_layer; ++i) {
            const std::string b = fmt::format("blk.{}.", i), l = fmt::format("model.layers.{}.", i);
            p.push_back({b + "attn_norm.weight", l + "input_layernorm.weight", {h.n_embd}});
            p.push_back({b + "attn_q.weight", l + "self_attn.q_proj.weight", {q, h.n_embd}, q_heads});
            p.push_back({b + "attn_k.weight", l + "self_attn.k_proj.weight", {kv, h.n_embd}, k_heads});
            p.push_back({b + "attn_v.weight", l + "self_attn.v_proj.weight", {kv, h.n_embd}});
            if (h.qkv_bias) {
                p.push_back({b + "attn_q.bias", l + "self_attn.q_proj.bias", {q}, q_heads});
                p.push_back({b + "attn_k.bias", l + "self_attn.k_proj.bias", {kv}, k_heads});
                p.push_back({b + "attn_v.bias", l + "self_attn.v_proj.bias", {kv}});
            }
            p.push_back({b + "attn_output.weight", l + "self_attn.o_proj.weight", {h.n_embd, q}});
            p.push_back({b + "ffn_norm.weight", l + "post_attention_layernorm.weight", {h.n_embd}});
            p.push_back({b + "ffn_gate.weight", l + "mlp.gate_proj.weight", {h.n_ff, h.n_embd}});
            p.push_back({b + "ffn_up.weight", l + "mlp.up_proj.weight", {h.n_ff, h.n_embd}});
            p.push_back({b + "ffn_down.weight", l + "mlp.down_proj.weight", {h.n_embd, h.n_ff}});
        }
        return p;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        const std::string& a = h.arch;
        w.add_u32(a + ".block_count", h.n_layer);
        w.add_u32(a + ".context_length", h.n_ctx);
        w.add_u32(a + ".embedding_length", h.n_embd);
        w.add_u32(a + ".feed_forward_length", h.n_ff);
        w.add_u32(a + ".attention.head_count", h.n_head);
        w.add_u32(a + ".attention.head_count_kv", h.n_head_kv);
        w.add_f32(a + ".rope.freq_base", h.rope_theta);
        w.add_f32(a + ".attention.layer_norm_rms_epsilon", h.rms_eps);
        if (h.explicit_head_dim) {
            w.add_u32(a + ".attention.key_length", h.head_dim);
            w.add_u32(a + ".attention.value_length", h.head_dim);
        }
        if (a == "llama") {
            w.add_u32(a + ".vocab_size", h.n_vocab);
            w.add_u32(a + ".rope.dimension_count", h.head_dim);
        }
    }

private:
    Hparams h_;
    std::filesystem::path dir_;
    std::string config_text_;
    bool has_lm_head_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_llama_architecture(const HfInput& in) {
    return std::make_unique<LlamaArchitecture>(in);
}

}  // namespace accel::model::detail
