// DetrForObjectDetection -> GGUF "detr": accel's own architecture (llama.cpp has no detector), read by
// engine/graphs/detr.cpp. The ResNet backbone of transformers (use_timm_backbone false: ResNetConfig, basic or
// bottleneck layers) or of timm (use_timm_backbone true, the published facebook/detr-resnet-50 and -101: timm's
// plain resnet18/26/34/50/101/152, the same network under timm's parameter names) with its frozen batch norms
// stored as they are (weight, bias, running mean and variance; the graph folds them), the 1x1 input projection,
// the post-norm encoder and decoder, the object queries, the class and box heads. The labels (id2label) and preprocessor_config.json travel in the GGUF. Keys: docs/convert.md.
#include <algorithm>
#include <array>
#include <filesystem>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Stage {
    uint32_t depth = 0, channels = 0, stride = 2;
};

struct Hparams {
    bool timm = false;  // timm's parameter names (conv1, bn1, layer1.0.conv1, downsample.0)
    uint32_t n_embd = 0, n_queries = 0, n_channels = 3;
    uint32_t enc_layers = 0, enc_heads = 0, enc_ff = 0, dec_layers = 0, dec_heads = 0, dec_ff = 0;
    std::string layer_type;  // "basic" or "bottleneck"
    bool downsample_in_bottleneck = false;
    uint32_t stem_channels = 0;
    std::vector<Stage> stages;
    std::vector<std::string> labels;
    std::string preprocessor;
};

[[noreturn]] void refuse(const std::string& source, const std::string& why) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", source, why));
}

// c[key] (c is config.json's `object`): a list of 1 to 16 sizes, each 1 to 65536.
std::vector<uint32_t> read_sizes(const json& c, const char* object, const char* key, const std::string& source) {
    if (!c.contains(key) || !c[key].is_array() || c[key].empty() || c[key].size() > 16)
        refuse(source, fmt::format("{} has no list '{}'", object, key));
    std::vector<uint32_t> out;
    for (const auto& v : c[key]) {
        if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 65536)
            refuse(source, fmt::format("{}.{} holds a value that is not a positive size", object, key));
        out.push_back(v.get<uint32_t>());
    }
    return out;
}

// timm's plain ResNets (timm/models/resnet.py at 1.0.31): name, block, blocks per stage. The variants with a deep
// stem or average-pool downsampling (resnet50d, ...) have other tensors and are refused by name.
struct TimmResnet {
    const char* name;
    bool bottleneck;
    std::array<uint32_t, 4> layers;
};
constexpr std::array<TimmResnet, 6> timm_resnets{{{"resnet18", false, {2, 2, 2, 2}},
                                                  {"resnet26", true, {2, 2, 2, 2}},
                                                  {"resnet34", false, {3, 4, 6, 3}},
                                                  {"resnet50", true, {3, 4, 6, 3}},
                                                  {"resnet101", true, {3, 4, 23, 3}},
                                                  {"resnet152", true, {3, 8, 36, 3}}}};

// A list of four positive sizes in backbone_kwargs (timm's ResNet has four stages).
std::array<uint32_t, 4> read_four(const json& kw, const char* key, const std::string& source) {
    const auto v = read_sizes(kw, "backbone_kwargs", key, source);
    if (v.size() != 4)
        refuse(source, fmt::format("backbone_kwargs.{} has {} values, not 4 (timm's ResNet stages)", key, v.size()));
    return {v[0], v[1], v[2], v[3]};
}

// use_timm_backbone: timm.create_model(backbone, features_only=True, out_indices, in_chans, **backbone_kwargs) as
// transformers' DetrConvEncoder calls it. A stem of 64, a 7x7/2 convolution and a 3x3/2 max pool; stage s of
// `channels[s]` planes (out 4x for a bottleneck, whose 3x3 carries the stride), stride 1 then 2, 2, 2.
void read_timm_backbone(const json& c, Hparams& h, const std::string& source) {
    if (c.contains("backbone_config") && !c["backbone_config"].is_null())
        refuse(source, "use_timm_backbone is true and backbone_config is set: transformers refuses that pair too");
    const std::string full =
        c.contains("backbone") && c["backbone"].is_string() ? c["backbone"].get<std::string>() : "";
    const std::string name = full.substr(0, full.find('.'));  // "resnet50.a1_in1k": the tag names weights only
    const auto r =
        std::find_if(timm_resnets.begin(), timm_resnets.end(), [&](const auto& t) { return name == t.name; });
    if (r == timm_resnets.end())
        refuse(source, fmt::format("backbone '{}': accel converts timm's resnet18, resnet26, resnet34, resnet50, "
                                   "resnet101 and resnet152 (plain stem and downsampling)", full));
    std::array<uint32_t, 4> layers = r->layers, channels{64, 128, 256, 512};
    const json none = json::object();
    const json& kw = c.contains("backbone_kwargs") && c["backbone_kwargs"].is_object() ? c["backbone_kwargs"] : none;
    const std::string src = source + " (backbone_kwargs)";
    for (const auto& [key, v] : kw.items()) {
        if (key == "layers") {
            layers = read_four(kw, "layers", src);
        } else if (key == "channels") {
            channels = read_four(kw, "channels", src);
        } else if (key == "in_chans") {
            if (v != 3) refuse(src, "in_chans is not 3 (accel reads RGB images)");
        } else if (key == "out_indices") {
            if (!v.is_array() || v.empty() || v.back() != 4)
                refuse(src, "out_indices does not end with 4: DETR reads the last feature map, accel's is layer4's");
        } else if (key == "output_stride") {
            if (v != 32) refuse(src, "output_stride is not 32 (a dilated last stage, DETR-DC5): accel's DETR has none");
        } else {
            refuse(src, fmt::format("'{}' is a timm ResNet argument accel's DETR does not handle (it reads layers, "
                                    "channels, in_chans, out_indices and output_stride 32)", key));
        }
    }
    if (get_u32(c, "num_channels", source, 3) != 3) refuse(source, "num_channels is not 3 (accel reads RGB images)");
    h.timm = true;
    h.layer_type = r->bottleneck ? "bottleneck" : "basic";
    h.downsample_in_bottleneck = false;
    h.stem_channels = 64;
    for (size_t i = 0; i < 4; ++i)
        h.stages.push_back({layers[i], r->bottleneck ? 4 * channels[i] : channels[i], i == 0 ? 1u : 2u});
}

void read_backbone(const json& c, Hparams& h, const std::string& source) {
    if (c.value("use_timm_backbone", true)) return read_timm_backbone(c, h, source);
    if (!c.contains("backbone_config") || !c["backbone_config"].is_object())
        refuse(source, "no backbone_config object");
    const json& b = c["backbone_config"];
    const std::string src = source + " (backbone_config)";
    if (b.value("model_type", "") != "resnet")
        refuse(source, fmt::format("backbone model_type '{}': accel's DETR has a ResNet backbone only",
                                   b.value("model_type", "")));
    if (b.value("hidden_act", "relu") != "relu") refuse(src, "hidden_act is not relu");
    h.layer_type = b.value("layer_type", "bottleneck");
    if (h.layer_type != "basic" && h.layer_type != "bottleneck")
        refuse(src, fmt::format("layer_type '{}' is neither basic nor bottleneck", h.layer_type));
    h.downsample_in_bottleneck = b.value("downsample_in_bottleneck", false);
    h.stem_channels = get_u32(b, "embedding_size", src, 64);
    if (get_u32(b, "num_channels", src, 3) != 3) refuse(src, "num_channels is not 3 (accel reads RGB images)");
    const auto depths = read_sizes(b, "backbone_config", "depths", src),
               sizes = read_sizes(b, "backbone_config", "hidden_sizes", src);
    if (depths.size() != sizes.size()) refuse(src, "depths and hidden_sizes differ in length");
    const bool first_down = b.value("downsample_in_first_stage", false);
    for (size_t i = 0; i < depths.size(); ++i)
        h.stages.push_back({depths[i], sizes[i], i == 0 && !first_down ? 1u : 2u});
    // DetrModel uses the last feature map: it must be the last stage's
    const std::string last = fmt::format("stage{}", depths.size());
    if (!b.contains("out_features") || !b["out_features"].is_array() || b["out_features"].empty() ||
        b["out_features"].back() != last)
        refuse(src, fmt::format("out_features does not end with {}, the last stage", last));
}

Hparams read_hparams(const HfInput& in) {
    const json& c = in.config;
    const std::string& source = in.config_source;
    Hparams h;
    read_backbone(c, h, source);
    h.n_embd = get_u32(c, "d_model", source, 256);
    h.n_queries = get_u32(c, "num_queries", source, 100);
    h.enc_layers = get_u32(c, "encoder_layers", source, 6);
    h.enc_heads = get_u32(c, "encoder_attention_heads", source, 8);
    h.enc_ff = get_u32(c, "encoder_ffn_dim", source, 2048);
    h.dec_layers = get_u32(c, "decoder_layers", source, 6);
    h.dec_heads = get_u32(c, "decoder_attention_heads", source, 8);
    h.dec_ff = get_u32(c, "decoder_ffn_dim", source, 2048);
    if (h.n_embd % h.enc_heads != 0 || h.n_embd % h.dec_heads != 0 || h.n_embd % 4 != 0)
        refuse(source, fmt::format("d_model {} is not a multiple of the head counts and of 4", h.n_embd));
    if (c.value("activation_function", "relu") != "relu")
        refuse(source, "activation_function is not relu: accel's DETR has the ReLU feed-forward only");
    if (c.value("position_embedding_type", "sine") != "sine")
        refuse(source, "position_embedding_type is not sine: accel's DETR has the sine position embedding only");
    if (c.contains("dilation") && c["dilation"].is_boolean() && c["dilation"].get<bool>())
        refuse(source, "dilation is true (DETR-DC5): accel's DETR has no dilated last stage");
    h.labels = read_labels(c, source);
    const fs::path pre = in.dir / "preprocessor_config.json";
    if (fs::exists(pre)) h.preprocessor = read_text_file(pre, 1u << 20);
    return h;
}

const std::string backbone_src = "model.backbone.conv_encoder.model.";

// One convolution without bias and its frozen batch norm: <to>.weight and <to>.bn.{weight,bias,mean,var}, from
// the checkpoint's <conv>.weight and <bn>.{weight,bias,running_mean,running_var} (under backbone_src).
void plan_conv_bn(std::vector<TensorPlan>& p, const std::string& to, const std::string& conv, const std::string& bn,
                  uint64_t out, uint64_t in, uint64_t k) {
    p.push_back({to + ".weight", backbone_src + conv + ".weight", {out, in, k, k}});
    const std::string n = backbone_src + bn + ".";
    for (const auto& [g, hf] : {std::pair{"weight", "weight"}, {"bias", "bias"}, {"mean", "running_mean"},
                                {"var", "running_var"}})
        p.push_back({fmt::format("{}.bn.{}", to, g), n + hf, {out}});
}

// transformers' ResNet names a convolution <x>.convolution and its norm <x>.normalization; timm's are conv<k> and
// bn<k>, downsample.0 and downsample.1, conv1 and bn1 for the stem.
void plan_conv_bn(std::vector<TensorPlan>& p, const Hparams& h, const std::string& to, const std::string& hf,
                  const std::string& timm, uint64_t out, uint64_t in, uint64_t k) {
    if (!h.timm) return plan_conv_bn(p, to, hf + ".convolution", hf + ".normalization", out, in, k);
    if (timm.ends_with("downsample")) return plan_conv_bn(p, to, timm + ".0", timm + ".1", out, in, k);
    const auto at = timm.rfind("conv");  // <prefix>conv<k> is normalized by <prefix>bn<k>
    plan_conv_bn(p, to, timm, timm.substr(0, at) + "bn" + timm.substr(at + 4), out, in, k);
}

void plan_backbone(std::vector<TensorPlan>& p, const Hparams& h) {
    plan_conv_bn(p, h, "backbone.stem", "embedder.embedder", "conv1", h.stem_channels, 3, 7);
    uint64_t in = h.stem_channels;
    const bool basic = h.layer_type == "basic";
    for (size_t s = 0; s < h.stages.size(); ++s) {
        const uint64_t out = h.stages[s].channels, mid = basic ? out : out / 4;
        for (uint32_t l = 0; l < h.stages[s].depth; ++l) {
            const std::string to = fmt::format("backbone.{}.{}.", s, l);
            const std::string from = fmt::format("encoder.stages.{}.layers.{}.", s, l);
            const std::string timm = fmt::format("layer{}.{}.", s + 1, l);
            const uint64_t stride = l == 0 ? h.stages[s].stride : 1;
            if (in != out || stride != 1)
                plan_conv_bn(p, h, to + "shortcut", from + "shortcut", timm + "downsample", out, in, 1);
            if (basic) {
                plan_conv_bn(p, h, to + "conv.0", from + "layer.0", timm + "conv1", out, in, 3);
                plan_conv_bn(p, h, to + "conv.1", from + "layer.1", timm + "conv2", out, out, 3);
            } else {
                plan_conv_bn(p, h, to + "conv.0", from + "layer.0", timm + "conv1", mid, in, 1);
                plan_conv_bn(p, h, to + "conv.1", from + "layer.1", timm + "conv2", mid, mid, 3);
                plan_conv_bn(p, h, to + "conv.2", from + "layer.2", timm + "conv3", out, mid, 1);
            }
            in = out;
        }
    }
}

void plan_attention(std::vector<TensorPlan>& p, const std::string& to, const std::string& from, uint64_t e) {
    for (const auto& [g, hf] : {std::pair{"q", "q_proj"}, {"k", "k_proj"}, {"v", "v_proj"}, {"out", "out_proj"}}) {
        p.push_back({fmt::format("{}_{}.weight", to, g), fmt::format("{}.{}.weight", from, hf), {e, e}});
        p.push_back({fmt::format("{}_{}.bias", to, g), fmt::format("{}.{}.bias", from, hf), {e}});
    }
}

void plan_norm(std::vector<TensorPlan>& p, const std::string& to, const std::string& from, uint64_t e) {
    p.push_back({to + ".weight", from + ".weight", {e}});
    p.push_back({to + ".bias", from + ".bias", {e}});
}

void plan_ffn(std::vector<TensorPlan>& p, const std::string& blk, const std::string& layer, uint64_t e, uint64_t ff) {
    p.push_back({blk + "ffn_up.weight", layer + "fc1.weight", {ff, e}});
    p.push_back({blk + "ffn_up.bias", layer + "fc1.bias", {ff}});
    p.push_back({blk + "ffn_down.weight", layer + "fc2.weight", {e, ff}});
    p.push_back({blk + "ffn_down.bias", layer + "fc2.bias", {e}});
    plan_norm(p, blk + "ffn_norm", layer + "final_layer_norm", e);
}

class DetrArchitecture final : public HfArchitecture {
public:
    explicit DetrArchitecture(const HfInput& in) : h_(read_hparams(in)) {}

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return 0; }
    HfVocab read_vocab() const override { return {}; }

    // Checkpoints saved from a trainable BatchNorm2d keep its counter; the frozen batch norm drops it.
    bool dropped(const std::string& source) const override { return source.ends_with(".num_batches_tracked"); }

    std::vector<TensorPlan> plan() const override {
        const Hparams& h = h_;
        const uint64_t e = h.n_embd;
        std::vector<TensorPlan> p;
        plan_backbone(p, h);
        p.push_back({"input_proj.weight", "model.input_projection.weight", {e, h.stages.back().channels, 1, 1}});
        p.push_back({"input_proj.bias", "model.input_projection.bias", {e}});
        p.push_back({"query_embd.weight", "model.query_position_embeddings.weight", {h.n_queries, e}, 0, true});
        for (uint32_t i = 0; i < h.enc_layers; ++i) {
            const std::string b = fmt::format("enc.blk.{}.", i), l = fmt::format("model.encoder.layers.{}.", i);
            plan_attention(p, b + "attn", l + "self_attn", e);
            plan_norm(p, b + "attn_norm", l + "self_attn_layer_norm", e);
            plan_ffn(p, b, l, e, h.enc_ff);
        }
        for (uint32_t i = 0; i < h.dec_layers; ++i) {
            const std::string b = fmt::format("dec.blk.{}.", i), l = fmt::format("model.decoder.layers.{}.", i);
            plan_attention(p, b + "attn", l + "self_attn", e);
            plan_norm(p, b + "attn_norm", l + "self_attn_layer_norm", e);
            plan_attention(p, b + "cross", l + "encoder_attn", e);
            plan_norm(p, b + "cross_norm", l + "encoder_attn_layer_norm", e);
            plan_ffn(p, b, l, e, h.dec_ff);
        }
        plan_norm(p, "dec.post_norm", "model.decoder.layernorm", e);
        const auto n_classes = static_cast<uint64_t>(h.labels.size()) + 1;  // + "no object"
        p.push_back({"cls.weight", "class_labels_classifier.weight", {n_classes, e}});
        p.push_back({"cls.bias", "class_labels_classifier.bias", {n_classes}});
        for (int i = 0; i < 3; ++i) {
            const uint64_t rows = i == 2 ? 4 : e;
            p.push_back({fmt::format("bbox.{}.weight", i), fmt::format("bbox_predictor.layers.{}.weight", i), {rows, e}});
            p.push_back({fmt::format("bbox.{}.bias", i), fmt::format("bbox_predictor.layers.{}.bias", i), {rows}});
        }
        return p;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        w.add_u32("detr.embedding_length", h.n_embd);
        w.add_u32("detr.query_count", h.n_queries);
        w.add_u32("detr.encoder.block_count", h.enc_layers);
        w.add_u32("detr.encoder.attention.head_count", h.enc_heads);
        w.add_u32("detr.encoder.feed_forward_length", h.enc_ff);
        w.add_u32("detr.decoder.block_count", h.dec_layers);
        w.add_u32("detr.decoder.attention.head_count", h.dec_heads);
        w.add_u32("detr.decoder.feed_forward_length", h.dec_ff);
        w.add_f32("detr.attention.layer_norm_epsilon", 1e-5f);  // nn.LayerNorm's default, which DETR keeps
        w.add_string("detr.backbone.layer_type", h.layer_type);
        w.add_u32("detr.backbone.stride_in_first_conv", h.downsample_in_bottleneck ? 1 : 0);
        w.add_u32("detr.backbone.embedding_size", h.stem_channels);
        w.add_u32("detr.backbone.stage_count", static_cast<uint32_t>(h.stages.size()));
        for (size_t s = 0; s < h.stages.size(); ++s) {
            w.add_u32(fmt::format("detr.backbone.stage.{}.block_count", s), h.stages[s].depth);
            w.add_u32(fmt::format("detr.backbone.stage.{}.channels", s), h.stages[s].channels);
            w.add_u32(fmt::format("detr.backbone.stage.{}.stride", s), h.stages[s].stride);
        }
        w.add_f32("detr.backbone.batch_norm_epsilon", 1e-5f);  // DetrFrozenBatchNorm2d's fixed epsilon
        w.add_strings("detr.labels", h.labels);
        if (!h.preprocessor.empty()) w.add_string("detr.preprocessor_config", h.preprocessor);
    }

private:
    std::string arch_ = "detr";
    Hparams h_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_detr_architecture(const HfInput& in) {
    return std::make_unique<DetrArchitecture>(in);
}

}  // namespace accel::model::detail
