// LlavaForConditionalGeneration and LlavaNextForConditionalGeneration -> two GGUF files, as llama.cpp runs them:
// the text model ("llama", the LLaMA adapter over text_config and the language_model tensors, as the pinned
// convert_hf_to_gguf.py converts LLaVA's text part) and the multimodal projector ("clip", what libmtmd's clip.cpp
// reads: the CLIP vision tower up to vision_feature_layer and the two-layer MLP projector; the pinned converter does
// not write it for Hugging Face LLaVA, its tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py did). Keys and
// tensor names: docs/convert.md, "LLaVA".
#include <map>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Where the checkpoint keeps each part: transformers < 4.52 saves "language_model.model.*", "vision_tower.*",
// "multi_modal_projector.*" and "image_newline"; later versions save "model.language_model.*", "lm_head.weight",
// "model.vision_tower.*", "model.multi_modal_projector.*" and "model.image_newline".
struct Layout {
    std::string outer;  // "" or "model."
    bool nested = false;

    explicit Layout(const std::set<std::string>& names)
        : outer(names.contains("model.multi_modal_projector.linear_1.weight") ? "model." : ""),
          nested(!outer.empty()) {}

    // The LlamaForCausalLM name of a text tensor, or "" when `source` is not one.
    std::string text_name(const std::string& source) const {
        if (nested) {
            if (source == "lm_head.weight") return source;
            if (source.starts_with("model.language_model.")) return "model." + source.substr(21);
            return "";
        }
        if (source.starts_with("language_model.")) return source.substr(15);
        return "";
    }
    bool is_text(const std::string& source) const { return !text_name(source).empty(); }
    bool is_vision_part(const std::string& source) const {
        return source.starts_with(outer + "vision_tower.") || source.starts_with(outer + "multi_modal_projector.") ||
               source == newline();
    }
    std::string vision(const std::string& rest) const { return outer + "vision_tower.vision_model." + rest; }
    std::string projector(const std::string& rest) const { return outer + "multi_modal_projector." + rest; }
    std::string newline() const { return outer + "image_newline"; }
};

const json& sub_config(const HfInput& in, const char* key) {
    if (!in.config.contains(key) || !in.config[key].is_object())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no {} object", in.config_source, key));
    return in.config[key];
}

// ---- the text model: the LLaMA adapter over text_config, with the names mapped

class LlavaTextArchitecture final : public HfArchitecture {
public:
    explicit LlavaTextArchitecture(const HfInput& in) : layout_(in.source_names) {
        const json& tc = sub_config(in, "text_config");
        const std::string type = tc.value("model_type", "llama");
        if (type != "llama")
            throw Error(ErrorKind::invalid_input, fmt::format("{}: text_config.model_type '{}': accel converts LLaVA "
                                                              "with a LLaMA text model only", in.config_source, type));
        text_config_ = tc;
        for (const auto& s : in.source_names) {
            const std::string t = layout_.text_name(s);
            if (t.empty()) continue;
            source_of_[t] = s;
            text_names_.insert(t);
        }
        inner_ = make_llama_architecture(HfInput{in.dir, text_config_, in.config_text,
                                                 in.config_source + " (text_config)", "LlamaForCausalLM", text_names_});
    }

    const std::string& arch() const override { return inner_->arch(); }
    uint32_t n_vocab() const override { return inner_->n_vocab(); }
    HfVocab read_vocab() const override { return inner_->read_vocab(); }
    void add_metadata(GgufWriter& w) const override { inner_->add_metadata(w); }
    // The vision tower, projector and image_newline go into the mmproj file.
    bool dropped(const std::string& source) const override {
        return layout_.is_vision_part(source) || (layout_.is_text(source) && inner_->dropped(layout_.text_name(source)));
    }

    std::vector<TensorPlan> plan() const override {
        auto p = inner_->plan();
        for (auto& t : p) {
            const auto it = source_of_.find(t.source);
            t.source = it == source_of_.end() ? "language_model." + t.source : it->second;  // a missing one is named
        }
        return p;
    }

private:
    Layout layout_;
    json text_config_;
    std::set<std::string> text_names_;
    std::map<std::string, std::string> source_of_;  // LlamaForCausalLM name -> checkpoint name
    std::unique_ptr<HfArchitecture> inner_;
};

// ---- the multimodal projector for libmtmd's clip.cpp (projector type "mlp")

struct VisionHparams {
    uint32_t n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, image_size = 0, patch_size = 0, projection_dim = 0;
    uint32_t n_blocks = 0;  // encoder blocks up to vision_feature_layer (the rest is dropped, as clip.cpp runs)
    uint32_t n_text_embd = 0;
    float norm_eps = 1e-5f;
    bool gelu = false;      // vision hidden_act gelu (else quick_gelu)
    std::vector<int32_t> pinpoints;  // LLaVA-Next: (width, height) pairs, clip.cpp's order
    std::vector<float> mean{0.48145466f, 0.4578275f, 0.40821073f}, std{0.26862954f, 0.26130258f, 0.27577711f};
};

void refuse(const HfInput& in, const std::string& what) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", in.config_source, what));
}

uint32_t feature_blocks(const HfInput& in, uint32_t n_layer) {
    const json& c = in.config;
    if (c.contains("vision_feature_layer") && !c["vision_feature_layer"].is_number_integer())
        refuse(in, "vision_feature_layer is a list (several layers): clip.cpp's MLP projector takes one");
    const int64_t fl = c.value("vision_feature_layer", int64_t{-2});
    const int64_t n = fl < 0 ? int64_t{n_layer} + fl + 1 : fl;
    if (n < 1 || n > n_layer)
        refuse(in, fmt::format("vision_feature_layer {} is outside the vision tower's {} layers", fl, n_layer));
    if (c.value("vision_feature_select_strategy", std::string("default")) != "default")
        refuse(in, "vision_feature_select_strategy other than 'default' (the CLS token kept): clip.cpp drops it");
    return static_cast<uint32_t>(n);
}

void read_processor(const HfInput& in, VisionHparams& h) {
    const fs::path pre = in.dir / "preprocessor_config.json";
    if (!fs::exists(pre)) return;  // CLIP's mean and std
    const json p = json::parse(read_text_file(pre, 1u << 20), nullptr, false);
    if (!p.is_object()) throw Error(ErrorKind::invalid_input, pre.string() + ": not a JSON object");
    for (auto [key, out] : {std::pair{"image_mean", &h.mean}, std::pair{"image_std", &h.std}}) {
        if (!p.contains(key)) continue;
        if (!p[key].is_array() || p[key].size() != 3)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is not three numbers", pre.string(), key));
        *out = p[key].get<std::vector<float>>();
    }
}

VisionHparams read_vision(const HfInput& in) {
    const json& vc = sub_config(in, "vision_config");
    const json& tc = sub_config(in, "text_config");
    const std::string source = in.config_source + " (vision_config)";
    VisionHparams h;
    const std::string type = vc.value("model_type", "clip_vision_model");
    if (type != "clip_vision_model") refuse(in, fmt::format("vision_config.model_type '{}': accel converts LLaVA "
                                                            "with a CLIP vision tower only", type));
    h.n_embd = get_u32(vc, "hidden_size", source);
    h.n_ff = get_u32(vc, "intermediate_size", source);
    h.n_layer = get_u32(vc, "num_hidden_layers", source);
    h.n_head = get_u32(vc, "num_attention_heads", source);
    h.image_size = get_u32(vc, "image_size", source, 224);
    h.patch_size = get_u32(vc, "patch_size", source, 32);
    h.projection_dim = get_u32(vc, "projection_dim", source, 512);
    h.n_text_embd = get_u32(tc, "hidden_size", in.config_source + " (text_config)");
    if (const auto eps = get_f32(vc, "layer_norm_eps")) h.norm_eps = *eps;
    if (get_u32(vc, "num_channels", source, 3) != 3 || h.image_size % h.patch_size != 0 || h.n_embd % h.n_head != 0)
        refuse(in, "the vision tower takes RGB images whose image_size is a multiple of patch_size, and hidden_size "
                   "is a multiple of num_attention_heads");
    const std::string act = vc.value("hidden_act", "quick_gelu");
    if (act != "quick_gelu" && act != "gelu") refuse(in, fmt::format("vision hidden_act '{}': clip.cpp has quick_gelu "
                                                                     "and gelu", act));
    h.gelu = act == "gelu";
    if (in.config.value("projector_hidden_act", std::string("gelu")) != "gelu")
        refuse(in, "projector_hidden_act other than gelu: clip.cpp's MLP projector is linear, GELU, linear");
    if (!in.config.value("multimodal_projector_bias", true))
        refuse(in, "multimodal_projector_bias false: clip.cpp's MLP projector has biases");
    h.n_blocks = feature_blocks(in, h.n_layer);
    if (in.config.contains("image_grid_pinpoints")) {
        const json& g = in.config["image_grid_pinpoints"];
        if (!g.is_array()) refuse(in, "image_grid_pinpoints is not a list of [height, width] pairs");
        for (const auto& hw : g) {
            if (!hw.is_array() || hw.size() != 2 || !hw[0].is_number_unsigned() || !hw[1].is_number_unsigned())
                refuse(in, "image_grid_pinpoints is not a list of [height, width] pairs");
            h.pinpoints.push_back(hw[1].get<int32_t>());  // transformers: (height, width); clip.cpp: (width, height)
            h.pinpoints.push_back(hw[0].get<int32_t>());
        }
    }
    read_processor(in, h);
    return h;
}

const EncoderBlockNames mmproj_block_names{
    {{{"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"},
      {"attn_out", "self_attn.out_proj"}, {"ffn_up", "mlp.fc1"}, {"ffn_down", "mlp.fc2"}}},
    {{{"ln1", "layer_norm1"}, {"ln2", "layer_norm2"}}}};

class LlavaMmprojArchitecture final : public HfArchitecture {
public:
    explicit LlavaMmprojArchitecture(const HfInput& in)
        : layout_(in.source_names), h_(read_vision(in)), next_(in.hf_arch == "LlavaNextForConditionalGeneration") {
        if (next_ && h_.pinpoints.empty()) refuse(in, "LLaVA-Next without image_grid_pinpoints");
    }

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return 0; }
    HfVocab read_vocab() const override { return {}; }

    bool dropped(const std::string& source) const override {
        if (layout_.is_text(source) || source.ends_with("embeddings.position_ids") ||
            source.starts_with(layout_.vision("post_layernorm.")))
            return true;
        // the blocks past vision_feature_layer (clip.cpp never runs them)
        const std::string blocks = layout_.vision("encoder.layers.");
        if (!source.starts_with(blocks)) return false;
        const std::string rest = source.substr(blocks.size());
        const size_t dot = rest.find('.');
        if (dot == 0 || dot == std::string::npos || rest.find_first_not_of("0123456789") != dot) return false;
        const unsigned long i = std::stoul(rest.substr(0, dot));
        return i >= h_.n_blocks && i < h_.n_layer;
    }

    std::vector<TensorPlan> plan() const override {
        const VisionHparams& h = h_;
        const uint64_t ve = h.n_embd, p = h.patch_size, te = h.n_text_embd;
        const uint64_t n_pos = uint64_t{h.image_size / h.patch_size} * (h.image_size / h.patch_size) + 1;
        std::vector<TensorPlan> t;
        t.push_back({"v.patch_embd.weight", layout_.vision("embeddings.patch_embedding.weight"), {ve, 3, p, p}});
        t.push_back({"v.class_embd", layout_.vision("embeddings.class_embedding"), {ve}, 0, true});
        t.push_back({"v.position_embd.weight", layout_.vision("embeddings.position_embedding.weight"), {n_pos, ve}, 0,
                     true});
        t.push_back({"v.pre_ln.weight", layout_.vision("pre_layrnorm.weight"), {ve}});
        t.push_back({"v.pre_ln.bias", layout_.vision("pre_layrnorm.bias"), {ve}});
        const auto src = [this](const std::string& s) { return layout_.vision(s); };
        for (uint32_t i = 0; i < h.n_blocks; ++i)
            plan_encoder_block(t, fmt::format("v.blk.{}.", i), fmt::format("encoder.layers.{}.", i),
                               mmproj_block_names, ve, h.n_ff, src);
        t.push_back({"mm.0.weight", layout_.projector("linear_1.weight"), {te, ve}});
        t.push_back({"mm.0.bias", layout_.projector("linear_1.bias"), {te}});
        t.push_back({"mm.2.weight", layout_.projector("linear_2.weight"), {te, te}});
        t.push_back({"mm.2.bias", layout_.projector("linear_2.bias"), {te}});
        if (next_) t.push_back({"v.image_newline", layout_.newline(), {te}, 0, true});
        return t;
    }

    void add_metadata(GgufWriter& w) const override {
        const VisionHparams& h = h_;
        w.add_bool("clip.has_vision_encoder", true);
        w.add_bool("clip.has_text_encoder", false);
        w.add_bool("clip.has_llava_projector", true);
        w.add_string("clip.projector_type", "mlp");
        w.add_bool("clip.use_gelu", h.gelu);
        w.add_u32("clip.vision.image_size", h.image_size);
        w.add_u32("clip.vision.patch_size", h.patch_size);
        w.add_u32("clip.vision.embedding_length", h.n_embd);
        w.add_u32("clip.vision.feed_forward_length", h.n_ff);
        w.add_u32("clip.vision.projection_dim", h.projection_dim);
        w.add_u32("clip.vision.attention.head_count", h.n_head);
        w.add_f32("clip.vision.attention.layer_norm_epsilon", h.norm_eps);
        w.add_u32("clip.vision.block_count", h.n_blocks);
        // clip.cpp's llava graph runs up to the deepest feature layer; without one it stops a block early
        w.add_i32s("clip.vision.feature_layer", {static_cast<int32_t>(h.n_blocks)});
        w.add_f32s("clip.vision.image_mean", h.mean);
        w.add_f32s("clip.vision.image_std", h.std);
        if (next_) {
            w.add_i32s("clip.vision.image_grid_pinpoints", h.pinpoints);
            w.add_string("clip.vision.mm_patch_merge_type", "spatial_unpad");
        }
    }

private:
    std::string arch_ = "clip";
    Layout layout_;
    VisionHparams h_;
    bool next_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_llava_architecture(const HfInput& in) {
    if (in.mmproj) return std::make_unique<LlavaMmprojArchitecture>(in);
    return std::make_unique<LlavaTextArchitecture>(in);
}

}  // namespace accel::model::detail
