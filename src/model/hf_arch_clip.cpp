// CLIPModel -> GGUF "clip_model": accel's own architecture (llama.cpp's "clip" is the mmproj of its multimodal
// models, a different file), read by engine/graphs/clip.cpp. Both towers, both projections and the logit scale;
// the image processor's settings travel verbatim (clip_model.preprocessor_config). Keys: docs/convert.md.
#include <algorithm>
#include <filesystem>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/model/clip_tokenizer.h"
#include "hf_arch.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using Tower = ClipTower;

struct Hparams {
    Tower text, vision;
    uint32_t n_vocab = 0, n_ctx = 0, eos_token_id = 0, image_size = 0, patch_size = 0, projection_dim = 0;
    std::string act;
    std::string preprocessor;
    ClipVocab vocab;  // empty tokens: the folder has no tokenizer (texts then go in as ids)
};

}  // namespace

ClipTower read_clip_tower(const json& c, const std::string& source) {
    ClipTower t;
    t.n_embd = get_u32(c, "hidden_size", source);
    t.n_ff = get_u32(c, "intermediate_size", source);
    t.n_layer = get_u32(c, "num_hidden_layers", source);
    t.n_head = get_u32(c, "num_attention_heads", source);
    if (const auto eps = get_f32(c, "layer_norm_eps")) t.norm_eps = *eps;
    if (t.n_embd % t.n_head != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: hidden_size {} is not a multiple of "
                                                          "num_attention_heads {}", source, t.n_embd, t.n_head));
    return t;
}

namespace {

json parse_file(const fs::path& p) {
    const std::string text = read_text_file(p, 64u << 20);
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Error(ErrorKind::invalid_input, fmt::format("{}: not a JSON object", p.string()));
    return j;
}

}  // namespace

// CLIPTokenizer's vocab.json and merges.txt, else tokenizer.json's BPE model; the specials by their text
// (tokenizer_config.json's unk_token, else "<|endoftext|>"). Empty when the folder has neither.
ClipVocab read_clip_vocab(const fs::path& dir, uint32_t n_vocab) {
    json vocab, merges = json::array();
    if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) {
        vocab = parse_file(dir / "vocab.json");
        std::string line;
        const std::string text = read_text_file(dir / "merges.txt", 64u << 20);
        for (size_t at = 0; at < text.size();) {
            const size_t end = std::min(text.find('\n', at), text.size());
            line = text.substr(at, end - at);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty() && !line.starts_with("#version")) merges.push_back(line);
            at = end + 1;
        }
    } else if (fs::exists(dir / "tokenizer.json")) {
        const json tj = parse_file(dir / "tokenizer.json");
        if (!tj.contains("model") || !tj["model"].is_object() || tj["model"].value("type", "") != "BPE")
            throw Error(ErrorKind::invalid_input, fmt::format("{}: not a BPE tokenizer (CLIP's)", (dir / "tokenizer.json").string()));
        vocab = tj["model"].value("vocab", json::object());
        merges = tj["model"].value("merges", json::array());
    } else {
        return {};
    }
    const std::string source = (dir / "vocab.json").string();
    ClipVocab v;
    v.tokens.resize(n_vocab);
    for (const auto& [tok, id] : vocab.items()) {
        if (!id.is_number_unsigned() || id.get<uint64_t>() >= n_vocab)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: token '{}' has id {}, outside the model's {} tokens",
                                                              source, tok, id.dump(), n_vocab));
        v.tokens[id.get<size_t>()] = tok;
    }
    for (const auto& m : merges) {
        if (m.is_string()) v.merges.push_back(m.get<std::string>());
        else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
            v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        else throw Error(ErrorKind::invalid_input, fmt::format("{}: a merge is not \"a b\" nor [a, b]", source));
    }
    std::string unk = "<|endoftext|>";
    if (fs::exists(dir / "tokenizer_config.json")) {
        const json tc = parse_file(dir / "tokenizer_config.json");
        if (tc.contains("unk_token") && tc["unk_token"].is_string()) unk = tc["unk_token"].get<std::string>();
        else if (tc.contains("unk_token") && tc["unk_token"].is_object()) unk = tc["unk_token"].value("content", unk);
    }
    auto id_of = [&](const std::string& tok) {
        const auto it = std::find(v.tokens.begin(), v.tokens.end(), tok);
        if (it == v.tokens.end())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: no token '{}' (CLIP's special)", source, tok));
        return static_cast<int32_t>(it - v.tokens.begin());
    };
    v.bos = id_of("<|startoftext|>");
    v.eos = id_of("<|endoftext|>");
    v.unk = id_of(unk);
    ClipTokenizer check(v);  // refuses repeated tokens and malformed merges now, not at inference
    return v;
}

namespace {

Tower read_tower(const json& c, const std::string& source) { return read_clip_tower(c, source); }

Hparams read_hparams(const HfInput& in) {
    const std::string& source = in.config_source;
    const json& c = in.config;
    for (const char* k : {"text_config", "vision_config"})
        if (!c.contains(k) || !c[k].is_object())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: no {} object", source, k));
    const json &tc = c["text_config"], &vc = c["vision_config"];
    Hparams h;
    h.text = read_tower(tc, source + " (text_config)");
    h.vision = read_tower(vc, source + " (vision_config)");
    h.n_vocab = get_u32(tc, "vocab_size", source, 49408);
    h.n_ctx = get_u32(tc, "max_position_embeddings", source, 77);
    h.eos_token_id = get_u32(tc, "eos_token_id", source, 49407);
    h.image_size = get_u32(vc, "image_size", source, 224);
    h.patch_size = get_u32(vc, "patch_size", source, 32);
    h.projection_dim = get_u32(c, "projection_dim", source, 512);
    if (get_u32(vc, "num_channels", source, 3) != 3 || h.image_size % h.patch_size != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: accel's CLIP takes RGB images whose image_size is a "
                                                          "multiple of patch_size", source));
    h.act = tc.value("hidden_act", "quick_gelu");
    if (vc.value("hidden_act", "quick_gelu") != h.act || (h.act != "quick_gelu" && h.act != "gelu"))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: hidden_act '{}': accel's CLIP has quick_gelu and gelu, "
                                                          "the same in both towers", source, h.act));
    const fs::path pre = in.dir / "preprocessor_config.json";
    if (fs::exists(pre)) h.preprocessor = read_text_file(pre, 1u << 20);
    h.vocab = read_clip_vocab(in.dir, h.n_vocab);
    // transformers' legacy rule: eos_token_id 2 (OpenAI's checkpoints) means "pool at the highest id", which is
    // <|endoftext|>, the last token of CLIP's vocabulary.
    if (h.eos_token_id == 2) h.eos_token_id = h.vocab.tokens.empty() ? h.n_vocab - 1 : static_cast<uint32_t>(h.vocab.eos);
    return h;
}

const EncoderBlockNames clip_block_names{
    {{{"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"},
      {"attn_out", "self_attn.out_proj"}, {"ffn_up", "mlp.fc1"}, {"ffn_down", "mlp.fc2"}}},
    {{{"attn_norm", "layer_norm1"}, {"ffn_norm", "layer_norm2"}}}};

class ClipArchitecture final : public HfArchitecture {
public:
    explicit ClipArchitecture(const HfInput& in) : h_(read_hparams(in)) {}

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return h_.n_vocab; }
    HfVocab read_vocab() const override { return {}; }  // CLIP's own tokenizer keys: add_metadata

    bool dropped(const std::string& source) const override { return source.ends_with("embeddings.position_ids"); }

    std::vector<TensorPlan> plan() const override {
        const Hparams& h = h_;
        const uint64_t ve = h.vision.n_embd, te = h.text.n_embd, p = h.patch_size;
        const uint64_t n_pos = (h.image_size / p) * (h.image_size / p) + 1;
        auto same = [](const std::string& s) { return s; };
        std::vector<TensorPlan> t;
        t.push_back({"v.patch_embd.weight", "vision_model.embeddings.patch_embedding.weight", {ve, 3, p, p}});
        t.push_back({"v.cls_token", "vision_model.embeddings.class_embedding", {ve}, 0, true});
        t.push_back({"v.position_embd.weight", "vision_model.embeddings.position_embedding.weight", {n_pos, ve}, 0,
                     true});
        norm(t, "v.pre_norm", "vision_model.pre_layrnorm", ve);
        for (uint32_t i = 0; i < h.vision.n_layer; ++i)
            plan_encoder_block(t, fmt::format("v.blk.{}.", i), fmt::format("vision_model.encoder.layers.{}.", i),
                               clip_block_names, ve, h.vision.n_ff, same);
        norm(t, "v.post_norm", "vision_model.post_layernorm", ve);
        t.push_back({"v.proj.weight", "visual_projection.weight", {h.projection_dim, ve}});
        t.push_back({"t.token_embd.weight", "text_model.embeddings.token_embedding.weight", {h.n_vocab, te}});
        t.push_back({"t.position_embd.weight", "text_model.embeddings.position_embedding.weight", {h.n_ctx, te}, 0,
                     true});
        for (uint32_t i = 0; i < h.text.n_layer; ++i)
            plan_encoder_block(t, fmt::format("t.blk.{}.", i), fmt::format("text_model.encoder.layers.{}.", i),
                               clip_block_names, te, h.text.n_ff, same);
        norm(t, "t.post_norm", "text_model.final_layer_norm", te);
        t.push_back({"t.proj.weight", "text_projection.weight", {h.projection_dim, te}});
        t.push_back({"logit_scale", "logit_scale", {}, 0, true});
        return t;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        for (const auto& [name, t] : {std::pair{"vision", h.vision}, std::pair{"text", h.text}}) {
            const std::string k = fmt::format("clip_model.{}.", name);
            w.add_u32(k + "embedding_length", t.n_embd);
            w.add_u32(k + "feed_forward_length", t.n_ff);
            w.add_u32(k + "block_count", t.n_layer);
            w.add_u32(k + "attention.head_count", t.n_head);
            w.add_f32(k + "attention.layer_norm_epsilon", t.norm_eps);
        }
        w.add_u32("clip_model.vision.image_size", h.image_size);
        w.add_u32("clip_model.vision.patch_size", h.patch_size);
        w.add_u32("clip_model.vision.num_channels", 3);
        w.add_u32("clip_model.text.vocab_size", h.n_vocab);
        w.add_u32("clip_model.text.context_length", h.n_ctx);
        w.add_u32("clip_model.text.eos_token_id", h.eos_token_id);
        w.add_u32("clip_model.projection_dim", h.projection_dim);
        w.add_string("clip_model.activation", h.act);
        if (!h.preprocessor.empty()) w.add_string("clip_model.preprocessor_config", h.preprocessor);
        if (!h.vocab.tokens.empty()) {
            w.add_strings("clip_model.tokenizer.tokens", h.vocab.tokens);
            w.add_strings("clip_model.tokenizer.merges", h.vocab.merges);
            w.add_u32("clip_model.tokenizer.bos_token_id", static_cast<uint32_t>(h.vocab.bos));
            w.add_u32("clip_model.tokenizer.unknown_token_id", static_cast<uint32_t>(h.vocab.unk));
        }
    }

private:
    static void norm(std::vector<TensorPlan>& t, const std::string& to, const std::string& from, uint64_t n) {
        t.push_back({to + ".weight", from + ".weight", {n}});
        t.push_back({to + ".bias", from + ".bias", {n}});
    }

    std::string arch_ = "clip_model";
    Hparams h_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_clip_architecture(const HfInput& in) {
    return std::make_unique<ClipArchitecture>(in);
}

}  // namespace accel::model::detail
