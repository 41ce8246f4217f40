// XCLIPModel -> GGUF "xclip": accel's own architecture, read by engine/graphs/xclip.cpp. The frame tower (CLIP's
// vision transformer with X-CLIP's cross-frame message tokens in each block), the multi-frame integration
// transformer (mit.), the video-specific prompt generator (p.), CLIP's text tower, the projections and the logit
// scale; the video processor's settings and CLIP's tokenizer travel in the file. Keys: docs/convert.md (X-CLIP).
#include <filesystem>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Hparams {
    ClipTower text, vision, mit;
    uint32_t n_vocab = 0, n_ctx = 0, eos_token_id = 0, image_size = 0, patch_size = 0, n_frames = 0;
    uint32_t projection_dim = 0, prompt_layers = 0, prompt_heads = 0;
    std::string act, preprocessor;
    ClipVocab vocab;
};

const json& sub(const json& c, const char* key, const std::string& source) {
    if (!c.contains(key) || !c[key].is_object())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no {} object", source, key));
    return c[key];
}

void check_act(const json& c, const char* key, const std::string& act, const std::string& source) {
    if (c.value(key, "quick_gelu") != act)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} '{}': accel's X-CLIP takes one activation "
                                                          "(quick_gelu or gelu) everywhere, here '{}'",
                                                          source, key, c.value(key, "quick_gelu"), act));
}

Hparams read_hparams(const HfInput& in) {
    const std::string& source = in.config_source;
    const json& c = in.config;
    const json &tc = sub(c, "text_config", source), &vc = sub(c, "vision_config", source);
    Hparams h;
    h.text = read_clip_tower(tc, source + " (text_config)");
    h.vision = read_clip_tower(vc, source + " (vision_config)");
    json mc = {{"hidden_size", vc.value("mit_hidden_size", 512u)},
               {"intermediate_size", vc.value("mit_intermediate_size", 2048u)},
               {"num_hidden_layers", vc.value("mit_num_hidden_layers", 1u)},
               {"num_attention_heads", vc.value("mit_num_attention_heads", 8u)}};
    mc["layer_norm_eps"] = h.vision.norm_eps;
    h.mit = read_clip_tower(mc, source + " (vision_config mit_*)");
    h.n_vocab = get_u32(tc, "vocab_size", source, 49408);
    h.n_ctx = get_u32(tc, "max_position_embeddings", source, 77);
    h.eos_token_id = get_u32(tc, "eos_token_id", source, 49407);
    h.image_size = get_u32(vc, "image_size", source, 224);
    h.patch_size = get_u32(vc, "patch_size", source, 32);
    h.n_frames = get_u32(vc, "num_frames", source, 8);
    h.projection_dim = get_u32(c, "projection_dim", source, 512);
    h.prompt_layers = get_u32(c, "prompt_layers", source, 2);
    h.prompt_heads = get_u32(c, "prompt_num_attention_heads", source, 8);
    if (get_u32(vc, "num_channels", source, 3) != 3 || h.image_size % h.patch_size != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: accel's X-CLIP takes RGB frames whose image_size is a "
                                                          "multiple of patch_size",
                                                          source));
    if (h.mit.n_embd != h.projection_dim || h.projection_dim % h.prompt_heads != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: mit_hidden_size {} must equal projection_dim {} (the "
                                                          "integration transformer runs on projected frames), a "
                                                          "multiple of prompt_num_attention_heads {}",
                                                          source, h.mit.n_embd, h.projection_dim, h.prompt_heads));
    h.act = tc.value("hidden_act", "quick_gelu");
    if (h.act != "quick_gelu" && h.act != "gelu")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: hidden_act '{}': accel's X-CLIP has quick_gelu and "
                                                          "gelu",
                                                          source, h.act));
    check_act(vc, "hidden_act", h.act, source);
    check_act(c, "prompt_hidden_act", h.act, source);
    const fs::path pre = in.dir / "preprocessor_config.json";
    if (fs::exists(pre)) h.preprocessor = read_text_file(pre, 1u << 20);
    h.vocab = read_clip_vocab(in.dir, h.n_vocab);
    if (h.eos_token_id == 2)
        h.eos_token_id = h.vocab.tokens.empty() ? h.n_vocab - 1 : static_cast<uint32_t>(h.vocab.eos);
    return h;
}

const EncoderBlockNames block_names{{{{"attn_q", "self_attn.q_proj"},
                                      {"attn_k", "self_attn.k_proj"},
                                      {"attn_v", "self_attn.v_proj"},
                                      {"attn_out", "self_attn.out_proj"},
                                      {"ffn_up", "mlp.fc1"},
                                      {"ffn_down", "mlp.fc2"}}},
                                    {{{"attn_norm", "layer_norm1"}, {"ffn_norm", "layer_norm2"}}}};

void norm(std::vector<TensorPlan>& t, const std::string& to, const std::string& from, uint64_t n) {
    t.push_back({to + ".weight", from + ".weight", {n}});
    t.push_back({to + ".bias", from + ".bias", {n}});
}

void linear(std::vector<TensorPlan>& t, const std::string& to, const std::string& from, uint64_t rows, uint64_t cols,
            bool bias = true) {
    t.push_back({to + ".weight", from + ".weight", {rows, cols}});
    if (bias) t.push_back({to + ".bias", from + ".bias", {rows}});
}

class XclipArchitecture final : public HfArchitecture {
public:
    explicit XclipArchitecture(const HfInput& in) : h_(read_hparams(in)) {}

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return h_.n_vocab; }
    HfVocab read_vocab() const override { return {}; }  // CLIP's tokenizer keys under xclip.tokenizer: add_metadata
    bool dropped(const std::string& source) const override { return source.ends_with("embeddings.position_ids"); }

    std::vector<TensorPlan> plan() const override {
        std::vector<TensorPlan> t;
        plan_vision(t);
        plan_mit_and_prompt(t);
        plan_text(t);
        t.push_back({"logit_scale", "logit_scale", {}, 0, true});
        return t;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        for (const auto& [name, t] :
             {std::pair{"vision", h.vision}, std::pair{"text", h.text}, std::pair{"mit", h.mit}}) {
            const std::string k = fmt::format("xclip.{}.", name);
            w.add_u32(k + "embedding_length", t.n_embd);
            w.add_u32(k + "feed_forward_length", t.n_ff);
            w.add_u32(k + "block_count", t.n_layer);
            w.add_u32(k + "attention.head_count", t.n_head);
            w.add_f32(k + "attention.layer_norm_epsilon", t.norm_eps);
        }
        w.add_u32("xclip.vision.image_size", h.image_size);
        w.add_u32("xclip.vision.patch_size", h.patch_size);
        w.add_u32("xclip.vision.num_channels", 3);
        w.add_u32("xclip.vision.num_frames", h.n_frames);
        w.add_u32("xclip.text.vocab_size", h.n_vocab);
        w.add_u32("xclip.text.context_length", h.n_ctx);
        w.add_u32("xclip.text.eos_token_id", h.eos_token_id);
        w.add_u32("xclip.prompt.block_count", h.prompt_layers);
        w.add_u32("xclip.prompt.attention.head_count", h.prompt_heads);
        w.add_f32("xclip.prompt.attention.layer_norm_epsilon", h.text.norm_eps);  // the decoder layers' (text eps)
        w.add_u32("xclip.projection_dim", h.projection_dim);
        w.add_string("xclip.activation", h.act);
        if (!h.preprocessor.empty()) w.add_string("xclip.preprocessor_config", h.preprocessor);
        if (!h.vocab.tokens.empty()) {
            w.add_strings("xclip.tokenizer.tokens", h.vocab.tokens);
            w.add_strings("xclip.tokenizer.merges", h.vocab.merges);
            w.add_u32("xclip.tokenizer.bos_token_id", static_cast<uint32_t>(h.vocab.bos));
            w.add_u32("xclip.tokenizer.unknown_token_id", static_cast<uint32_t>(h.vocab.unk));
        }
    }

private:
    void plan_vision(std::vector<TensorPlan>& t) const {
        const Hparams& h = h_;
        const uint64_t ve = h.vision.n_embd, p = h.patch_size;
        const uint64_t n_pos = (h.image_size / p) * (h.image_size / p) + 1;
        auto same = [](const std::string& s) { return s; };
        t.push_back({"v.patch_embd.weight", "vision_model.embeddings.patch_embedding.weight", {ve, 3, p, p}});
        t.push_back({"v.cls_token", "vision_model.embeddings.class_embedding", {ve}, 0, true});
        t.push_back(
            {"v.position_embd.weight", "vision_model.embeddings.position_embedding.weight", {n_pos, ve}, 0, true});
        norm(t, "v.pre_norm", "vision_model.pre_layernorm", ve);
        for (uint32_t i = 0; i < h.vision.n_layer; ++i) {
            const std::string blk = fmt::format("v.blk.{}.", i),
                              layer = fmt::format("vision_model.encoder.layers.{}.", i);
            plan_encoder_block(t, blk, layer, block_names, ve, h.vision.n_ff, same);
            linear(t, blk + "msg_fc", layer + "message_fc", ve, ve);
            norm(t, blk + "msg_norm", layer + "message_ln", ve);
            for (const auto& [to, from] : {std::pair{"msg_attn_q", "q_proj"}, std::pair{"msg_attn_k", "k_proj"},
                                           std::pair{"msg_attn_v", "v_proj"}, std::pair{"msg_attn_out", "out_proj"}})
                linear(t, blk + to, layer + "message_attn." + from, ve, ve);
        }
        norm(t, "v.post_norm", "vision_model.post_layernorm", ve);
        t.push_back({"v.proj.weight", "visual_projection.weight", {h.projection_dim, ve}});
    }

    void plan_mit_and_prompt(std::vector<TensorPlan>& t) const {
        const Hparams& h = h_;
        const uint64_t d = h.projection_dim, ve = h.vision.n_embd;
        auto same = [](const std::string& s) { return s; };
        t.push_back({"mit.position_embd", "mit.position_embedding", {1, h.n_frames, d}, 0, true});
        for (uint32_t i = 0; i < h.mit.n_layer; ++i)
            plan_encoder_block(t, fmt::format("mit.blk.{}.", i), fmt::format("mit.encoder.layers.{}.", i), block_names,
                               d, h.mit.n_ff, same);
        norm(t, "p.visual_norm", "prompts_visual_layernorm", ve);
        // x @ P (not a Linear): [vision width, projection_dim] as stored; kept f32, the graph transposes it
        t.push_back({"p.visual_proj", "prompts_visual_projection", {ve, d}, 0, true});
        norm(t, "p.norm", "prompts_generator.layernorm", d);
        for (uint32_t i = 0; i < h.prompt_layers; ++i) {
            const std::string blk = fmt::format("p.blk.{}.", i),
                              layer = fmt::format("prompts_generator.decoder.{}.", i);
            norm(t, blk + "attn_norm", layer + "norm1", d);
            linear(t, blk + "attn_q", layer + "cross_attn.q_proj", d, d, false);
            linear(t, blk + "attn_k", layer + "cross_attn.k_proj", d, d, false);
            linear(t, blk + "attn_v", layer + "cross_attn.v_proj", d, d, false);
            linear(t, blk + "attn_out", layer + "cross_attn.proj", d, d);
            norm(t, blk + "ffn_norm", layer + "norm3", d);
            linear(t, blk + "ffn_up", layer + "mlp.0", 4 * d, d);
            linear(t, blk + "ffn_down", layer + "mlp.3", d, 4 * d);
        }
        t.push_back({"p.alpha", "prompts_generator.alpha", {d}});
    }

    void plan_text(std::vector<TensorPlan>& t) const {
        const Hparams& h = h_;
        const uint64_t te = h.text.n_embd;
        auto same = [](const std::string& s) { return s; };
        t.push_back({"t.token_embd.weight", "text_model.embeddings.token_embedding.weight", {h.n_vocab, te}});
        t.push_back(
            {"t.position_embd.weight", "text_model.embeddings.position_embedding.weight", {h.n_ctx, te}, 0, true});
        for (uint32_t i = 0; i < h.text.n_layer; ++i)
            plan_encoder_block(t, fmt::format("t.blk.{}.", i), fmt::format("text_model.encoder.layers.{}.", i),
                               block_names, te, h.text.n_ff, same);
        norm(t, "t.post_norm", "text_model.final_layer_norm", te);
        t.push_back({"t.proj.weight", "text_projection.weight", {h.projection_dim, te}});
    }

    std::string arch_ = "xclip";
    Hparams h_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_xclip_architecture(const HfInput& in) {
    return std::make_unique<XclipArchitecture>(in);
}

}  // namespace accel::model::detail
