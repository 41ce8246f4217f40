// Wav2Vec2ForCTC -> GGUF "wav2vec2": accel's own architecture (llama.cpp has no speech encoder), read by
// engine/graphs/wav2vec2.cpp. The keys and tensor names are listed in docs/convert.md ("Wav2Vec2"). The CTC vocabulary
// (vocab.json with tokenizer_config.json's pad, unk and word delimiter) and the feature extractor's settings travel
// in the GGUF, so that `accel infer` needs nothing else. The positional convolution's weight norm is folded here
// (TensorPlan::weight_norm_g): the GGUF holds the plain kernel.
#include <filesystem>
#include <map>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"
#include "json_strict.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CtcVocab {
    std::vector<std::string> tokens;  // exactly vocab_size; an id vocab.json lacks decodes as the unk token (HF)
    uint32_t blank_id = 0;            // the pad token: CTC's blank
    std::string word_delimiter = "|", replace_word_delimiter = " ";
    bool do_lower_case = false;
};

struct Hparams {
    std::vector<int32_t> conv_dim, conv_kernel, conv_stride;
    bool conv_bias = false, layer_norm_convs = false, stable_layer_norm = false;
    uint32_t n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, pos_kernel = 0, pos_groups = 0, n_vocab = 0;
    float norm_eps = 1e-5f;
    bool do_normalize = true;
    uint32_t sampling_rate = 16000;
    CtcVocab vocab;
};

std::vector<int32_t> positive_ints(const json& c, const char* key, const std::string& source) {
    if (!c.contains(key) || !c[key].is_array() || c[key].empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no '{}' list", source, key));
    std::vector<int32_t> out;
    for (const auto& v : c[key]) {
        if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 65536)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: '{}' holds a value that is not a positive integer "
                                                              "up to 65536", source, key));
        out.push_back(static_cast<int32_t>(v.get<uint64_t>()));
    }
    return out;
}

void refuse(const std::string& source, const std::string& what) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", source, what));
}

void read_conv_stack(const json& c, const std::string& source, Hparams& h) {
    h.conv_dim = positive_ints(c, "conv_dim", source);
    h.conv_kernel = positive_ints(c, "conv_kernel", source);
    h.conv_stride = positive_ints(c, "conv_stride", source);
    const size_t n = h.conv_dim.size();
    if (h.conv_kernel.size() != n || h.conv_stride.size() != n || get_u32(c, "num_feat_extract_layers", source, n) != n)
        refuse(source, "conv_dim, conv_kernel, conv_stride and num_feat_extract_layers disagree on the layer count");
    h.conv_bias = c.value("conv_bias", false);
    const std::string norm = c.value("feat_extract_norm", "group");
    if (norm != "group" && norm != "layer")
        refuse(source, fmt::format("feat_extract_norm '{}' is neither 'group' nor 'layer'", norm));
    h.layer_norm_convs = norm == "layer";
    for (const char* key : {"feat_extract_activation", "hidden_act"})
        if (const std::string act = c.value(key, "gelu"); act != "gelu")
            refuse(source, fmt::format("{} '{}': accel's Wav2Vec2 has the exact (erf) GELU only", key, act));
}

Hparams read_config(const HfInput& in) {
    const json& c = in.config;
    const std::string& source = in.config_source;
    Hparams h;
    read_conv_stack(c, source, h);
    h.n_embd = get_u32(c, "hidden_size", source);
    h.n_ff = get_u32(c, "intermediate_size", source);
    h.n_layer = get_u32(c, "num_hidden_layers", source);
    h.n_head = get_u32(c, "num_attention_heads", source);
    h.pos_kernel = get_u32(c, "num_conv_pos_embeddings", source, 128);
    h.pos_groups = get_u32(c, "num_conv_pos_embedding_groups", source, 16);
    h.n_vocab = get_u32(c, "vocab_size", source);
    if (const auto eps = get_f32(c, "layer_norm_eps")) h.norm_eps = *eps;
    h.stable_layer_norm = c.value("do_stable_layer_norm", false);
    if (h.n_embd % h.n_head != 0)
        refuse(source, fmt::format("hidden_size {} is not a multiple of num_attention_heads {}", h.n_embd, h.n_head));
    if (h.n_embd % h.pos_groups != 0)
        refuse(source, fmt::format("hidden_size {} is not a multiple of num_conv_pos_embedding_groups {}", h.n_embd,
                                   h.pos_groups));
    if (c.value("add_adapter", false)) refuse(source, "add_adapter: accel's Wav2Vec2 has no adapter layers");
    if (c.contains("adapter_attn_dim") && !c["adapter_attn_dim"].is_null())
        refuse(source, "adapter_attn_dim (MMS attention adapters): accel's Wav2Vec2 has none");
    if (c.value("use_weighted_layer_sum", false)) refuse(source, "use_weighted_layer_sum: not a CTC head accel runs");
    return h;
}

// tokenizer_config.json writes a special token as a string or as an AddedToken object.
std::string token_text(const json& tc, const char* key, const std::string& fallback) {
    if (!tc.contains(key) || tc[key].is_null()) return fallback;
    if (tc[key].is_string()) return tc[key].get<std::string>();
    if (tc[key].is_object() && tc[key].contains("content") && tc[key]["content"].is_string())
        return tc[key]["content"].get<std::string>();
    return fallback;
}

CtcVocab read_ctc_vocab(const fs::path& dir, uint32_t n_vocab) {
    const fs::path vocab_path = dir / "vocab.json";
    if (!fs::exists(vocab_path))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no vocab.json (a CTC model needs its characters)",
                                                          dir.string()));
    const json v = parse_json(read_text_file(vocab_path, 16u << 20), vocab_path.string(), true);
    json tc = json::object();
    if (const fs::path p = dir / "tokenizer_config.json"; fs::exists(p)) tc = parse_json(read_text_file(p, 16u << 20), p.string(), false);
    if (!v.is_object() || !tc.is_object())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: vocab.json or tokenizer_config.json is not an object "
                                                          "(a multilingual vocab.json keyed by language is not read)",
                                                          dir.string()));
    CtcVocab out;
    const std::string pad = token_text(tc, "pad_token", "<pad>"), unk = token_text(tc, "unk_token", "<unk>");
    out.word_delimiter = token_text(tc, "word_delimiter_token", "|");
    if (tc.contains("replace_word_delimiter_char") && tc["replace_word_delimiter_char"].is_string())
        out.replace_word_delimiter = tc["replace_word_delimiter_char"].get<std::string>();
    out.do_lower_case = tc.value("do_lower_case", false);
    std::map<uint32_t, std::string> by_id;
    for (const auto& [text, id] : v.items()) {
        if (!id.is_number_unsigned() || id.get<uint64_t>() >= n_vocab || !by_id.emplace(id.get<uint32_t>(), text).second)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: '{}' has an id that is not below vocab_size {} or "
                                                              "is taken twice", vocab_path.string(), text, n_vocab));
    }
    out.tokens.assign(n_vocab, unk);
    bool has_pad = false;
    for (const auto& [id, text] : by_id) {
        out.tokens[id] = text;
        if (text == pad && !has_pad) {
            out.blank_id = id;
            has_pad = true;
        }
    }
    if (!has_pad)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no pad token '{}' (CTC's blank)", vocab_path.string(), pad));
    return out;
}

void read_feature_extractor(const fs::path& dir, Hparams& h) {
    const fs::path p = dir / "preprocessor_config.json";
    if (!fs::exists(p)) return;  // Wav2Vec2FeatureExtractor's defaults: do_normalize, 16 kHz
    const json j = parse_json(read_text_file(p, 1u << 20), p.string(), true);
    if (!j.is_object()) throw Error(ErrorKind::invalid_input, p.string() + ": not a JSON object");
    h.do_normalize = j.value("do_normalize", true);
    h.sampling_rate = get_u32(j, "sampling_rate", p.string(), 16000);
    if (get_u32(j, "feature_size", p.string(), 1) != 1)
        throw Error(ErrorKind::invalid_input, p.string() + ": feature_size is not 1 (Wav2Vec2 reads one waveform)");
}

class Wav2Vec2Architecture final : public HfArchitecture {
public:
    explicit Wav2Vec2Architecture(const HfInput& in) : h_(read_config(in)), names_(in.source_names) {
        h_.vocab = read_ctc_vocab(in.dir, h_.n_vocab);
        read_feature_extractor(in.dir, h_);
        // torch's parametrizations (transformers 4.3x+) or the older weight_g / weight_v
        const std::string pos = "wav2vec2.encoder.pos_conv_embed.conv.";
        if (names_.contains(pos + "weight_v")) {
            pos_v_ = pos + "weight_v";
            pos_g_ = pos + "weight_g";
        } else {
            pos_v_ = pos + "parametrizations.weight.original1";
            pos_g_ = pos + "parametrizations.weight.original0";
        }
    }

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return h_.n_vocab; }
    HfVocab read_vocab() const override { return {}; }  // the CTC vocabulary is wav2vec2.ctc.* metadata

    // masked_spec_embed is for SpecAugment masking in training only
    bool dropped(const std::string& source) const override { return source == "wav2vec2.masked_spec_embed"; }

    std::vector<TensorPlan> plan() const override {
        const Hparams& h = h_;
        std::vector<TensorPlan> p;
        plan_feature_encoder(p);
        const auto e = uint64_t{h.n_embd}, last = static_cast<uint64_t>(h.conv_dim.back());
        p.push_back({"feat_proj.norm.weight", "wav2vec2.feature_projection.layer_norm.weight", {last}});
        p.push_back({"feat_proj.norm.bias", "wav2vec2.feature_projection.layer_norm.bias", {last}});
        p.push_back({"feat_proj.weight", "wav2vec2.feature_projection.projection.weight", {e, last}});
        p.push_back({"feat_proj.bias", "wav2vec2.feature_projection.projection.bias", {e}});
        TensorPlan pos{"pos_conv.weight", pos_v_, {e, e / h.pos_groups, h.pos_kernel}};
        pos.weight_norm_g = pos_g_;
        p.push_back(pos);
        p.push_back({"pos_conv.bias", "wav2vec2.encoder.pos_conv_embed.conv.bias", {e}});
        p.push_back({"enc_norm.weight", "wav2vec2.encoder.layer_norm.weight", {e}});
        p.push_back({"enc_norm.bias", "wav2vec2.encoder.layer_norm.bias", {e}});
        static const EncoderBlockNames names{
            {{{"attn_q", "attention.q_proj"}, {"attn_k", "attention.k_proj"}, {"attn_v", "attention.v_proj"},
              {"attn_out", "attention.out_proj"}, {"ffn_up", "feed_forward.intermediate_dense"},
              {"ffn_down", "feed_forward.output_dense"}}},
            {{{"attn_norm", "layer_norm"}, {"ffn_norm", "final_layer_norm"}}}};
        for (uint32_t i = 0; i < h.n_layer; ++i)
            plan_encoder_block(p, fmt::format("blk.{}.", i), fmt::format("wav2vec2.encoder.layers.{}.", i), names, e,
                               h.n_ff, [](const std::string& s) { return s; });
        p.push_back({"output.weight", "lm_head.weight", {h.n_vocab, e}});
        p.push_back({"output.bias", "lm_head.bias", {h.n_vocab}});
        return p;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        const std::string a = "wav2vec2.";
        w.add_i32s(a + "conv.dims", h.conv_dim);
        w.add_i32s(a + "conv.kernels", h.conv_kernel);
        w.add_i32s(a + "conv.strides", h.conv_stride);
        w.add_bool(a + "conv.bias", h.conv_bias);
        w.add_string(a + "conv.norm", h.layer_norm_convs ? "layer" : "group");
        w.add_u32(a + "pos_conv.kernel", h.pos_kernel);
        w.add_u32(a + "pos_conv.groups", h.pos_groups);
        w.add_bool(a + "stable_layer_norm", h.stable_layer_norm);
        w.add_u32(a + "embedding_length", h.n_embd);
        w.add_u32(a + "feed_forward_length", h.n_ff);
        w.add_u32(a + "block_count", h.n_layer);
        w.add_u32(a + "attention.head_count", h.n_head);
        w.add_f32(a + "attention.layer_norm_epsilon", h.norm_eps);
        w.add_u32(a + "vocab_size", h.n_vocab);
        w.add_strings(a + "ctc.tokens", h.vocab.tokens);
        w.add_u32(a + "ctc.blank_id", h.vocab.blank_id);
        w.add_string(a + "ctc.word_delimiter", h.vocab.word_delimiter);
        w.add_string(a + "ctc.replace_word_delimiter", h.vocab.replace_word_delimiter);
        w.add_bool(a + "ctc.do_lower_case", h.vocab.do_lower_case);
        w.add_bool(a + "feature.do_normalize", h.do_normalize);
        w.add_u32(a + "feature.sampling_rate", h.sampling_rate);
    }

private:
    // conv.N.weight (+ bias with conv_bias; + norm: every layer with "layer", layer 0's group norm with "group")
    void plan_feature_encoder(std::vector<TensorPlan>& p) const {
        const Hparams& h = h_;
        for (size_t i = 0; i < h.conv_dim.size(); ++i) {
            const std::string to = fmt::format("conv.{}.", i), from = fmt::format("wav2vec2.feature_extractor.conv_layers.{}.", i);
            const auto out = static_cast<uint64_t>(h.conv_dim[i]), in = i == 0 ? 1 : static_cast<uint64_t>(h.conv_dim[i - 1]);
            p.push_back({to + "weight", from + "conv.weight", {out, in, static_cast<uint64_t>(h.conv_kernel[i])}});
            if (h.conv_bias) p.push_back({to + "bias", from + "conv.bias", {out}});
            if (h.layer_norm_convs || i == 0) {
                p.push_back({to + "norm.weight", from + "layer_norm.weight", {out}});
                p.push_back({to + "norm.bias", from + "layer_norm.bias", {out}});
            }
        }
    }

    std::string arch_ = "wav2vec2";
    Hparams h_;
    const std::set<std::string>& names_;
    std::string pos_v_, pos_g_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_wav2vec2_architecture(const HfInput& in) {
    return std::make_unique<Wav2Vec2Architecture>(in);
}

}  // namespace accel::model::detail
