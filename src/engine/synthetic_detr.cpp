// make-model detr: a DetrForObjectDetection of DETR-ResNet-50's shape with RANDOM WEIGHTS. It is written as a
// Hugging Face folder (config.json with transformers' ResNet-50 backbone config, model.safetensors,
// preprocessor_config.json with DetrImageProcessor's defaults) in a temporary directory and converted by
// model::convert_hf, so that the file is exactly what `accel convert` makes of such a checkpoint. Weights: each
// matrix and kernel N(0, 1/fan_in) (keeps activations in range through 53 convolutions), biases 0, layer and batch
// norm gains 1, running means 0 and variances 1, queries N(0, 1), from deterministic_rng.h (the same seed gives the
// same bytes with any standard library).
#include "synthetic_detr.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/model/hf_convert.h"
#include "deterministic_rng.h"

namespace accel::engine::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Tensor {
    std::string name;
    std::vector<uint64_t> shape;
    enum class Fill : uint8_t { normal_fan_in, normal, zeros, ones } fill;
};

constexpr uint32_t d_model = 256, n_queries = 100, n_labels = 91, n_ff = 2048, n_layers = 6;
constexpr std::array<uint32_t, 4> depths{3, 4, 6, 3}, widths{256, 512, 1024, 2048};

void conv_bn(std::vector<Tensor>& t, const std::string& p, uint64_t out, uint64_t in, uint64_t k) {
    t.push_back({p + ".convolution.weight", {out, in, k, k}, Tensor::Fill::normal_fan_in});
    t.push_back({p + ".normalization.weight", {out}, Tensor::Fill::ones});
    t.push_back({p + ".normalization.bias", {out}, Tensor::Fill::zeros});
    t.push_back({p + ".normalization.running_mean", {out}, Tensor::Fill::zeros});
    t.push_back({p + ".normalization.running_var", {out}, Tensor::Fill::ones});
}

void linear(std::vector<Tensor>& t, const std::string& p, uint64_t out, uint64_t in) {
    t.push_back({p + ".weight", {out, in}, Tensor::Fill::normal_fan_in});
    t.push_back({p + ".bias", {out}, Tensor::Fill::zeros});
}

void norm(std::vector<Tensor>& t, const std::string& p) {
    t.push_back({p + ".weight", {d_model}, Tensor::Fill::ones});
    t.push_back({p + ".bias", {d_model}, Tensor::Fill::zeros});
}

void attention(std::vector<Tensor>& t, const std::string& p) {
    for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"}) linear(t, p + "." + n, d_model, d_model);
}

std::vector<Tensor> tensors() {
    std::vector<Tensor> t;
    const std::string b = "model.backbone.conv_encoder.model.";
    conv_bn(t, b + "embedder.embedder", 64, 3, 7);
    uint64_t in = 64;
    for (size_t s = 0; s < depths.size(); ++s) {
        const uint64_t out = widths[s], mid = out / 4;
        for (uint32_t l = 0; l < depths[s]; ++l) {
            const std::string p = fmt::format("{}encoder.stages.{}.layers.{}.", b, s, l);
            if (l == 0) conv_bn(t, p + "shortcut", out, in, 1);  // every stage's first layer changes the channels
            conv_bn(t, p + "layer.0", mid, in, 1);
            conv_bn(t, p + "layer.1", mid, mid, 3);
            conv_bn(t, p + "layer.2", out, mid, 1);
            in = out;
        }
    }
    t.push_back({"model.input_projection.weight", {d_model, in, 1, 1}, Tensor::Fill::normal_fan_in});
    t.push_back({"model.input_projection.bias", {d_model}, Tensor::Fill::zeros});
    t.push_back({"model.query_position_embeddings.weight", {n_queries, d_model}, Tensor::Fill::normal});
    for (uint32_t i = 0; i < n_layers; ++i) {
        const std::string e = fmt::format("model.encoder.layers.{}.", i);
        attention(t, e + "self_attn");
        norm(t, e + "self_attn_layer_norm");
        linear(t, e + "fc1", n_ff, d_model);
        linear(t, e + "fc2", d_model, n_ff);
        norm(t, e + "final_layer_norm");
    }
    for (uint32_t i = 0; i < n_layers; ++i) {
        const std::string d = fmt::format("model.decoder.layers.{}.", i);
        attention(t, d + "self_attn");
        norm(t, d + "self_attn_layer_norm");
        attention(t, d + "encoder_attn");
        norm(t, d + "encoder_attn_layer_norm");
        linear(t, d + "fc1", n_ff, d_model);
        linear(t, d + "fc2", d_model, n_ff);
        norm(t, d + "final_layer_norm");
    }
    norm(t, "model.decoder.layernorm");
    linear(t, "class_labels_classifier", n_labels + 1, d_model);
    linear(t, "bbox_predictor.layers.0", d_model, d_model);
    linear(t, "bbox_predictor.layers.1", d_model, d_model);
    linear(t, "bbox_predictor.layers.2", 4, d_model);
    return t;
}

uint64_t n_elements(const Tensor& t) {
    uint64_t n = 1;
    for (const auto d : t.shape) n *= d;
    return n;
}

json config() {
    json labels = json::object(), ids = json::object();
    for (uint32_t i = 0; i < n_labels; ++i) {
        labels[std::to_string(i)] = fmt::format("label_{}", i);
        ids[fmt::format("label_{}", i)] = i;
    }
    return {{"architectures", {"DetrForObjectDetection"}}, {"model_type", "detr"}, {"use_timm_backbone", false},
            {"use_pretrained_backbone", false}, {"backbone", nullptr},
            {"backbone_config", {{"model_type", "resnet"}, {"layer_type", "bottleneck"}, {"embedding_size", 64},
                                 {"hidden_sizes", widths}, {"depths", depths}, {"hidden_act", "relu"},
                                 {"downsample_in_first_stage", false}, {"downsample_in_bottleneck", false},
                                 {"num_channels", 3}, {"out_features", {"stage4"}}}},
            {"d_model", d_model}, {"num_queries", n_queries}, {"encoder_layers", n_layers},
            {"decoder_layers", n_layers}, {"encoder_attention_heads", 8}, {"decoder_attention_heads", 8},
            {"encoder_ffn_dim", n_ff}, {"decoder_ffn_dim", n_ff}, {"activation_function", "relu"},
            {"position_embedding_type", "sine"}, {"dilation", false}, {"id2label", labels}, {"label2id", ids}};
}

void write_text(const fs::path& p, const std::string& text) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    if (f == nullptr) throw Error(ErrorKind::io, fmt::format("{}: cannot create", p.string()));
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", p.string()));
}

// model.safetensors: the JSON header, then each tensor's f32 values in order, drawn from one seeded generator.
uint64_t write_safetensors(const fs::path& p, const std::vector<Tensor>& ts, uint64_t seed) {
    json header = json::object();
    uint64_t at = 0, total = 0;
    for (const auto& t : ts) {
        const uint64_t bytes = n_elements(t) * 4;
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {at, at + bytes}}};
        at += bytes;
        total += n_elements(t);
    }
    std::string h = header.dump();
    h.resize((h.size() + 7) / 8 * 8, ' ');
    std::FILE* f = std::fopen(p.c_str(), "wb");
    if (f == nullptr) throw Error(ErrorKind::io, fmt::format("{}: cannot create", p.string()));
    const uint64_t n = h.size();
    bool ok = std::fwrite(&n, 8, 1, f) == 1 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
    Rng rng{seed};
    std::vector<float> v;
    for (const auto& t : ts) {
        v.assign(n_elements(t), 0.0f);
        const uint64_t fan_in = n_elements(t) / t.shape[0];
        const float scale = t.fill == Tensor::Fill::normal ? 1.0f : 1.0f / std::sqrt(static_cast<float>(fan_in));
        for (auto& x : v) {
            if (t.fill == Tensor::Fill::ones) x = 1.0f;
            else if (t.fill != Tensor::Fill::zeros) x = static_cast<float>(rng.normal()) * scale;
        }
        ok = ok && std::fwrite(v.data(), 4, v.size(), f) == v.size();
    }
    if (std::fclose(f) != 0 || !ok) throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", p.string()));
    return total;
}

model::ConvertType convert_type(WeightType t) {
    switch (t) {
        case WeightType::f32: return model::ConvertType::f32;
        case WeightType::f16: return model::ConvertType::f16;
        case WeightType::q8_0: return model::ConvertType::q8_0;
        case WeightType::q4_0: break;
    }
    throw Error(ErrorKind::invalid_input, "make-model detr writes f32, f16 or q8_0 (accel convert's types), not q4_0");
}

}  // namespace

SyntheticModel make_synthetic_detr(const SyntheticSpec& spec) {
    const model::ConvertType type = convert_type(spec.type);
    if (spec.out.empty()) throw Error(ErrorKind::invalid_input, "make-model needs --out FILE.gguf");
    // The folder's name becomes general.name (accel convert names the model after its folder).
    const std::string name = fmt::format("detr-resnet-50 RANDOM WEIGHTS seed {}", spec.seed);
    const fs::path work = fs::path(spec.out.string() + ".folder");
    const fs::path dir = work / name;
    std::error_code ec;
    fs::remove_all(work, ec);
    fs::create_directories(dir);
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code e;
            fs::remove_all(p, e);
        }
    } cleanup{work};
    write_text(dir / "config.json", config().dump(1));
    write_text(dir / "preprocessor_config.json",
               json{{"image_processor_type", "DetrImageProcessor"}, {"size", {{"shortest_edge", 800}, {"longest_edge", 1333}}}}.dump(1));
    SyntheticModel out;
    out.n_params = write_safetensors(dir / "model.safetensors", tensors(), spec.seed);
    model::convert_hf(dir, spec.out, {.type = type});
    out.path = spec.out;
    out.name = name;
    out.shape = {.n_vocab = 0, .n_embd = d_model, .n_layer = n_layers, .n_head = 8, .n_head_kv = 8, .n_ff = n_ff,
                 .n_ctx_train = 0};
    out.file_bytes = fs::file_size(spec.out);
    out.sha256 = sha256_file(spec.out);
    return out;
}

}  // namespace accel::engine::detail
