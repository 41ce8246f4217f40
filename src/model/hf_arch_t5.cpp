// T5ForConditionalGeneration and T5EncoderModel -> GGUF "t5" and "t5encoder", as the pinned llama.cpp's
// convert_hf_to_gguf.py converts them (conversion/t5.py classes T5Model and T5EncoderModel, gguf-py's
// tensor_mapping.py). Beyond that converter, accel refuses configs that llama.cpp's t5 graph would run as a different
// model (docs/convert.md, T5).
#include <cmath>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"

namespace accel::model::detail {
namespace {

using nlohmann::json;

struct Hparams {
    uint32_t n_vocab = 0, n_embd = 0, n_ff = 0, n_layer = 0, n_layer_dec = 0, n_head = 0, head_dim = 0, n_ctx = 512;
    uint32_t n_rel_buckets = 32, dec_start = 0;
    bool has_dec_layers_key = false, gated = false;
    float norm_eps = 1e-6f;  // T5Config's default layer_norm_epsilon
};

Hparams read_hparams(const HfInput& in, bool encoder_only) {
    const json& c = in.config;
    const std::string& source = in.config_source;
    Hparams h;
    h.n_vocab = get_u32(c, "vocab_size", source);
    h.n_embd = get_u32(c, "d_model", source);
    h.n_ff = get_u32(c, "d_ff", source);
    h.n_layer = get_u32(c, "num_layers", source);
    h.has_dec_layers_key = c.contains("num_decoder_layers") && !c["num_decoder_layers"].is_null();
    h.n_layer_dec = get_u32(c, "num_decoder_layers", source, h.n_layer);
    h.n_head = get_u32(c, "num_heads", source);
    h.head_dim = get_u32(c, "d_kv", source);
    h.n_ctx = get_u32(c, "n_positions", source, 512);  // T5 has no fixed context; the converter's default
    h.n_rel_buckets = get_u32(c, "relative_attention_num_buckets", source, 32);
    if (const auto eps = get_f32(c, "layer_norm_epsilon")) h.norm_eps = *eps;
    if (!encoder_only) {
        if (!c.contains("decoder_start_token_id") || !c["decoder_start_token_id"].is_number_unsigned())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: no decoder_start_token_id", source));
        const auto start = c["decoder_start_token_id"].get<uint64_t>();
        if (start >= h.n_vocab)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: decoder_start_token_id {} is past vocab_size {}",
                                                              source, start, h.n_vocab));
        h.dec_start = static_cast<uint32_t>(start);
    }
    // llama.cpp's relative position buckets hard-code transformers' default maximum distance (llama-graph.cpp)
    if (get_u32(c, "relative_attention_max_distance", source, 128) != 128)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: relative_attention_max_distance other than 128: "
                                                          "llama.cpp's T5 buckets assume 128", source));
    // llama.cpp's t5 graph: a gated FFN is GELU (ggml's tanh form), an ungated one ReLU (T5 v1.0)
    const std::string proj = c.value("feed_forward_proj", "relu");
    h.gated = proj.starts_with("gated-");
    const std::string act = h.gated ? proj.substr(6) : proj;
    if ((h.gated && act != "gelu" && act != "gelu_new") || (!h.gated && act != "relu"))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: feed_forward_proj '{}': llama.cpp's T5 runs 'relu' "
                                                          "and 'gated-gelu' only", source, proj));
    return h;
}

// The shared token embedding: the first of these names that the checkpoint holds (the converter takes the first in
// its sorted tensor order and drops the others).
constexpr const char* embedding_names[] = {"decoder.embed_tokens.weight", "encoder.embed_tokens.weight",
                                           "shared.weight"};

class T5Architecture final : public HfArchitecture {
public:
    explicit T5Architecture(const HfInput& in)
        : encoder_only_(in.hf_arch == "T5EncoderModel"), arch_(encoder_only_ ? "t5encoder" : "t5"),
          h_(read_hparams(in, encoder_only_)), dir_(in.dir), config_text_(in.config_text) {
        embedding_ = "shared.weight";  // reported as missing when the checkpoint has none of them
        for (const char* name : embedding_names)
            if (in.source_names.contains(name)) {
                embedding_ = name;
                break;
            }
        tied_ = !encoder_only_ && in.config.value("tie_word_embeddings", true);  // T5Config's default: tied
    }

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return h_.n_vocab; }
    HfVocab read_vocab() const override { return read_t5_vocab(dir_, h_.n_vocab, config_text_); }

    bool dropped(const std::string& source) const override {
        for (const char* name : embedding_names)
            if (source == name) return true;  // the copies of the shared embedding
        return tied_ && source == "lm_head.weight";  // transformers ties it to the shared embedding
    }

    std::vector<TensorPlan> plan() const override {
        const Hparams& h = h_;
        const uint64_t qkv = uint64_t{h.n_head} * h.head_dim;
        std::vector<TensorPlan> p;
        p.push_back({"token_embd.weight", embedding_, {h.n_vocab, h.n_embd}});
        auto ffn = [&](const std::string& b, const std::string& l) {
            if (h.gated) {
                p.push_back({b + "ffn_gate.weight", l + "DenseReluDense.wi_0.weight", {h.n_ff, h.n_embd}});
                p.push_back({b + "ffn_up.weight", l + "DenseReluDense.wi_1.weight", {h.n_ff, h.n_embd}});
            } else {
                p.push_back({b + "ffn_up.weight", l + "DenseReluDense.wi.weight", {h.n_ff, h.n_embd}});
            }
            p.push_back({b + "ffn_down.weight", l + "DenseReluDense.wo.weight", {h.n_embd, h.n_ff}});
            p.push_back({b + "ffn_norm.weight", l + "layer_norm.weight", {h.n_embd}});
        };
        auto attention = [&](const std::string& b, const std::string& to, const std::string& from, bool rel_b) {
            for (const auto& [t, f] : {std::pair{"q", "q"}, std::pair{"k", "k"}, std::pair{"v", "v"}})
                p.push_back({b + to + "_" + t + ".weight", from + "." + f + ".weight", {qkv, h.n_embd}});
            p.push_back({b + to + "_o.weight", from + ".o.weight", {h.n_embd, qkv}});
            if (rel_b)  // only the first block has the relative position bias; the others reuse it
                p.push_back({b + to + "_rel_b.weight", from + ".relative_attention_bias.weight",
                             {h.n_rel_buckets, h.n_head}});
        };
        for (uint32_t i = 0; i < h.n_layer; ++i) {
            const std::string b = fmt::format("enc.blk.{}.", i), l = fmt::format("encoder.block.{}.layer.", i);
            attention(b, "attn", l + "0.SelfAttention", i == 0);
            p.push_back({b + "attn_norm.weight", l + "0.layer_norm.weight", {h.n_embd}});
            ffn(b, l + "1.");
        }
        p.push_back({"enc.output_norm.weight", "encoder.final_layer_norm.weight", {h.n_embd}});
        if (encoder_only_) return p;
        for (uint32_t i = 0; i < h.n_layer_dec; ++i) {
            const std::string b = fmt::format("dec.blk.{}.", i), l = fmt::format("decoder.block.{}.layer.", i);
            attention(b, "attn", l + "0.SelfAttention", i == 0);
            p.push_back({b + "attn_norm.weight", l + "0.layer_norm.weight", {h.n_embd}});
            attention(b, "cross_attn", l + "1.EncDecAttention", false);
            p.push_back({b + "cross_attn_norm.weight", l + "1.layer_norm.weight", {h.n_embd}});
            ffn(b, l + "2.");
        }
        p.push_back({"dec.output_norm.weight", "decoder.final_layer_norm.weight", {h.n_embd}});
        if (tied_) {
            // transformers scales a tied T5's decoder output by d_model^-0.5 before the shared embedding; llama.cpp's
            // t5 graph does not, so the scale goes into an output matrix of its own (the converter writes none)
            TensorPlan out{"output.weight", embedding_, {h.n_vocab, h.n_embd}};
            out.scale = 1.0f / std::sqrt(static_cast<float>(h.n_embd));
            p.push_back(out);
        } else {
            p.push_back({"output.weight", "lm_head.weight", {h.n_vocab, h.n_embd}});
        }
        return p;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        const std::string& a = arch_;
        w.add_u32(a + ".context_length", h.n_ctx);
        w.add_u32(a + ".embedding_length", h.n_embd);
        w.add_u32(a + ".feed_forward_length", h.n_ff);
        w.add_u32(a + ".block_count", h.n_layer);
        if (!encoder_only_ && h.has_dec_layers_key) w.add_u32(a + ".decoder_block_count", h.n_layer_dec);
        w.add_u32(a + ".attention.head_count", h.n_head);
        w.add_u32(a + ".attention.key_length", h.head_dim);
        w.add_u32(a + ".attention.value_length", h.head_dim);
        w.add_f32(a + ".attention.layer_norm_epsilon", h.norm_eps);
        w.add_u32(a + ".attention.relative_buckets_count", h.n_rel_buckets);
        w.add_f32(a + ".attention.layer_norm_rms_epsilon", h.norm_eps);
        if (!encoder_only_) w.add_u32(a + ".decoder_start_token_id", h.dec_start);
    }

private:
    bool encoder_only_;
    std::string arch_;
    Hparams h_;
    std::filesystem::path dir_;
    std::string config_text_;
    std::string embedding_;
    bool tied_ = false;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_t5_architecture(const HfInput& in) {
    return std::make_unique<T5Architecture>(in);
}

}  // namespace accel::model::detail
