// DetrForObjectDetection as a ggml graph, from transformers' modeling_detr.py and modeling_resnet.py:
// - the ResNet backbone (ResNetEmbeddings: 7x7/2 convolution, frozen batch norm, ReLU, 3x3/2 max pool; stages of
//   basic or bottleneck layers with a projection shortcut where the shape changes), kept channels-last
//   ([C, W, H, N]) so that a 1x1 convolution is one matmul and a kxk one is im2col + one matmul;
// - DetrFrozenBatchNorm2d: x * w / sqrt(var + 1e-5) + (b - mean * scale), from the stored statistics;
// - the 1x1 input projection, whose channels-last output is already the encoder's [d_model, tokens, N];
// - the sine position embedding and the feature-level mask (nearest interpolation of pixel_mask), computed on the
//   host since they depend on the mask only;
// - the post-norm encoder (queries and keys get the position embedding, values do not; padded pixels masked as
//   keys), the post-norm decoder over object queries (zeros plus the learned query embedding), its final layernorm;
// - the class head and the 3-layer box MLP with its sigmoid.
#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "detr_graph.h"
#include "ggml_runtime.h"
#include "vit_encoder.h"

namespace accel::engine::graphs {
namespace {

ggml_tensor* linear(ggml_context* ctx, ggml_tensor* x, const Linear& l) {
    return ggml_add(ctx, ggml_mul_mat(ctx, l.w, x), l.b);
}

ggml_tensor* batch_norm(ggml_context* ctx, ggml_tensor* x, const ConvBn& c, float eps) {
    ggml_tensor* scale = ggml_div(ctx, c.bn_w, ggml_sqrt(ctx, ggml_scale_bias(ctx, c.bn_var, 1.0f, eps)));
    ggml_tensor* shift = ggml_sub(ctx, c.bn_b, ggml_mul(ctx, c.bn_mean, scale));
    return ggml_add(ctx, ggml_mul(ctx, x, scale), shift);
}

// [C, W, H, N] <-> [W, H, C, N]
ggml_tensor* to_planar(ggml_context* ctx, ggml_tensor* x) { return ggml_cont(ctx, ggml_permute(ctx, x, 2, 0, 1, 3)); }
ggml_tensor* to_channels_last(ggml_context* ctx, ggml_tensor* x) {
    return ggml_cont(ctx, ggml_permute(ctx, x, 1, 2, 0, 3));
}

// Convolution without bias, then the frozen batch norm. x: channels-last [C, W, H, N], or planar [W, H, C, N] when
// `planar` (the image). Returns channels-last [OC, OW, OH, N].
ggml_tensor* conv_bn(ggml_context* ctx, ggml_tensor* x, const ConvBn& c, float eps, bool planar = false) {
    const int k = static_cast<int>(c.w->ne[0]), s = static_cast<int>(c.stride), p = k / 2;
    ggml_tensor* cols = nullptr;
    if (k == 1 && !planar) {
        if (s > 1)
            x = ggml_cont(ctx, ggml_view_4d(ctx, x, x->ne[0], (x->ne[1] - 1) / s + 1, (x->ne[2] - 1) / s + 1, x->ne[3],
                                            x->nb[1] * s, x->nb[2] * s, x->nb[3], 0));
        cols = x;
    } else {
        cols = ggml_im2col(ctx, c.w, planar ? x : to_planar(ctx, x), s, s, p, p, 1, 1, true, GGML_TYPE_F32);
    }
    const int64_t n_k = cols->ne[0], oc = c.w->ne[3];
    ggml_tensor* y = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, c.w, n_k, oc),
                                  ggml_reshape_2d(ctx, cols, n_k, cols->ne[1] * cols->ne[2] * cols->ne[3]));
    y = ggml_reshape_4d(ctx, y, oc, cols->ne[1], cols->ne[2], cols->ne[3]);
    return batch_norm(ctx, y, c, eps);
}

ggml_tensor* res_block(ggml_context* ctx, ggml_tensor* x, const ResBlock& b, float eps) {
    ggml_tensor* h = x;
    for (size_t i = 0; i < b.convs.size(); ++i) {
        h = conv_bn(ctx, h, b.convs[i], eps);
        if (i + 1 < b.convs.size()) h = ggml_relu(ctx, h);
    }
    ggml_tensor* r = b.has_shortcut ? conv_bn(ctx, x, b.shortcut, eps) : x;
    return ggml_relu(ctx, ggml_add(ctx, h, r));
}

ggml_tensor* backbone(ggml_context* ctx, ggml_tensor* pixels, const DetrWeights& w, float eps) {
    ggml_tensor* x = ggml_relu(ctx, conv_bn(ctx, pixels, w.stem, eps, true));
    x = ggml_pool_2d(ctx, to_planar(ctx, x), GGML_OP_POOL_MAX, 3, 3, 2, 2, 1, 1);
    x = to_channels_last(ctx, x);
    for (const auto& b : w.blocks) x = res_block(ctx, x, b, eps);
    return x;
}

// Multi-head attention: q_in [d, Tq, N], k_in and v_in [d, Tk, N]; mask [Tk, Tq, 1, N] (0 or -inf) or null.
ggml_tensor* attention(ggml_context* ctx, ggml_tensor* q_in, ggml_tensor* k_in, ggml_tensor* v_in,
                       const Attention& a, uint32_t n_head, ggml_tensor* mask) {
    const int64_t d = q_in->ne[0], dh = d / n_head, tq = q_in->ne[1], tk = k_in->ne[1], n = q_in->ne[2];
    auto heads = [&](ggml_tensor* x, int64_t t) {  // [d, t, N] -> [dh, t, H, N]
        return ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, x, dh, n_head, t, n), 0, 2, 1, 3));
    };
    ggml_tensor* q = heads(linear(ctx, q_in, a.q), tq);
    ggml_tensor* k = heads(linear(ctx, k_in, a.k), tk);
    ggml_tensor* v = ggml_reshape_4d(ctx, linear(ctx, v_in, a.v), dh, n_head, tk, n);
    v = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3));  // [Tk, dh, H, N]
    ggml_tensor* kq = ggml_mul_mat(ctx, k, q);             // [Tk, Tq, H, N]
    kq = ggml_soft_max_ext(ctx, kq, mask, 1.0f / std::sqrt(static_cast<float>(dh)), 0.0f);
    ggml_tensor* kqv = ggml_mul_mat(ctx, v, kq);  // [dh, Tq, H, N]
    kqv = ggml_cont(ctx, ggml_permute(ctx, kqv, 0, 2, 1, 3));
    return linear(ctx, ggml_reshape_3d(ctx, kqv, d, tq, n), a.out);
}

ggml_tensor* norm(ggml_context* ctx, ggml_tensor* x, const Norm& n, float eps) {
    return build_layer_norm(ctx, x, n.w, n.b, eps);
}

ggml_tensor* ffn(ggml_context* ctx, ggml_tensor* x, const Ffn& f, float eps) {
    ggml_tensor* h = linear(ctx, ggml_relu(ctx, linear(ctx, x, f.up)), f.down);
    return norm(ctx, ggml_add(ctx, x, h), f.norm, eps);
}

ggml_tensor* encoder(ggml_context* ctx, ggml_tensor* x, ggml_tensor* pos, ggml_tensor* mask, const DetrWeights& w,
                     const DetrHparams& hp) {
    for (const auto& l : w.enc) {
        ggml_tensor* qk = ggml_add(ctx, x, pos);
        x = norm(ctx, ggml_add(ctx, x, attention(ctx, qk, qk, x, l.attn, hp.enc_heads, mask)), l.attn_norm, hp.ln_eps);
        x = ffn(ctx, x, l.ffn, hp.ln_eps);
    }
    return x;
}

ggml_tensor* decoder(ggml_context* ctx, ggml_tensor* memory, ggml_tensor* pos, ggml_tensor* mask,
                     const DetrWeights& w, const DetrHparams& hp) {
    const int64_t n = memory->ne[2];
    ggml_tensor* qpos = w.query;  // [d, Q], broadcast over the batch
    ggml_tensor* tgt = ggml_scale(ctx, ggml_repeat(ctx, qpos, ggml_new_tensor_3d(ctx, GGML_TYPE_F32, hp.n_embd,
                                                                                 hp.n_queries, n)), 0.0f);
    ggml_tensor* keys = ggml_add(ctx, memory, pos);
    for (const auto& l : w.dec) {
        ggml_tensor* qk = ggml_add(ctx, tgt, qpos);
        tgt = norm(ctx, ggml_add(ctx, tgt, attention(ctx, qk, qk, tgt, l.self, hp.dec_heads, nullptr)), l.self_norm,
                   hp.ln_eps);
        ggml_tensor* q = ggml_add(ctx, tgt, qpos);
        tgt = norm(ctx, ggml_add(ctx, tgt, attention(ctx, q, keys, memory, l.cross, hp.dec_heads, mask)), l.cross_norm,
                   hp.ln_eps);
        tgt = ffn(ctx, tgt, l.ffn, hp.ln_eps);
    }
    return norm(ctx, tgt, w.dec_norm, hp.ln_eps);
}

}  // namespace

uint32_t detr_feature_size(uint32_t pixels, const DetrHparams& hp) {
    uint32_t s = (pixels + 2 * 3 - 7) / 2 + 1;  // stem convolution
    s = (s + 2 * 1 - 3) / 2 + 1;                // max pool
    for (const auto& st : hp.stages) s = (s - 1) / st.stride + 1;
    return s;
}

DetrGraphOutputs build_detr(ggml_context* ctx, const DetrHparams& hp, const DetrWeights& w, const DetrGraphInputs& in) {
    ggml_tensor* features = backbone(ctx, in.pixels, w, hp.bn_eps);  // [C, w, h, N]
    ggml_tensor* x = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, w.input_proj.w, features->ne[0], hp.n_embd),
                                  ggml_reshape_2d(ctx, features, features->ne[0],
                                                  features->ne[1] * features->ne[2] * features->ne[3]));
    x = ggml_add(ctx, x, w.input_proj.b);
    const int64_t n_tokens = features->ne[1] * features->ne[2];
    if (n_tokens != in.pos->ne[1])
        throw Error(ErrorKind::internal, fmt::format("DETR: the backbone gives {}x{} features, the host computed {} "
                                                     "tokens", features->ne[1], features->ne[2], in.pos->ne[1]));
    x = ggml_reshape_3d(ctx, x, hp.n_embd, n_tokens, features->ne[3]);
    ggml_tensor* memory = encoder(ctx, x, in.pos, in.enc_mask, w, hp);
    ggml_tensor* h = decoder(ctx, memory, in.pos, in.cross_mask, w, hp);
    DetrGraphOutputs out;
    out.logits = linear(ctx, h, w.cls);
    ggml_tensor* b = ggml_relu(ctx, linear(ctx, h, w.bbox[0]));
    b = ggml_relu(ctx, linear(ctx, b, w.bbox[1]));
    out.boxes = ggml_sigmoid(ctx, linear(ctx, b, w.bbox[2]));
    return out;
}

std::vector<uint8_t> detr_feature_mask(const uint8_t* mask, uint32_t height, uint32_t width, uint32_t h, uint32_t w) {
    // torch's interpolate(mode="nearest"): source index floor(dst * (in / out)) in float, at most in - 1
    const float sy = static_cast<float>(height) / static_cast<float>(h), sx = static_cast<float>(width) / static_cast<float>(w);
    std::vector<uint8_t> out(size_t{h} * w);
    for (uint32_t i = 0; i < h; ++i) {
        const auto y = std::min<uint32_t>(static_cast<uint32_t>(std::floor(static_cast<float>(i) * sy)), height - 1);
        for (uint32_t j = 0; j < w; ++j) {
            const auto x = std::min<uint32_t>(static_cast<uint32_t>(std::floor(static_cast<float>(j) * sx)), width - 1);
            out[size_t{i} * w + j] = mask[size_t{y} * width + x] != 0;
        }
    }
    return out;
}

void detr_sine_position(const std::vector<uint8_t>& m, uint32_t h, uint32_t w, uint32_t d, float* out) {
    const uint32_t n_steps = d / 2;
    std::vector<float> ye(m.size()), xe(m.size());
    for (uint32_t i = 0; i < h; ++i)
        for (uint32_t j = 0; j < w; ++j) {
            const size_t t = size_t{i} * w + j;
            ye[t] = static_cast<float>(m[t]) + (i > 0 ? ye[t - w] : 0.0f);
            xe[t] = static_cast<float>(m[t]) + (j > 0 ? xe[t - 1] : 0.0f);
        }
    const auto scale = static_cast<float>(2 * std::numbers::pi);
    std::vector<float> dim_t(n_steps);
    for (uint32_t k = 0; k < n_steps; ++k)
        dim_t[k] = std::pow(10000.0f, 2.0f * static_cast<float>(k / 2) / static_cast<float>(n_steps));
    for (uint32_t i = 0; i < h; ++i)
        for (uint32_t j = 0; j < w; ++j) {
            const size_t t = size_t{i} * w + j;
            const float y = ye[t] / (ye[size_t{h - 1} * w + j] + 1e-6f) * scale;
            const float x = xe[t] / (xe[size_t{i} * w + w - 1] + 1e-6f) * scale;
            float* o = out + t * d;
            for (uint32_t k = 0; k < n_steps; ++k) {
                o[k] = k % 2 == 0 ? std::sin(y / dim_t[k]) : std::cos(y / dim_t[k]);
                o[n_steps + k] = k % 2 == 0 ? std::sin(x / dim_t[k]) : std::cos(x / dim_t[k]);
            }
        }
}

}  // namespace accel::engine::graphs
