#include "vit_encoder.h"

#include <cmath>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::engine::graphs {
namespace {

// x: [n_embd, n_tokens, batch] -> [head_dim, n_tokens, n_head, batch]
ggml_tensor* heads(ggml_context* ctx, ggml_tensor* x, const VitHparams& hp) {
    const int64_t d = hp.n_embd / hp.n_head;
    ggml_tensor* r = ggml_reshape_4d(ctx, x, d, hp.n_head, x->ne[1], x->ne[2]);
    return ggml_cont(ctx, ggml_permute(ctx, r, 0, 2, 1, 3));
}

// Unmasked attention as ggml_flash_attn_ext: q, k and v stay views of the projections (no copies for the heads, no
// score matrix), the result is already [n_embd, n_tokens, batch]. K and V are f32, so ggml's CPU kernel computes in
// f32 (its online softmax reorders the sums; the fixtures agree as before).
ggml_tensor* flash_attention(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, const VitHparams& hp) {
    const int64_t n_tokens = x->ne[1], batch = x->ne[2], d = hp.n_embd / hp.n_head;
    auto split = [&](ggml_tensor* t) {  // [n_embd, n_tokens, batch] -> view [d, n_tokens, n_head, batch]
        return ggml_permute(ctx, ggml_reshape_4d(ctx, t, d, hp.n_head, n_tokens, batch), 0, 2, 1, 3);
    };
    ggml_tensor* o = ggml_flash_attn_ext(
        ctx, split(build_linear(ctx, x, b.q_w, b.q_b)), split(build_linear(ctx, x, b.k_w, b.k_b)),
        split(build_linear(ctx, x, b.v_w, b.v_b)), nullptr, 1.0f / std::sqrt(static_cast<float>(d)), 0.0f, 0.0f);
    if (!ggml_prec_set_acc(o, GGML_PREC_F32))  // o: [d, n_head, n_tokens, batch]
        throw Error(ErrorKind::internal, "ggml refused f32 accumulation for flash attention");
    return build_linear(ctx, ggml_reshape_3d(ctx, o, hp.n_embd, n_tokens, batch), b.out_w, b.out_b);
}

ggml_tensor* attention(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, const VitHparams& hp, bool causal) {
    if (hp.flash_attn && !causal) return flash_attention(ctx, x, b, hp);
    const int64_t n_tokens = x->ne[1], batch = x->ne[2], d = hp.n_embd / hp.n_head;
    ggml_tensor* q = heads(ctx, build_linear(ctx, x, b.q_w, b.q_b), hp);
    ggml_tensor* k = heads(ctx, build_linear(ctx, x, b.k_w, b.k_b), hp);
    ggml_tensor* v = ggml_reshape_4d(ctx, build_linear(ctx, x, b.v_w, b.v_b), d, hp.n_head, n_tokens, batch);
    v = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3));                 // [n_tokens, d, n_head, batch]
    ggml_tensor* kq = ggml_mul_mat(ctx, k, q);                             // [n_tokens (k), n_tokens (q), n_head, batch]
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    if (causal) {
        kq = ggml_soft_max(ctx, ggml_diag_mask_inf(ctx, ggml_scale(ctx, kq, scale), 0));
    } else {
        kq = ggml_soft_max_ext(ctx, kq, nullptr, scale, 0.0f);
    }
    ggml_tensor* kqv = ggml_mul_mat(ctx, v, kq);                           // [d, n_tokens, n_head, batch]
    kqv = ggml_cont(ctx, ggml_permute(ctx, kqv, 0, 2, 1, 3));             // [d, n_head, n_tokens, batch]
    kqv = ggml_reshape_3d(ctx, kqv, hp.n_embd, n_tokens, batch);
    return build_linear(ctx, kqv, b.out_w, b.out_b);
}

ggml_tensor* activation(ggml_context* ctx, ggml_tensor* x, Activation act) {
    if (act == Activation::gelu_erf) return ggml_gelu_erf(ctx, x);
    // x * sigmoid(1.702 x) as silu(1.702 x) / 1.702: ggml_gelu_quick may use an f16 table (clip.cpp's does, at the
    // pin), and the CPU's sigmoid is scalar where its silu is vectorized
    constexpr float k = 1.702f;
    return ggml_scale(ctx, ggml_silu(ctx, ggml_scale(ctx, x, k)), 1.0f / k);
}

ggml_tensor* block(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, const VitHparams& hp, bool causal) {
    ggml_tensor* a = build_layer_norm(ctx, x, b.attn_norm_w, b.attn_norm_b, hp.norm_eps);
    x = ggml_add(ctx, x, attention(ctx, a, b, hp, causal));
    ggml_tensor* h = build_layer_norm(ctx, x, b.ffn_norm_w, b.ffn_norm_b, hp.norm_eps);
    h = build_linear(ctx, activation(ctx, build_linear(ctx, h, b.up_w, b.up_b), hp.act), b.down_w, b.down_b);
    return ggml_add(ctx, x, h);
}

}  // namespace

ggml_tensor* build_self_attention(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, const VitHparams& hp,
                                  bool causal) {
    return attention(ctx, x, b, hp, causal);
}

ggml_tensor* build_ffn(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, Activation act) {
    return build_linear(ctx, activation(ctx, build_linear(ctx, x, b.up_w, b.up_b), act), b.down_w, b.down_b);
}

ggml_tensor* build_linear(ggml_context* ctx, ggml_tensor* x, ggml_tensor* w, ggml_tensor* b) {
    ggml_tensor* y = ggml_mul_mat(ctx, w, x);
    return b == nullptr ? y : ggml_add(ctx, y, b);
}

ggml_tensor* build_layer_norm(ggml_context* ctx, ggml_tensor* x, ggml_tensor* w, ggml_tensor* b, float eps) {
    return ggml_add(ctx, ggml_mul(ctx, ggml_norm(ctx, x, eps), w), b);
}

ggml_tensor* build_encoder_blocks(ggml_context* ctx, ggml_tensor* x, const std::vector<VitBlock>& blocks,
                                  const VitHparams& hp, bool causal) {
    for (const auto& b : blocks) x = block(ctx, x, b, hp, causal);
    return x;
}

VitHparams read_block_hparams(const GgufWeights& w, const std::string& p) {
    VitHparams hp;
    hp.n_embd = w.get_u32(p + ".embedding_length");
    hp.n_ff = w.get_u32(p + ".feed_forward_length");
    hp.n_layer = w.get_u32(p + ".block_count");
    hp.n_head = w.get_u32(p + ".attention.head_count");
    hp.norm_eps = w.get_f32(p + ".attention.layer_norm_epsilon");
    if (hp.n_head == 0 || hp.n_embd % hp.n_head != 0 || hp.n_layer == 0 || hp.n_layer > 1024)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: inconsistent {}.* hyperparameters ({} heads of {} "
                                                          "dims, {} blocks)", w.file().string(), p, hp.n_head,
                                                          hp.n_embd, hp.n_layer));
    return hp;
}

VitHparams read_vit_hparams(const GgufWeights& w, const std::string& p) {
    VitHparams hp = read_block_hparams(w, p);
    hp.image_size = w.get_u32(p + ".image_size");
    hp.patch_size = w.get_u32(p + ".patch_size");
    hp.n_channels = w.get_u32(p + ".num_channels");
    if (hp.patch_size == 0 || hp.image_size % hp.patch_size != 0 || hp.n_channels != 3 || hp.image_size > 8192)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: inconsistent {}.* hyperparameters (image {}, patch {}, "
                                                          "{} channels)", w.file().string(), p, hp.image_size,
                                                          hp.patch_size, hp.n_channels));
    return hp;
}

std::vector<VitBlock> read_encoder_blocks(const GgufWeights& w, const VitHparams& hp, const std::string& prefix) {
    const int64_t e = hp.n_embd, ff = hp.n_ff;
    std::vector<VitBlock> blocks;
    for (uint32_t i = 0; i < hp.n_layer; ++i) {
        const std::string b = fmt::format("{}blk.{}.", prefix, i);
        auto t = [&](const char* name, std::vector<int64_t> ne) { return w.tensor(b + name, std::move(ne)); };
        blocks.push_back({t("attn_norm.weight", {e}), t("attn_norm.bias", {e}), t("attn_q.weight", {e, e}),
                          t("attn_q.bias", {e}), t("attn_k.weight", {e, e}), t("attn_k.bias", {e}),
                          t("attn_v.weight", {e, e}), t("attn_v.bias", {e}), t("attn_out.weight", {e, e}),
                          t("attn_out.bias", {e}), t("ffn_norm.weight", {e}), t("ffn_norm.bias", {e}),
                          t("ffn_up.weight", {e, ff}), t("ffn_up.bias", {ff}), t("ffn_down.weight", {ff, e}),
                          t("ffn_down.bias", {e})});
    }
    return blocks;
}

VitEncoderWeights read_vit_encoder(const GgufWeights& w, const VitHparams& hp, const std::string& prefix) {
    const int64_t e = hp.n_embd, p = hp.patch_size;
    VitEncoderWeights v{};
    v.patch_w = w.tensor(prefix + "patch_embd.weight", {p, p, hp.n_channels, e});
    v.patch_b = hp.patch_bias ? w.tensor(prefix + "patch_embd.bias", {e}) : nullptr;
    v.cls_token = w.tensor(prefix + "cls_token", {e}, true);
    v.position = w.tensor(prefix + "position_embd.weight", {e, hp.n_tokens()}, true);
    if (hp.pre_norm) {
        v.pre_norm_w = w.tensor(prefix + "pre_norm.weight", {e});
        v.pre_norm_b = w.tensor(prefix + "pre_norm.bias", {e});
    }
    v.blocks = read_encoder_blocks(w, hp, prefix);
    v.post_norm_w = w.tensor(prefix + "post_norm.weight", {e});
    v.post_norm_b = w.tensor(prefix + "post_norm.bias", {e});
    return v;
}

PixelInput::PixelInput(std::span<const media::PixelValues> images, uint32_t image_size)
    : images_(images), size_(image_size) {
    if (images.empty()) throw Error(ErrorKind::invalid_input, "no images to run");
    for (const auto& im : images)
        if (im.channels != 3 || im.height != size_ || im.width != size_ || im.data.size() != size_t{3} * size_ * size_)
            throw Error(ErrorKind::invalid_input, fmt::format("pixel values of {}x{}x{}: the model takes 3x{}x{}",
                                                              im.channels, im.height, im.width, size_, size_));
}

ggml_tensor* PixelInput::create(ggml_context* ctx) {
    tensor_ = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, size_, size_, 3, static_cast<int64_t>(images_.size()));
    ggml_set_input(tensor_);
    return tensor_;
}

void PixelInput::set() const {
    const size_t one = size_t{3} * size_ * size_ * sizeof(float);
    for (size_t i = 0; i < images_.size(); ++i) ggml_backend_tensor_set(tensor_, images_[i].data.data(), i * one, one);
}

ggml_tensor* cls_states(ggml_context* ctx, ggml_tensor* hidden) {
    return ggml_cont(ctx, ggml_view_2d(ctx, hidden, hidden->ne[0], hidden->ne[2], hidden->nb[2], 0));
}

ggml_tensor* build_vit_embeddings(ggml_context* ctx, const VitHparams& hp, const VitEncoderWeights& w,
                                  ggml_tensor* pixels) {
    const int p = static_cast<int>(hp.patch_size);
    const int64_t batch = pixels->ne[3], e = hp.n_embd;
    // [C*p*p, W/p, H/p, batch]: one row per patch, in row-major patch order (HF's flatten(2) of the conv output)
    ggml_tensor* cols = ggml_im2col(ctx, w.patch_w, pixels, p, p, 0, 0, 1, 1, true, GGML_TYPE_F32);
    const int64_t k = cols->ne[0], n_patches = cols->ne[1] * cols->ne[2];
    ggml_tensor* kernel = ggml_reshape_2d(ctx, w.patch_w, k, e);
    ggml_tensor* x = ggml_mul_mat(ctx, kernel, ggml_reshape_2d(ctx, cols, k, n_patches * batch));
    if (w.patch_b != nullptr) x = ggml_add(ctx, x, w.patch_b);
    x = ggml_reshape_3d(ctx, x, e, n_patches, batch);
    ggml_tensor* cls = ggml_repeat(ctx, ggml_reshape_3d(ctx, w.cls_token, e, 1, 1),
                                   ggml_new_tensor_3d(ctx, GGML_TYPE_F32, e, 1, batch));
    x = ggml_concat(ctx, cls, x, 1);
    x = ggml_add(ctx, x, w.position);
    if (hp.pre_norm) x = build_layer_norm(ctx, x, w.pre_norm_w, w.pre_norm_b, hp.norm_eps);
    return x;
}

ggml_tensor* build_vit_encoder(ggml_context* ctx, const VitHparams& hp, const VitEncoderWeights& w,
                               ggml_tensor* pixels) {
    ggml_tensor* x = build_encoder_blocks(ctx, build_vit_embeddings(ctx, hp, w, pixels), w.blocks, hp, false);
    return build_layer_norm(ctx, x, w.post_norm_w, w.post_norm_b, hp.norm_eps);
}

std::optional<model::ClipVocab> read_clip_vocab(const GgufWeights& w, const std::string& prefix, uint32_t eos,
                                                uint32_t n_vocab, const std::string& source) {
    const std::string key = prefix + ".tokenizer.";
    if (!w.has(key + "tokens")) return std::nullopt;
    model::ClipVocab v{.tokens = w.get_strings(key + "tokens"),
                       .merges = w.get_strings(key + "merges"),
                       .bos = static_cast<int32_t>(w.get_u32(key + "bos_token_id")),
                       .eos = static_cast<int32_t>(eos),
                       .unk = static_cast<int32_t>(w.get_u32(key + "unknown_token_id"))};
    if (v.tokens.size() != n_vocab)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: {}tokens has {} tokens, the model {}", source, key, v.tokens.size(), n_vocab));
    return v;
}

}  // namespace accel::engine::graphs
