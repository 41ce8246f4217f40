// ClapModel -> GGUF "clap": accel's own architecture (llama.cpp has no audio-text model), read by
// engine/graphs/clap.cpp. The HTSAT audio tower (patch embedding, Swin stages, patch merging, final norm), the RoBERTa
// text tower with its pooler, both two-layer projections and both logit scales; the batch norm over mel bins travels
// as its four vectors (applied to the features on the host), the feature extractor's settings verbatim
// (clap.preprocessor_config) and the byte-level BPE vocabulary (clap.tokenizer.*). Keys: docs/convert.md ("CLAP").
// HTSAT-unfused only: a fused checkpoint (enable_fusion) is refused.
#include <filesystem>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct AudioHparams {
    uint32_t n_embd = 0, n_mels = 0, spec_size = 0, patch_size = 0, patch_stride = 0, window = 0;
    std::vector<int32_t> depths, heads;
    float mlp_ratio = 4.0f, norm_eps = 1e-5f;
    uint32_t n_ff(size_t stage) const { return static_cast<uint32_t>(mlp_ratio * float(n_embd << stage)); }
    uint32_t n_features() const { return n_embd << (depths.size() - 1); }
};

struct TextHparams {
    uint32_t n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_vocab = 0, n_ctx = 0, n_types = 1, pad = 1;
    float norm_eps = 1e-5f;
};

struct Vocab {
    std::vector<std::string> tokens, merges;
    uint32_t bos = 0, eos = 2, unk = 3, pad = 1;
};

struct Hparams {
    AudioHparams audio;
    TextHparams text;
    uint32_t projection_dim = 0;
    std::string preprocessor;
    Vocab vocab;  // empty tokens: the folder has no tokenizer.json
};

void refuse(const std::string& source, const std::string& what) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", source, what));
}

std::vector<int32_t> small_ints(const json& c, const char* key, const std::string& source) {
    if (!c.contains(key) || !c[key].is_array() || c[key].empty() || c[key].size() > 16)
        refuse(source, fmt::format("no '{}' list (1 to 16 stages)", key));
    std::vector<int32_t> out;
    for (const auto& v : c[key]) {
        if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 1024)
            refuse(source, fmt::format("'{}' holds a value that is not a positive integer up to 1024", key));
        out.push_back(static_cast<int32_t>(v.get<uint64_t>()));
    }
    return out;
}

uint32_t one_int(const json& c, const char* key, const std::string& source, uint32_t fallback) {
    if (c.contains(key) && c[key].is_array()) {  // patch_size / patch_stride may be [h, w]: accel takes square ones
        if (c[key].size() != 2 || c[key][0] != c[key][1]) refuse(source, fmt::format("'{}' is not square", key));
        return c[key][0].get<uint32_t>();
    }
    return get_u32(c, key, source, fallback);
}

AudioHparams read_audio(const json& c, const std::string& source) {
    AudioHparams a;
    if (c.value("enable_fusion", false))
        refuse(source, "enable_fusion: accel runs HTSAT-unfused CLAP checkpoints only (docs/clap.md)");
    a.n_embd = get_u32(c, "patch_embeds_hidden_size", source, 96);
    a.n_mels = get_u32(c, "num_mel_bins", source, 64);
    a.spec_size = get_u32(c, "spec_size", source, 256);
    a.patch_size = one_int(c, "patch_size", source, 4);
    a.patch_stride = one_int(c, "patch_stride", source, 4);
    a.window = get_u32(c, "window_size", source, 8);
    a.depths = small_ints(c, "depths", source);
    a.heads = small_ints(c, "num_attention_heads", source);
    if (const auto r = get_f32(c, "mlp_ratio")) a.mlp_ratio = *r;
    if (const auto eps = get_f32(c, "layer_norm_eps")) a.norm_eps = *eps;
    if (a.depths.size() != a.heads.size()) refuse(source, "depths and num_attention_heads differ in length");
    if (c.value("hidden_act", "gelu") != "gelu") refuse(source, "audio hidden_act: accel's HTSAT has gelu only");
    if (get_u32(c, "patch_embed_input_channels", source, 1) != 1 || !c.value("flatten_patch_embeds", true) ||
        !c.value("enable_patch_layer_norm", true) || !c.value("qkv_bias", true))
        refuse(source, "accel's HTSAT takes one input channel, flattened patch embeddings with their layer norm and "
                       "q/k/v biases");
    if (a.patch_size != a.patch_stride) refuse(source, "patch_size differs from patch_stride (overlapping patches)");
    if (a.spec_size % a.n_mels != 0 || a.spec_size % a.patch_size != 0)
        refuse(source, "spec_size must be a multiple of num_mel_bins and of patch_size");
    uint32_t res = a.spec_size / a.patch_size;
    for (size_t s = 0; s < a.depths.size(); ++s) {
        const uint32_t dim = a.n_embd << s;
        if (dim % static_cast<uint32_t>(a.heads[s]) != 0)
            refuse(source, fmt::format("stage {}: width {} is not a multiple of {} heads", s, dim, a.heads[s]));
        if (res > a.window && res % a.window != 0)
            refuse(source, fmt::format("stage {}: a {}x{} grid is not a whole number of {}x{} windows (padding is "
                                       "not implemented)", s, res, res, a.window, a.window));
        if (res < a.window) refuse(source, fmt::format("stage {}: a {}x{} grid is smaller than the window", s, res, res));
        if (s + 1 < a.depths.size() && res % 2 != 0) refuse(source, fmt::format("stage {}: an odd grid to merge", s));
        if (s + 1 < a.depths.size()) res /= 2;
    }
    return a;
}

TextHparams read_text(const json& c, const std::string& source) {
    TextHparams t;
    t.n_embd = get_u32(c, "hidden_size", source, 768);
    t.n_ff = get_u32(c, "intermediate_size", source, 3072);
    t.n_layer = get_u32(c, "num_hidden_layers", source, 12);
    t.n_head = get_u32(c, "num_attention_heads", source, 12);
    t.n_vocab = get_u32(c, "vocab_size", source, 50265);
    t.n_ctx = get_u32(c, "max_position_embeddings", source, 514);
    t.n_types = get_u32(c, "type_vocab_size", source, 1);
    t.pad = c.contains("pad_token_id") && c["pad_token_id"].is_number_unsigned() ? c["pad_token_id"].get<uint32_t>() : 1;
    if (const auto eps = get_f32(c, "layer_norm_eps")) t.norm_eps = *eps;
    if (t.n_embd % t.n_head != 0) refuse(source, "text hidden_size is not a multiple of num_attention_heads");
    if (c.value("hidden_act", "gelu") != "gelu" || c.value("position_embedding_type", "absolute") != "absolute")
        refuse(source, "accel's CLAP text tower has gelu and absolute position embeddings only");
    if (t.pad + 2 > t.n_ctx) refuse(source, "max_position_embeddings leaves no position after the padding index");
    return t;
}

json parse_file(const fs::path& p) {
    json j = json::parse(read_text_file(p, 64u << 20), nullptr, false);
    if (j.is_discarded() || !j.is_object()) refuse(p.string(), "not a JSON object");
    return j;
}

// tokenizer.json's byte-level BPE (RobertaTokenizerFast's): the vocabulary in id order, the merges, the specials.
Vocab read_vocab(const fs::path& dir, const TextHparams& t) {
    const fs::path file = dir / "tokenizer.json";
    if (!fs::exists(file)) return {};
    const json tj = parse_file(file);
    if (!tj.contains("model") || !tj["model"].is_object() || tj["model"].value("type", "") != "BPE")
        refuse(file.string(), "not a BPE tokenizer (RoBERTa's)");
    Vocab v;
    v.tokens.resize(t.n_vocab);
    auto put = [&](const std::string& tok, const json& id) {
        if (!id.is_number_unsigned() || id.get<uint64_t>() >= t.n_vocab)
            refuse(file.string(), fmt::format("token '{}' has id {}, outside the model's {}", tok, id.dump(), t.n_vocab));
        v.tokens[id.get<size_t>()] = tok;
    };
    const json vocab = tj["model"].value("vocab", json::object());
    for (const auto& [tok, id] : vocab.items()) put(tok, id);
    for (const auto& a : tj.value("added_tokens", json::array()))
        if (a.is_object() && a.contains("content") && a["content"].is_string()) put(a["content"], a.value("id", json()));
    for (const auto& m : tj["model"].value("merges", json::array())) {
        if (m.is_string()) v.merges.push_back(m.get<std::string>());
        else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
            v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        else refuse(file.string(), "a merge is not \"a b\" nor [a, b]");
    }
    auto id_of = [&](const std::string& tok) {
        for (size_t i = 0; i < v.tokens.size(); ++i)
            if (v.tokens[i] == tok) return static_cast<uint32_t>(i);
        refuse(file.string(), fmt::format("no token '{}' (RoBERTa's special)", tok));
        return 0u;
    };
    v.bos = id_of("<s>");
    v.eos = id_of("</s>");
    v.unk = id_of("<unk>");
    v.pad = id_of("<pad>");
    if (v.pad != t.pad) refuse(file.string(), fmt::format("<pad> is id {}, config.json's pad_token_id {}", v.pad, t.pad));
    return v;
}

Hparams read_hparams(const HfInput& in) {
    const std::string& source = in.config_source;
    const json& c = in.config;
    for (const char* k : {"text_config", "audio_config"})
        if (!c.contains(k) || !c[k].is_object()) refuse(source, fmt::format("no {} object", k));
    Hparams h;
    h.audio = read_audio(c["audio_config"], source + " (audio_config)");
    h.text = read_text(c["text_config"], source + " (text_config)");
    h.projection_dim = get_u32(c, "projection_dim", source, 512);
    for (const auto* part : {&c, &c["text_config"], &c["audio_config"]})
        if (part->value("projection_hidden_act", "relu") != "relu")
            refuse(source, "projection_hidden_act: accel's CLAP projections have relu only");
    if (get_u32(c["audio_config"], "hidden_size", source, 768) != h.audio.n_features())
        refuse(source, "audio_config.hidden_size is not the last stage's width (patch_embeds_hidden_size * 2^(stages-1))");
    const fs::path pre = in.dir / "preprocessor_config.json";
    if (fs::exists(pre)) h.preprocessor = read_text_file(pre, 1u << 20);
    h.vocab = read_vocab(in.dir, h.text);
    return h;
}

const EncoderBlockNames audio_block_names = {
    {{{"attn_q", "attention.self.query"}, {"attn_k", "attention.self.key"}, {"attn_v", "attention.self.value"},
      {"attn_out", "attention.output.dense"}, {"ffn_up", "intermediate.dense"}, {"ffn_down", "output.dense"}}},
    {{{"attn_norm", "layernorm_before"}, {"ffn_norm", "layernorm_after"}}}};

// RoBERTa's blocks are post-norm: attn_norm follows the attention, ffn_norm the MLP.
const EncoderBlockNames text_block_names = {
    {{{"attn_q", "attention.self.query"}, {"attn_k", "attention.self.key"}, {"attn_v", "attention.self.value"},
      {"attn_out", "attention.output.dense"}, {"ffn_up", "intermediate.dense"}, {"ffn_down", "output.dense"}}},
    {{{"attn_norm", "attention.output.LayerNorm"}, {"ffn_norm", "output.LayerNorm"}}}};

class ClapArchitecture final : public HfArchitecture {
public:
    explicit ClapArchitecture(const HfInput& in) : h_(read_hparams(in)) {}

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return h_.text.n_vocab; }
    HfVocab read_vocab() const override { return {}; }  // CLAP's own tokenizer keys: add_metadata

    bool dropped(const std::string& s) const override {
        return s.ends_with("relative_position_index") || s.ends_with("num_batches_tracked") ||
               s.ends_with("embeddings.position_ids") || s.ends_with("embeddings.token_type_ids");
    }

    std::vector<TensorPlan> plan() const override {
        std::vector<TensorPlan> t;
        plan_audio(t);
        plan_text(t);
        t.push_back({"logit_scale_a", "logit_scale_a", {}, 0, true});
        t.push_back({"logit_scale_t", "logit_scale_t", {}, 0, true});
        return t;
    }

    void add_metadata(GgufWriter& w) const override {
        const auto& a = h_.audio;
        w.add_u32("clap.audio.embedding_length", a.n_embd);
        w.add_u32("clap.audio.num_mel_bins", a.n_mels);
        w.add_u32("clap.audio.spec_size", a.spec_size);
        w.add_u32("clap.audio.patch_size", a.patch_size);
        w.add_u32("clap.audio.window_size", a.window);
        w.add_i32s("clap.audio.depths", a.depths);
        w.add_i32s("clap.audio.head_counts", a.heads);
        w.add_f32("clap.audio.mlp_ratio", a.mlp_ratio);
        w.add_f32("clap.audio.layer_norm_epsilon", a.norm_eps);
        w.add_f32("clap.audio.batch_norm_epsilon", 1e-5f);  // nn.BatchNorm2d's default, which HTSAT keeps
        const auto& t = h_.text;
        w.add_u32("clap.text.embedding_length", t.n_embd);
        w.add_u32("clap.text.feed_forward_length", t.n_ff);
        w.add_u32("clap.text.block_count", t.n_layer);
        w.add_u32("clap.text.attention.head_count", t.n_head);
        w.add_f32("clap.text.attention.layer_norm_epsilon", t.norm_eps);
        w.add_u32("clap.text.vocab_size", t.n_vocab);
        w.add_u32("clap.text.context_length", t.n_ctx);
        w.add_u32("clap.text.pad_token_id", t.pad);
        w.add_u32("clap.projection_dim", h_.projection_dim);
        if (!h_.preprocessor.empty()) w.add_string("clap.preprocessor_config", h_.preprocessor);
        if (!h_.vocab.tokens.empty()) {
            w.add_strings("clap.tokenizer.tokens", h_.vocab.tokens);
            w.add_strings("clap.tokenizer.merges", h_.vocab.merges);
            w.add_u32("clap.tokenizer.bos_token_id", h_.vocab.bos);
            w.add_u32("clap.tokenizer.eos_token_id", h_.vocab.eos);
            w.add_u32("clap.tokenizer.unknown_token_id", h_.vocab.unk);
        }
    }

private:
    static void norm(std::vector<TensorPlan>& t, const std::string& to, const std::string& from, uint64_t n) {
        t.push_back({to + ".weight", from + ".weight", {n}});
        t.push_back({to + ".bias", from + ".bias", {n}});
    }

    static void projection(std::vector<TensorPlan>& t, const std::string& to, const std::string& from, uint64_t in,
                           uint64_t dim) {
        t.push_back({to + "proj1.weight", from + ".linear1.weight", {dim, in}});
        t.push_back({to + "proj1.bias", from + ".linear1.bias", {dim}});
        t.push_back({to + "proj2.weight", from + ".linear2.weight", {dim, dim}});
        t.push_back({to + "proj2.bias", from + ".linear2.bias", {dim}});
    }

    void plan_audio(std::vector<TensorPlan>& t) const {
        const auto& a = h_.audio;
        const std::string enc = "audio_model.audio_encoder.";
        const uint64_t e = a.n_embd, p = a.patch_size, win = a.window;
        for (const char* v : {"weight", "bias", "running_mean", "running_var"})
            t.push_back({fmt::format("a.batch_norm.{}", v), enc + "batch_norm." + v, {a.n_mels}, 0, true});
        t.push_back({"a.patch_embd.weight", enc + "patch_embed.proj.weight", {e, 1, p, p}});
        t.push_back({"a.patch_embd.bias", enc + "patch_embed.proj.bias", {e}});
        norm(t, "a.patch_norm", enc + "patch_embed.norm", e);
        auto same = [](const std::string& s) { return s; };
        for (size_t s = 0; s < a.depths.size(); ++s) {
            const uint64_t dim = e << s;
            for (int32_t i = 0; i < a.depths[s]; ++i) {
                const std::string blk = fmt::format("a.stage.{}.blk.{}.", s, i);
                const std::string layer = fmt::format("{}layers.{}.blocks.{}.", enc, s, i);
                plan_encoder_block(t, blk, layer, audio_block_names, dim, a.n_ff(s), same);
                t.push_back({blk + "attn_rel_pos", layer + "attention.self.relative_position_bias_table",
                             {(2 * win - 1) * (2 * win - 1), static_cast<uint64_t>(a.heads[s])}, 0, true});
            }
            if (s + 1 < a.depths.size()) {
                const std::string m = fmt::format("{}layers.{}.downsample.", enc, s);
                norm(t, fmt::format("a.stage.{}.merge_norm", s), m + "norm", 4 * dim);
                t.push_back({fmt::format("a.stage.{}.merge.weight", s), m + "reduction.weight", {2 * dim, 4 * dim}});
            }
        }
        norm(t, "a.post_norm", enc + "norm", a.n_features());
        projection(t, "a.", "audio_projection", a.n_features(), h_.projection_dim);
    }

    void plan_text(std::vector<TensorPlan>& t) const {
        const auto& x = h_.text;
        const uint64_t e = x.n_embd;
        t.push_back({"t.token_embd.weight", "text_model.embeddings.word_embeddings.weight", {x.n_vocab, e}});
        t.push_back({"t.position_embd.weight", "text_model.embeddings.position_embeddings.weight", {x.n_ctx, e}, 0,
                     true});
        t.push_back({"t.token_types.weight", "text_model.embeddings.token_type_embeddings.weight", {x.n_types, e}, 0,
                     true});
        norm(t, "t.embd_norm", "text_model.embeddings.LayerNorm", e);
        auto same = [](const std::string& s) { return s; };
        for (uint32_t i = 0; i < x.n_layer; ++i)
            plan_encoder_block(t, fmt::format("t.blk.{}.", i), fmt::format("text_model.encoder.layer.{}.", i),
                               text_block_names, e, x.n_ff, same);
        t.push_back({"t.pooler.weight", "text_model.pooler.dense.weight", {e, e}});
        t.push_back({"t.pooler.bias", "text_model.pooler.dense.bias", {e}});
        projection(t, "t.", "text_projection", e, h_.projection_dim);
    }

    std::string arch_ = "clap";
    Hparams h_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_clap_architecture(const HfInput& in) {
    return std::make_unique<ClapArchitecture>(in);
}

}  // namespace accel::model::detail
