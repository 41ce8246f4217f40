// CLIPModel as ggml graphs, from transformers' modeling_clip.py: the image tower is the shared ViT encoder
// (vit_encoder.h) with CLIP's pre-layernorm, no patch bias and quick_gelu, pooled at CLS after post_layernorm; the
// text tower is the same blocks under a causal mask over token and position embeddings, final layernorm, pooled at
// each text's first EOS. Both project, L2-normalize, and score exp(logit_scale) * cosine.
#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/clip_model.h"
#include "accel/model/clip_tokenizer.h"
#include "ggml_runtime.h"
#include "vit_encoder.h"

namespace accel::engine {

using graphs::GgufWeights;
using graphs::GraphRunner;
using graphs::VitHparams;

namespace {

void check_clip(const GgufWeights& w) {
    const std::string arch = w.architecture();
    if (arch != "clip_model")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a '{}' model, not a CLIP model (clip_model)",
                                                          w.file().string(), arch));
}

graphs::Activation read_activation(const GgufWeights& w) {
    const std::string act = w.find_string("clip_model.activation").value_or("quick_gelu");
    if (act == "quick_gelu") return graphs::Activation::quick_gelu;
    if (act == "gelu") return graphs::Activation::gelu_erf;
    throw Error(ErrorKind::invalid_input, fmt::format("{}: clip_model.activation '{}' (accel has quick_gelu and "
                                                      "gelu)", w.file().string(), act));
}

void l2_normalize(std::vector<float>& v, size_t dim) {
    for (size_t at = 0; at + dim <= v.size(); at += dim) {
        double s = 0;
        for (size_t i = 0; i < dim; ++i) s += double(v[at + i]) * v[at + i];
        const double n = std::sqrt(s);
        for (size_t i = 0; i < dim; ++i) v[at + i] = static_cast<float>(v[at + i] / n);
    }
}

}  // namespace

struct ClipModel::Impl {
    GraphRunner runner;
    GgufWeights weights;
    VitHparams vision, text;
    graphs::VitEncoderWeights vision_w;
    std::vector<graphs::VitBlock> text_blocks;
    ggml_tensor *v_proj = nullptr, *t_proj = nullptr, *token_embd = nullptr, *t_position = nullptr;
    ggml_tensor *t_norm_w = nullptr, *t_norm_b = nullptr;
    uint32_t n_vocab = 0, n_ctx = 0, eos = 0, dim = 0;
    float logit_scale = 0;
    media::ImageProcessorConfig processor;
    std::optional<model::ClipTokenizer> tokenizer;

    Impl(const std::filesystem::path& file, const VisionParams& params)
        : runner(params.device, params.n_threads), weights(file, runner.device(), check_clip) {}

    void read_tensors() {
        const GgufWeights& w = weights;
        vision_w = graphs::read_vit_encoder(w, vision, "v.");
        v_proj = w.tensor("v.proj.weight", {vision.n_embd, dim});
        const int64_t te = text.n_embd;
        token_embd = w.tensor("t.token_embd.weight", {te, n_vocab});
        t_position = w.tensor("t.position_embd.weight", {te, n_ctx}, true);
        text_blocks = graphs::read_encoder_blocks(w, text, "t.");
        t_norm_w = w.tensor("t.post_norm.weight", {te});
        t_norm_b = w.tensor("t.post_norm.bias", {te});
        t_proj = w.tensor("t.proj.weight", {te, dim});
        ggml_backend_tensor_get(w.tensor("logit_scale", {1}, true), &logit_scale, 0, sizeof logit_scale);
    }

    std::vector<float> embed_images(std::span<const media::PixelValues> images);
    std::vector<float> embed_texts(const std::vector<std::vector<int32_t>>& texts);
};

ClipModel::ClipModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClipModel::ClipModel(ClipModel&&) noexcept = default;
ClipModel& ClipModel::operator=(ClipModel&&) noexcept = default;
ClipModel::~ClipModel() = default;

ClipModel ClipModel::load(const std::filesystem::path& gguf, const VisionParams& params) {
    auto m = std::make_unique<Impl>(gguf, params);
    const GgufWeights& w = m->weights;
    m->vision = graphs::read_vit_hparams(w, "clip_model.vision");
    m->vision.act = read_activation(w);
    m->vision.pre_norm = true;
    m->vision.patch_bias = false;
    m->vision.flash_attn = m->runner.on_cpu();
    m->text = graphs::read_block_hparams(w, "clip_model.text");
    m->text.act = m->vision.act;
    m->n_vocab = w.get_u32("clip_model.text.vocab_size");
    m->n_ctx = w.get_u32("clip_model.text.context_length");
    m->eos = w.get_u32("clip_model.text.eos_token_id");
    m->dim = w.get_u32("clip_model.projection_dim");
    m->read_tensors();
    m->processor = media::parse_image_processor_config(
        w.find_string("clip_model.preprocessor_config").value_or(R"({"image_processor_type": "CLIPImageProcessor"})"),
        gguf.string() + " (clip_model.preprocessor_config)");
    if (auto v = graphs::read_clip_vocab(w, "clip_model", m->eos, m->n_vocab, gguf.string()))
        m->tokenizer.emplace(std::move(*v));
    return ClipModel(std::move(m));
}

const media::ImageProcessorConfig& ClipModel::processor() const { return impl_->processor; }
uint32_t ClipModel::image_size() const { return impl_->vision.image_size; }
uint32_t ClipModel::eos_token_id() const { return impl_->eos; }
uint32_t ClipModel::context_length() const { return impl_->n_ctx; }
VisionMemory ClipModel::memory() const {
    return {impl_->weights.buffer_bytes(), impl_->runner.compute_buffer_bytes()};
}

std::vector<float> ClipModel::embed_images(std::span<const media::PixelValues> images) {
    auto e = impl_->embed_images(images);
    l2_normalize(e, impl_->dim);
    return e;
}
bool ClipModel::has_tokenizer() const { return impl_->tokenizer.has_value(); }

std::vector<int32_t> ClipModel::tokenize(std::string_view text) const {
    if (!impl_->tokenizer)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: this CLIP GGUF has no tokenizer (convert it again from "
                                                          "a folder with vocab.json and merges.txt, or tokenizer.json)",
                                                          impl_->weights.file().string()));
    return impl_->tokenizer->encode(text);
}

std::vector<float> ClipModel::Impl::embed_images(std::span<const media::PixelValues> images) {
    graphs::PixelInput input(images, vision.image_size);
    ggml_tensor* out = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        ggml_tensor* hidden = graphs::build_vit_encoder(ctx, vision, vision_w, input.create(ctx));
        out = ggml_mul_mat(ctx, v_proj, graphs::cls_states(ctx, hidden));
        ggml_set_output(out);
        ggml_build_forward_expand(graph, out);
    };
    std::vector<float> embeds(size_t{dim} * images.size());
    runner.run(build, [&] { input.set(); }, [&] { ggml_backend_tensor_get(out, embeds.data(), 0, ggml_nbytes(out)); });
    return embeds;
}

std::vector<float> ClipModel::Impl::embed_texts(const std::vector<std::vector<int32_t>>& texts) {
    size_t n_tokens = 0;
    std::vector<int32_t> pooled;  // row of each text's first EOS in the [n_tokens * n_texts] token rows
    for (const auto& t : texts) {
        const auto eos_at = std::find(t.begin(), t.end(), static_cast<int32_t>(eos));
        if (t.size() > n_ctx || eos_at == t.end())
            throw Error(ErrorKind::invalid_input, fmt::format("a text of {} tokens: the model takes at most {}, ending "
                                                              "with EOS ({})", t.size(), n_ctx, eos));
        for (const int32_t id : t)
            if (id < 0 || static_cast<uint32_t>(id) >= n_vocab)
                throw Error(ErrorKind::invalid_input, fmt::format("token id {} is outside the vocabulary ({})", id,
                                                                  n_vocab));
        n_tokens = std::max(n_tokens, t.size());
    }
    std::vector<int32_t> ids(n_tokens * texts.size(), static_cast<int32_t>(eos));  // padded with EOS, as CLIP's
    for (size_t i = 0; i < texts.size(); ++i) {
        std::copy(texts[i].begin(), texts[i].end(), ids.begin() + static_cast<ptrdiff_t>(i * n_tokens));
        pooled.push_back(static_cast<int32_t>(i * n_tokens) +
                         static_cast<int32_t>(std::find(texts[i].begin(), texts[i].end(), int32_t(eos)) - texts[i].begin()));
    }
    const auto n_t = static_cast<int64_t>(n_tokens), n_texts = static_cast<int64_t>(texts.size());
    const int64_t e = text.n_embd;
    ggml_tensor *ids_t = nullptr, *rows_t = nullptr, *out = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        ids_t = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n_t * n_texts);
        rows_t = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n_texts);
        ggml_set_input(ids_t);
        ggml_set_input(rows_t);
        ggml_tensor* x = ggml_reshape_3d(ctx, ggml_get_rows(ctx, token_embd, ids_t), e, n_t, n_texts);
        x = ggml_add(ctx, x, ggml_view_2d(ctx, t_position, e, n_t, t_position->nb[1], 0));
        x = graphs::build_encoder_blocks(ctx, x, text_blocks, text, true);
        x = graphs::build_layer_norm(ctx, x, t_norm_w, t_norm_b, text.norm_eps);
        ggml_tensor* eos_states = ggml_get_rows(ctx, ggml_reshape_2d(ctx, x, e, n_t * n_texts), rows_t);
        out = ggml_mul_mat(ctx, t_proj, eos_states);
        ggml_set_output(out);
        ggml_build_forward_expand(graph, out);
    };
    auto set_inputs = [&] {
        ggml_backend_tensor_set(ids_t, ids.data(), 0, ggml_nbytes(ids_t));
        ggml_backend_tensor_set(rows_t, pooled.data(), 0, ggml_nbytes(rows_t));
    };
    std::vector<float> embeds(size_t{dim} * texts.size());
    runner.run(build, set_inputs, [&] { ggml_backend_tensor_get(out, embeds.data(), 0, ggml_nbytes(out)); });
    return embeds;
}

ClipOutput ClipModel::run(std::span<const media::PixelValues> images, const std::vector<std::vector<int32_t>>& texts) {
    if (images.empty() || texts.empty())
        throw Error(ErrorKind::invalid_input, "CLIP scores images against texts: give at least one of each");
    ClipOutput o{static_cast<uint32_t>(images.size()), static_cast<uint32_t>(texts.size()), impl_->dim, {}, {}, {}};
    o.image_embeds = impl_->embed_images(images);
    o.text_embeds = impl_->embed_texts(texts);
    l2_normalize(o.image_embeds, o.dim);
    l2_normalize(o.text_embeds, o.dim);
    const double scale = std::exp(double(impl_->logit_scale));
    for (size_t i = 0; i < o.n_images; ++i)
        for (size_t t = 0; t < o.n_texts; ++t) {
            double dot = 0;
            for (size_t d = 0; d < o.dim; ++d) dot += double(o.image_embeds[i * o.dim + d]) * o.text_embeds[t * o.dim + d];
            o.logits_per_image.push_back(static_cast<float>(scale * dot));
        }
    return o;
}

}  // namespace accel::engine
