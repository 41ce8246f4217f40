// Wav2Vec2ForCTC as a ggml graph, from transformers' modeling_wav2vec2.py: the convolutional feature encoder
// (Wav2Vec2FeatureEncoder: each Conv1d as one matmul over a strided view of channels-fastest activations, then a group
// norm with one group per channel after the first layer, or a layer norm after every layer, and the exact GELU; the
// layout is explained in docs/wav2vec2.md, "Graph layout"), the feature projection (layer norm,
// linear), the positional convolution (grouped Conv1d with "same" padding, its weight norm folded by accel convert,
// GELU) added to the projection, the transformer (post-norm blocks behind a layer norm, or pre-norm "stable" blocks
// followed by it) and the CTC head. One clip at a time, so no attention mask: transformers passes none either for an
// unpadded clip.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/ctc_model.h"
#include "accel/media/wav2vec2_features.h"
#include "ggml_runtime.h"
#include "vit_encoder.h"

namespace accel::engine {

using graphs::GgufWeights;
using graphs::GraphRunner;

namespace {

constexpr float conv_norm_eps = 1e-5f;  // nn.GroupNorm's and nn.LayerNorm's default: the conv layers' norms use it

struct ConvLayer {
    int32_t dim = 0, kernel = 0, stride = 0;
    ggml_tensor *w = nullptr, *b = nullptr, *norm_w = nullptr, *norm_b = nullptr;  // b, norms: null when absent
};

struct Hparams {
    graphs::VitHparams blocks;  // n_embd, n_ff, n_layer, n_head, norm_eps; GELU (erf)
    bool layer_norm_convs = false, stable_layer_norm = false;
    uint32_t pos_kernel = 0, pos_groups = 0, n_vocab = 0;
};

void check_wav2vec2(const GgufWeights& w) {
    const std::string arch = w.architecture();
    if (arch == "wav2vec2") return;
    if (arch.empty()) throw Error(ErrorKind::invalid_input, fmt::format("{}: no general.architecture", w.file().string()));
    throw Error(ErrorKind::invalid_input, fmt::format("{}: a '{}' model is not a CTC speech recognizer (accel runs "
                                                      "'wav2vec2' here)", w.file().string(), arch));
}

std::vector<ConvLayer> read_convs(const GgufWeights& w, const Hparams& hp) {
    const auto dims = w.get_i32s("wav2vec2.conv.dims"), kernels = w.get_i32s("wav2vec2.conv.kernels"),
               strides = w.get_i32s("wav2vec2.conv.strides");
    const bool bias = w.get_bool("wav2vec2.conv.bias");
    if (dims.empty() || kernels.size() != dims.size() || strides.size() != dims.size() || dims.size() > 64)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: wav2vec2.conv.* lists disagree", w.file().string()));
    std::vector<ConvLayer> convs;
    for (size_t i = 0; i < dims.size(); ++i) {
        if (dims[i] <= 0 || kernels[i] <= 0 || strides[i] <= 0)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: conv layer {} is not positive", w.file().string(), i));
        ConvLayer c{dims[i], kernels[i], strides[i]};
        const std::string p = fmt::format("conv.{}.", i);
        c.w = w.tensor(p + "weight", {c.kernel, i == 0 ? 1 : dims[i - 1], c.dim});
        if (bias) c.b = w.tensor(p + "bias", {c.dim});
        if (hp.layer_norm_convs || i == 0) {
            c.norm_w = w.tensor(p + "norm.weight", {c.dim});
            c.norm_b = w.tensor(p + "norm.bias", {c.dim});
        }
        convs.push_back(c);
    }
    return convs;
}

Hparams read_hparams(const GgufWeights& w) {
    Hparams hp;
    hp.blocks = graphs::read_block_hparams(w, "wav2vec2");
    hp.blocks.act = graphs::Activation::gelu_erf;
    const auto norm = w.find_string("wav2vec2.conv.norm").value_or("");
    if (norm != "group" && norm != "layer")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: wav2vec2.conv.norm '{}' is neither group nor layer",
                                                          w.file().string(), norm));
    hp.layer_norm_convs = norm == "layer";
    hp.stable_layer_norm = w.get_bool("wav2vec2.stable_layer_norm");
    hp.pos_kernel = w.get_u32("wav2vec2.pos_conv.kernel");
    hp.pos_groups = w.get_u32("wav2vec2.pos_conv.groups");
    hp.n_vocab = w.get_u32("wav2vec2.vocab_size");
    if (hp.pos_groups == 0 || hp.blocks.n_embd % hp.pos_groups != 0 || hp.pos_kernel == 0 || hp.n_vocab == 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: inconsistent wav2vec2.pos_conv.* or vocab_size",
                                                          w.file().string()));
    return hp;
}

CtcVocab read_vocab(const GgufWeights& w, uint32_t n_vocab) {
    CtcVocab v;
    v.tokens = w.get_strings("wav2vec2.ctc.tokens");
    v.blank_id = static_cast<int32_t>(w.get_u32("wav2vec2.ctc.blank_id"));
    v.word_delimiter = w.find_string("wav2vec2.ctc.word_delimiter").value_or("|");
    v.replace_word_delimiter = w.find_string("wav2vec2.ctc.replace_word_delimiter").value_or(" ");
    v.do_lower_case = w.get_bool("wav2vec2.ctc.do_lower_case");
    if (v.tokens.size() != n_vocab || v.blank_id < 0 || static_cast<uint32_t>(v.blank_id) >= n_vocab)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: wav2vec2.ctc.tokens ({}) or blank_id {} disagree with "
                                                          "vocab_size {}", w.file().string(), v.tokens.size(),
                                                          v.blank_id, n_vocab));
    return v;
}

// The exact-erf GELU on the CPU as PyTorch's vectorized kernel computes it: erf by Abramowitz & Stegun 7.1.26
// (|error| < 1.5e-7) over an exp polynomial (Cephes' expf, about 1 ulp), 16 values at a time in GCC's vector
// extension (one AVX-512 register, two AVX2 ones, four SSE ones: target_clones picks at load). ggml's CPU gelu_erf
// calls the scalar erff once per value: a tenth of the CPU time in a profile (the first conv layer alone gives 1.6
// million values per second of audio, ten times the transformer's MLP).
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define ACCEL_W2V_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ACCEL_W2V_CLONES
#endif

constexpr int64_t gelu_lanes = 16;
using F32x16 = float __attribute__((vector_size(gelu_lanes * sizeof(float))));
using I32x16 = int32_t __attribute__((vector_size(gelu_lanes * sizeof(float))));

// These are inlined into each clone of gelu_erf_rows: no call passes a vector, whatever GCC says of the ABI (it says
// so at the end of the file, so the warning stays off to the end)
#pragma GCC diagnostic ignored "-Wpsabi"
// The bits of one vector as the other type. GCC's vector cast between types of one size reinterprets the bits;
// bit_cast does too, but UBSan (GCC 12) reports a null load inside it for vector types.
[[gnu::always_inline]] inline I32x16 bits_of(F32x16 x) { return (I32x16)x; }
[[gnu::always_inline]] inline F32x16 floats_of(I32x16 x) { return (F32x16)x; }
[[gnu::always_inline]] inline F32x16 splat(float v) {
    return F32x16{} + v;
}

[[gnu::always_inline]] inline F32x16 exp_nonpositive(F32x16 x) {                  // x <= 0
    x = x < -87.0f ? splat(-87.0f) : x;                                           // 2^-126 at least: normal floats only
    const I32x16 n = __builtin_convertvector(x * 1.44269504089f - 0.5f, I32x16);  // rounded: x <= 0
    const F32x16 nf = __builtin_convertvector(n, F32x16), r = x - nf * 0.693359375f + nf * 2.12194440e-4f;
    F32x16 p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return p * floats_of((n + 127) << 23);
}

[[gnu::always_inline]] inline F32x16 gelu_erf16(F32x16 x) {
    const F32x16 z = floats_of(bits_of(x) & 0x7fffffff) * 0.70710678118654752f;
    const F32x16 t = 1.0f / (1.0f + 0.3275911f * z);
    F32x16 q = splat(1.061405429f);  // q: 1 - erf(z), kept apart so that negative x loses no digits to 1 + erf
    q = q * t - 1.453152027f;
    q = q * t + 1.421413741f;
    q = q * t - 0.284496736f;
    q = q * t + 0.254829592f;
    q = q * t * exp_nonpositive(-z * z);
    return 0.5f * x * (x >= 0.0f ? 2.0f - q : q);
}

// y = gelu(x * scale + shift) over n values; scale and shift (per value) may be null
ACCEL_W2V_CLONES void gelu_erf_rows(float* y, const float* x, const float* scale, const float* shift, int64_t n) {
    constexpr size_t full = sizeof(F32x16);  // a constant size: the copies below become plain vector moves
    int64_t i = 0;
    for (; i + gelu_lanes <= n; i += gelu_lanes) {
        F32x16 v, s = splat(1.0f), b = splat(0.0f);
        std::memcpy(&v, x + i, full);
        if (scale != nullptr) std::memcpy(&s, scale + i, full);
        if (shift != nullptr) std::memcpy(&b, shift + i, full);
        v = gelu_erf16(v * s + b);
        std::memcpy(y + i, &v, full);
    }
    if (i == n) return;
    const size_t m = static_cast<size_t>(n - i) * sizeof(float);
    F32x16 v{}, s = splat(1.0f), b{};
    std::memcpy(&v, x + i, m);
    if (scale != nullptr) std::memcpy(&s, scale + i, m);
    if (shift != nullptr) std::memcpy(&b, shift + i, m);
    v = gelu_erf16(v * s + b);
    std::memcpy(y + i, &v, m);
}

// ggml_map_custom3's callback: dst = gelu(a * b + c) with b, c one value per a's row element (c may be a itself: none)
void gelu_erf_op(ggml_tensor* dst, const ggml_tensor* a, const ggml_tensor* b, const ggml_tensor* c, int ith, int nth,
                 void* /*userdata*/) {
    const bool affine = b != a;
    const int64_t row = affine ? a->ne[0] : ggml_nelements(a), rows = ggml_nelements(a) / row;
    const int64_t per = (rows + nth - 1) / nth, end = std::min(rows, per * (ith + 1));
    const float *scale = affine ? static_cast<const float*>(b->data) : nullptr,
                *shift = affine ? static_cast<const float*>(c->data) : nullptr;
    if (!affine) {  // one row: split it
        const int64_t n = row, part = (n + nth - 1) / nth, from = std::min(n, part * ith);
        gelu_erf_rows(static_cast<float*>(dst->data) + from, static_cast<const float*>(a->data) + from, nullptr,
                      nullptr, std::min(n, from + part) - from);
        return;
    }
    for (int64_t r = per * ith; r < end; ++r)
        gelu_erf_rows(static_cast<float*>(dst->data) + r * row, static_cast<const float*>(a->data) + r * row, scale,
                      shift, row);
}

// ggml_map_custom3's callback for the first layer's GroupNorm(num_groups = channels) and GELU over a: [channels,
// frames] (channels fastest), b and c the norm's weight and bias: each channel's mean and variance over time, both
// passes in double as rows stream by, then gelu(x * rstd * weight + (bias - mean * rstd * weight)). The threads take
// channel ranges. ggml_norm normalizes rows, so this layout would need two transposes (one element at a time in
// ggml's copy) around it.
void group_norm_gelu_op(ggml_tensor* dst, const ggml_tensor* a, const ggml_tensor* b, const ggml_tensor* c, int ith,
                        int nth, void* /*userdata*/) {
    const int64_t channels = a->ne[0], frames = ggml_nrows(a), per = (channels + nth - 1) / nth;
    const int64_t c0 = std::min(channels, per * ith), n = std::min(channels, c0 + per) - c0;
    if (n <= 0) return;
    const auto* x = static_cast<const float*>(a->data);
    std::vector<double> sum(n, 0.0), sq(n, 0.0);
    for (int64_t t = 0; t < frames; ++t)
        for (int64_t i = 0; i < n; ++i) sum[i] += x[t * channels + c0 + i];
    for (int64_t i = 0; i < n; ++i) sum[i] /= static_cast<double>(frames);  // the mean
    for (int64_t t = 0; t < frames; ++t)
        for (int64_t i = 0; i < n; ++i) {
            const double d = x[t * channels + c0 + i] - sum[i];
            sq[i] += d * d;
        }
    std::vector<float> scale(n), shift(n);
    const auto* weight = static_cast<const float*>(b->data) + c0;
    const auto* bias = static_cast<const float*>(c->data) + c0;
    for (int64_t i = 0; i < n; ++i) {
        const double rstd = 1.0 / std::sqrt(sq[i] / static_cast<double>(frames) + conv_norm_eps);
        scale[i] = static_cast<float>(rstd * weight[i]);
        shift[i] = static_cast<float>(bias[i] - sum[i] * rstd * weight[i]);
    }
    auto* y = static_cast<float*>(dst->data);
    for (int64_t t = 0; t < frames; ++t)
        gelu_erf_rows(y + t * channels + c0, x + t * channels + c0, scale.data(), shift.data(), n);
}

// GELU (exact erf) of x * scale + shift (per row element; both null: x) over a contiguous f32 x: the vectorized op
// above on the CPU, ggml's ops elsewhere
ggml_tensor* gelu_erf(ggml_context* ctx, ggml_tensor* x, bool on_cpu, ggml_tensor* scale = nullptr,
                      ggml_tensor* shift = nullptr) {
    if (!on_cpu || x->type != GGML_TYPE_F32 || !ggml_is_contiguous(x)) {
        if (scale != nullptr) x = ggml_add(ctx, ggml_mul(ctx, x, scale), shift);
        return ggml_gelu_erf(ctx, x);
    }
    if (scale == nullptr) return ggml_map_custom3(ctx, x, x, x, gelu_erf_op, GGML_N_TASKS_MAX, nullptr);
    return ggml_map_custom3(ctx, x, scale, shift, gelu_erf_op, GGML_N_TASKS_MAX, nullptr);
}

// ggml's fast CPU matmul (llamafile's tinyBLAS) takes the shared dimension in whole AVX-512 vectors: 16 f32 or f16
constexpr int64_t gemm_k_multiple = 16;

// Rewrites a Conv1d kernel [taps, channels in, channels out] in place as [channels in, taps, channels out], the order
// in which conv1d() below reads its input. Element-wise, so f32 and f16 only (accel convert keeps the convolution
// kernels f16 in a q8_0 file: their taps are not whole q8_0 blocks).
void to_channels_first(ggml_tensor* w) {
    const int64_t taps = w->ne[0], cin = w->ne[1], cout = w->ne[2];
    const size_t ts = ggml_type_size(w->type);
    if (ggml_blck_size(w->type) != 1)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("conv kernel {} is {}, not f32 or f16", w->name, ggml_type_name(w->type)));
    std::vector<uint8_t> src(ggml_nbytes(w)), dst(src.size());
    ggml_backend_tensor_get(w, src.data(), 0, src.size());
    for (int64_t o = 0; o < cout; ++o)
        for (int64_t t = 0; t < taps; ++t)
            for (int64_t c = 0; c < cin; ++c)
                std::memcpy(&dst[((o * taps + t) * cin + c) * ts], &src[((o * cin + c) * taps + t) * ts], ts);
    ggml_backend_tensor_set(w, dst.data(), 0, dst.size());
    w->ne[0] = cin;
    w->ne[1] = taps;
    w->nb[1] = w->nb[0] * cin;
    w->nb[2] = w->nb[1] * taps;
}

// A view of the contiguous x with rows of ne0 values that start nb1 bytes apart (and ne2 batches of them, nb2 apart),
// the rows overlapping when nb1 is less than a row: the im2col matrix of a convolution over a channels-fastest input.
// ggml_view_* checks ne0 * ne1 * ne2 values against x's size, not the extent the rows span, so the view is made one
// row long and given its shape after; the extent is checked here instead.
ggml_tensor* overlapping_rows(ggml_context* ctx, ggml_tensor* x, int64_t ne0, int64_t ne1, size_t nb1, int64_t ne2,
                              size_t nb2) {
    ggml_tensor* v = ggml_view_1d(ctx, x, ne0, 0);
    const size_t extent = (ne2 - 1) * nb2 + (ne1 - 1) * nb1 + ne0 * v->nb[0];
    if (!ggml_is_contiguous(x) || extent > ggml_nbytes(x))
        throw Error(ErrorKind::internal,
                    fmt::format("wav2vec2: a convolution's view spans {} bytes of {}", extent, ggml_nbytes(x)));
    v->ne[1] = ne1;
    v->ne[2] = ne2;
    v->nb[1] = nb1;
    v->nb[2] = ne2 == 1 ? nb1 * ne1 : nb2;
    v->nb[3] = v->nb[2] * ne2;
    return v;
}

// Conv1d without padding over x: [channels in, length] (channels fastest) with a kernel that to_channels_first()
// reordered -> [channels out, frames]. In this layout the input of frame t, x[:, t*stride .. t*stride + taps), is one
// contiguous run of channels*taps values in the kernel's own order, so the im2col matrix is a strided view of x (its
// rows overlap when taps > stride): no im2col, and no transpose between layers. The CPU's matmul converts a
// non-contiguous right operand row by row into the kernel's type before tinyBLAS (an f16 kernel: that conversion is
// the gather); an f32 kernel would take the slow dot-product path on it, so it gets a contiguous copy, as does any
// other device. The kernel stays the left operand: tinyBLAS wants its rows, the output channels, in multiples of 4.
ggml_tensor* conv1d(ggml_context* ctx, ggml_tensor* x, const ConvLayer& c, bool on_cpu) {
    const int64_t frames = (x->ne[1] - c.kernel) / c.stride + 1;
    int64_t k = c.w->ne[0] * c.w->ne[1];
    ggml_tensor* w = ggml_reshape_2d(ctx, c.w, k, c.dim);
    if (k % gemm_k_multiple != 0 && x->ne[0] == 1) {
        // the first layer's 10 taps: zero taps up to 16 (f32: ggml pads nothing else) and as many samples of x
        const int64_t pad = GGML_PAD(k, gemm_k_multiple) - k;
        if (w->type != GGML_TYPE_F32) w = ggml_cast(ctx, w, GGML_TYPE_F32);
        w = ggml_pad(ctx, w, static_cast<int>(pad), 0, 0, 0);
        x = ggml_pad(ctx, x, 0, static_cast<int>(pad), 0, 0);
        k += pad;
    }
    ggml_tensor* cols = overlapping_rows(ctx, x, k, frames, c.stride * x->nb[1], 1, 0);
    if (w->type == GGML_TYPE_F32 || !on_cpu) cols = ggml_cont(ctx, cols);
    return ggml_mul_mat(ctx, w, cols);
}

// GroupNorm(num_groups = channels) then GELU over x: [channels, frames]: each channel over time. The CPU's op above;
// elsewhere ggml_norm over the transposed rows.
ggml_tensor* group_norm_gelu(ggml_context* ctx, ggml_tensor* x, const ConvLayer& c, bool on_cpu) {
    if (on_cpu && x->type == GGML_TYPE_F32 && ggml_is_contiguous(x))
        return ggml_map_custom3(ctx, x, c.norm_w, c.norm_b, group_norm_gelu_op, GGML_N_TASKS_MAX, nullptr);
    x = ggml_norm(ctx, ggml_cont(ctx, ggml_transpose(ctx, x)), conv_norm_eps);
    return gelu_erf(ctx, ggml_cont(ctx, ggml_transpose(ctx, x)), on_cpu, c.norm_w, c.norm_b);
}

}  // namespace

struct CtcModel::Impl {
    GraphRunner runner;
    GgufWeights weights;
    Hparams hp;
    std::vector<ConvLayer> convs;
    ggml_tensor *proj_norm_w = nullptr, *proj_norm_b = nullptr, *proj_w = nullptr, *proj_b = nullptr;
    ggml_tensor *pos_w = nullptr, *pos_b = nullptr, *enc_norm_w = nullptr, *enc_norm_b = nullptr;
    std::vector<graphs::VitBlock> blocks;
    ggml_tensor *out_w = nullptr, *out_b = nullptr;
    CtcVocab vocab;
    bool on_cpu = true;
    bool pos_channels_first = false;  // pos_w reordered by to_channels_first (f32, f16), else im2col
    bool do_normalize = true;
    uint32_t sampling_rate = 16000;

    Impl(const std::filesystem::path& file, const CtcParams& params)
        : runner(params.device, params.n_threads), weights(file, runner.device(), check_wav2vec2) {}

    void read_tensors() {
        const GgufWeights& w = weights;
        const int64_t e = hp.blocks.n_embd, last = convs.back().dim;
        proj_norm_w = w.tensor("feat_proj.norm.weight", {last});
        proj_norm_b = w.tensor("feat_proj.norm.bias", {last});
        proj_w = w.tensor("feat_proj.weight", {last, e});
        proj_b = w.tensor("feat_proj.bias", {e});
        pos_w = w.tensor("pos_conv.weight", {hp.pos_kernel, e / hp.pos_groups, e});
        pos_b = w.tensor("pos_conv.bias", {e});
        enc_norm_w = w.tensor("enc_norm.weight", {e});
        enc_norm_b = w.tensor("enc_norm.bias", {e});
        blocks = graphs::read_encoder_blocks(w, hp.blocks, "");
        out_w = w.tensor("output.weight", {e, hp.n_vocab});
        out_b = w.tensor("output.bias", {hp.n_vocab});
    }

    ggml_tensor* feature_encoder(ggml_context* ctx, ggml_tensor* wave) const;
    ggml_tensor* positional(ggml_context* ctx, ggml_tensor* x) const;
    ggml_tensor* encoder(ggml_context* ctx, ggml_tensor* x) const;
};

// wave: [n_samples, 1] -> the last conv layer's activations, [channels, frames]
ggml_tensor* CtcModel::Impl::feature_encoder(ggml_context* ctx, ggml_tensor* wave) const {
    ggml_tensor* x = ggml_reshape_2d(ctx, wave, 1, wave->ne[0]);  // [channels, length]: what conv1d reads
    for (const ConvLayer& c : convs) {
        x = conv1d(ctx, x, c, on_cpu);  // [dim, frames]
        if (c.b != nullptr) x = ggml_add(ctx, x, c.b);
        if (c.norm_w != nullptr && hp.layer_norm_convs) {
            x = graphs::build_layer_norm(ctx, x, c.norm_w, c.norm_b, conv_norm_eps);  // over channels, per frame
        } else if (c.norm_w != nullptr) {
            x = group_norm_gelu(ctx, x, c, on_cpu);
            continue;
        }
        x = gelu_erf(ctx, x, on_cpu);
    }
    return x;
}

// Wav2Vec2PositionalConvEmbedding over x: [n_embd, frames]: a grouped Conv1d with kernel/2 padding on each side (the
// last frame dropped when the kernel is even), then GELU.
ggml_tensor* CtcModel::Impl::positional(ggml_context* ctx, ggml_tensor* x) const {
    const int64_t e = hp.blocks.n_embd, groups = hp.pos_groups, per = e / groups, frames = x->ne[1];
    const int k = static_cast<int>(hp.pos_kernel);
    ggml_tensor* y = nullptr;  // [per, frames, groups]
    if (pos_channels_first) {
        // as conv1d(): each group [per, frames + padding] channels fastest, so the input of output frame t is one run
        // of per*k values from t*per on, a strided view; the groups are the batch of one matmul
        ggml_tensor* xg = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_3d(ctx, x, per, groups, frames), 0, 2, 1, 3));
        xg = ggml_pad_ext(ctx, xg, 0, 0, k / 2, k / 2, 0, 0, 0, 0);  // [per, frames + 2*(k/2), groups]
        ggml_tensor* cols = overlapping_rows(ctx, xg, per * k, frames, xg->nb[1], groups, xg->nb[2]);
        if (pos_w->type == GGML_TYPE_F32 || !on_cpu) cols = ggml_cont(ctx, cols);
        y = ggml_mul_mat(ctx, ggml_reshape_3d(ctx, pos_w, per * k, per, groups), cols);  // out channel g*per + j
    } else {
        // a quantized kernel keeps its [taps, per, n_embd] order: im2col over [frames, per, groups], each group a batch
        ggml_tensor* xt = ggml_reshape_3d(ctx, ggml_cont(ctx, ggml_transpose(ctx, x)), frames, per, groups);
        ggml_tensor* cols = ggml_im2col(ctx, pos_w, xt, 1, 0, k / 2, 0, 1, 0, false, GGML_TYPE_F32);
        y = ggml_mul_mat(ctx, ggml_reshape_3d(ctx, pos_w, k * per, per, groups), cols);  // [per, frames + 1, groups]
        y = ggml_view_3d(ctx, y, per, frames, groups, y->nb[1], y->nb[2], 0);            // SamePad: the first `frames`
    }
    y = ggml_reshape_2d(ctx, ggml_cont(ctx, ggml_permute(ctx, y, 0, 2, 1, 3)), e, frames);  // [n_embd, frames]
    return gelu_erf(ctx, ggml_add(ctx, y, pos_b), on_cpu);
}

// Wav2Vec2Encoder (post-norm) or Wav2Vec2EncoderStableLayerNorm over the projected features, [n_embd, frames].
ggml_tensor* CtcModel::Impl::encoder(ggml_context* ctx, ggml_tensor* x) const {
    const graphs::VitHparams& b = hp.blocks;
    x = ggml_add(ctx, x, positional(ctx, x));
    if (hp.stable_layer_norm) {
        x = graphs::build_encoder_blocks(ctx, x, blocks, b, false);
        return graphs::build_layer_norm(ctx, x, enc_norm_w, enc_norm_b, b.norm_eps);
    }
    x = graphs::build_layer_norm(ctx, x, enc_norm_w, enc_norm_b, b.norm_eps);
    for (const auto& blk : blocks) {
        x = ggml_add(ctx, x, graphs::build_self_attention(ctx, x, blk, b, false));
        x = graphs::build_layer_norm(ctx, x, blk.attn_norm_w, blk.attn_norm_b, b.norm_eps);
        ggml_tensor* h = gelu_erf(ctx, graphs::build_linear(ctx, x, blk.up_w, blk.up_b), on_cpu);  // build_ffn's MLP
        x = ggml_add(ctx, x, graphs::build_linear(ctx, h, blk.down_w, blk.down_b));
        x = graphs::build_layer_norm(ctx, x, blk.ffn_norm_w, blk.ffn_norm_b, b.norm_eps);
    }
    return x;
}

CtcModel::CtcModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CtcModel::CtcModel(CtcModel&&) noexcept = default;
CtcModel& CtcModel::operator=(CtcModel&&) noexcept = default;
CtcModel::~CtcModel() = default;

CtcModel CtcModel::load(const std::filesystem::path& gguf, const CtcParams& params) {
    auto impl = std::make_unique<Impl>(gguf, params);
    const GgufWeights& w = impl->weights;
    impl->hp = read_hparams(w);
    impl->hp.blocks.flash_attn = impl->runner.on_cpu();
    impl->convs = read_convs(w, impl->hp);
    for (const ConvLayer& c : impl->convs) to_channels_first(c.w);
    impl->on_cpu = impl->runner.on_cpu();
    impl->read_tensors();
    impl->pos_channels_first = ggml_blck_size(impl->pos_w->type) == 1;
    if (impl->pos_channels_first) to_channels_first(impl->pos_w);
    impl->vocab = read_vocab(w, impl->hp.n_vocab);
    impl->do_normalize = w.get_bool("wav2vec2.feature.do_normalize");
    impl->sampling_rate = w.get_u32("wav2vec2.feature.sampling_rate");
    return CtcModel(std::move(impl));
}

const CtcVocab& CtcModel::vocab() const { return impl_->vocab; }
uint32_t CtcModel::sampling_rate() const { return impl_->sampling_rate; }
bool CtcModel::do_normalize() const { return impl_->do_normalize; }

uint32_t CtcModel::n_frames(size_t n_samples) const {
    size_t n = n_samples;
    for (const auto& c : impl_->convs) {
        if (n < static_cast<size_t>(c.kernel)) return 0;
        n = (n - static_cast<size_t>(c.kernel)) / static_cast<size_t>(c.stride) + 1;
    }
    return static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX));
}

std::vector<float> CtcModel::preprocess(std::span<const float> samples) const {
    if (!impl_->do_normalize) return {samples.begin(), samples.end()};
    return media::wav2vec2_normalize(samples);
}

CtcOutput CtcModel::run(std::span<const float> input_values) {
    const uint32_t frames = n_frames(input_values.size());
    if (frames == 0) {
        size_t field = 1;  // the samples one frame sees
        for (auto c = impl_->convs.rbegin(); c != impl_->convs.rend(); ++c)
            field = (field - 1) * static_cast<size_t>(c->stride) + static_cast<size_t>(c->kernel);
        throw Error(ErrorKind::invalid_input, fmt::format("a clip of {} samples is shorter than {}'s receptive field "
                                                          "({} samples give the first frame)", input_values.size(),
                                                          impl_->weights.file().string(), field));
    }
    const Hparams& hp = impl_->hp;
    CtcOutput out{frames, hp.n_vocab, hp.blocks.n_embd, {}, {}};
    ggml_tensor *wave = nullptr, *hidden = nullptr, *logits = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        wave = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, static_cast<int64_t>(input_values.size()), 1);
        ggml_set_input(wave);
        ggml_tensor* features = impl_->feature_encoder(ctx, wave);  // [conv dim, frames]
        ggml_tensor* x = graphs::build_layer_norm(ctx, features, impl_->proj_norm_w, impl_->proj_norm_b, hp.blocks.norm_eps);
        x = ggml_add(ctx, ggml_mul_mat(ctx, impl_->proj_w, x), impl_->proj_b);
        hidden = impl_->encoder(ctx, x);
        ggml_set_output(hidden);
        logits = ggml_add(ctx, ggml_mul_mat(ctx, impl_->out_w, hidden), impl_->out_b);
        ggml_set_output(logits);
        ggml_build_forward_expand(graph, hidden);
        ggml_build_forward_expand(graph, logits);
    };
    auto set = [&] { ggml_backend_tensor_set(wave, input_values.data(), 0, ggml_nbytes(wave)); };
    auto read = [&] {
        out.logits.resize(ggml_nelements(logits));
        ggml_backend_tensor_get(logits, out.logits.data(), 0, ggml_nbytes(logits));
        out.last_hidden_state.resize(ggml_nelements(hidden));
        ggml_backend_tensor_get(hidden, out.last_hidden_state.data(), 0, ggml_nbytes(hidden));
    };
    impl_->runner.run(build, set, read);
    return out;
}

}  // namespace accel::engine
