// ViTForImageClassification -> GGUF "vit": accel's own architecture (llama.cpp has no ViT classifier), read by
// engine/graphs/vit.cpp. The keys and tensor names are listed in docs/convert.md. The labels (config.json's
// id2label, in id order) and the image processor's settings (preprocessor_config.json, stored verbatim) travel in
// the GGUF, so that `accel infer` needs nothing else.
#include <filesystem>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"

namespace accel::model::detail {

std::vector<std::string> read_labels(const nlohmann::json& c, const std::string& source) {
    if (!c.contains("id2label") || !c["id2label"].is_object() || c["id2label"].empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no id2label (a classifier needs its labels)", source));
    const nlohmann::json& m = c["id2label"];
    std::vector<std::string> labels(m.size());
    for (const auto& [id, label] : m.items()) {
        size_t used = 0;
        unsigned long i = 0;
        try {
            i = std::stoul(id, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != id.size() || i >= labels.size() || !label.is_string() || !labels[i].empty())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: id2label is not one string for each id 0 to {}",
                                                              source, labels.size() - 1));
        labels[i] = label.get<std::string>();
    }
    return labels;
}

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Hparams {
    uint32_t image_size = 0, patch_size = 0, n_channels = 3, n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0;
    float norm_eps = 1e-12f;  // ViTConfig's default layer_norm_eps
    std::vector<std::string> labels;
    std::string preprocessor;  // preprocessor_config.json's text, "" when the folder has none
};

Hparams read_hparams(const HfInput& in) {
    const json& c = in.config;
    const std::string& source = in.config_source;
    Hparams h;
    h.image_size = get_u32(c, "image_size", source, 224);
    h.patch_size = get_u32(c, "patch_size", source, 16);
    h.n_channels = get_u32(c, "num_channels", source, 3);
    h.n_embd = get_u32(c, "hidden_size", source);
    h.n_ff = get_u32(c, "intermediate_size", source);
    h.n_layer = get_u32(c, "num_hidden_layers", source);
    h.n_head = get_u32(c, "num_attention_heads", source);
    if (const auto eps = get_f32(c, "layer_norm_eps")) h.norm_eps = *eps;
    if (h.n_embd % h.n_head != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: hidden_size {} is not a multiple of "
                                                          "num_attention_heads {}", source, h.n_embd, h.n_head));
    if (h.image_size % h.patch_size != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: image_size {} is not a multiple of patch_size {}",
                                                          source, h.image_size, h.patch_size));
    if (h.n_channels != 3)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: num_channels {}: accel's ViT reads RGB images (3)",
                                                          source, h.n_channels));
    const std::string act = c.value("hidden_act", "gelu");
    if (act != "gelu")
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: hidden_act '{}': accel's ViT has the exact (erf) GELU only", source, act));
    if (!c.value("qkv_bias", true))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: qkv_bias false: accel's ViT needs the biases", source));
    h.labels = read_labels(c, source);
    const fs::path pre = in.dir / "preprocessor_config.json";
    if (fs::exists(pre)) h.preprocessor = read_text_file(pre, 1u << 20);
    return h;
}

class VitArchitecture final : public HfArchitecture {
public:
    explicit VitArchitecture(const HfInput& in) : h_(read_hparams(in)) {}

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return 0; }
    HfVocab read_vocab() const override { return {}; }

    bool dropped(const std::string& source) const override { return source.starts_with("vit.pooler."); }

    std::vector<TensorPlan> plan() const override {
        const Hparams& h = h_;
        const uint64_t n_patches = uint64_t{h.image_size / h.patch_size} * (h.image_size / h.patch_size);
        std::vector<TensorPlan> p;
        p.push_back({"patch_embd.weight", "vit.embeddings.patch_embeddings.projection.weight",
                     {h.n_embd, h.n_channels, h.patch_size, h.patch_size}});
        p.push_back({"patch_embd.bias", "vit.embeddings.patch_embeddings.projection.bias", {h.n_embd}});
        p.push_back({"cls_token", "vit.embeddings.cls_token", {1, 1, h.n_embd}, 0, true});
        p.push_back({"position_embd.weight", "vit.embeddings.position_embeddings", {1, n_patches + 1, h.n_embd}, 0,
                     true});
        for (uint32_t i = 0; i < h.n_layer; ++i) {
            const std::string b = fmt::format("blk.{}.", i), l = fmt::format("vit.encoder.layer.{}.", i);
            static const EncoderBlockNames names{
                {{{"attn_q", "attention.attention.query"}, {"attn_k", "attention.attention.key"},
                  {"attn_v", "attention.attention.value"}, {"attn_out", "attention.output.dense"},
                  {"ffn_up", "intermediate.dense"}, {"ffn_down", "output.dense"}}},
                {{{"attn_norm", "layernorm_before"}, {"ffn_norm", "layernorm_after"}}}};
            plan_encoder_block(p, b, l, names, h.n_embd, h.n_ff, [](const std::string& s) { return s; });
        }
        p.push_back({"post_norm.weight", "vit.layernorm.weight", {h.n_embd}});
        p.push_back({"post_norm.bias", "vit.layernorm.bias", {h.n_embd}});
        const auto n_labels = static_cast<uint64_t>(h.labels.size());
        p.push_back({"cls.weight", "classifier.weight", {n_labels, h.n_embd}});
        p.push_back({"cls.bias", "classifier.bias", {n_labels}});
        return p;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        w.add_u32("vit.image_size", h.image_size);
        w.add_u32("vit.patch_size", h.patch_size);
        w.add_u32("vit.num_channels", h.n_channels);
        w.add_u32("vit.embedding_length", h.n_embd);
        w.add_u32("vit.feed_forward_length", h.n_ff);
        w.add_u32("vit.block_count", h.n_layer);
        w.add_u32("vit.attention.head_count", h.n_head);
        w.add_f32("vit.attention.layer_norm_epsilon", h.norm_eps);
        w.add_strings("vit.labels", h.labels);
        if (!h.preprocessor.empty()) w.add_string("vit.preprocessor_config", h.preprocessor);
    }

private:
    std::string arch_ = "vit";
    Hparams h_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_vit_architecture(const HfInput& in) { return std::make_unique<VitArchitecture>(in); }

}  // namespace accel::model::detail
