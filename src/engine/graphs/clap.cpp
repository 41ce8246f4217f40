// ClapModel as ggml graphs, from transformers' modeling_clap.py.
// Audio (ClapAudioEncoder, HTSAT-unfused): on the host, the batch norm over mel bins, the bicubic stretch of the time
// axis to spec_size * freq_ratio frames (align_corners, as reshape_mel2img) and the fold of the spectrogram into a
// square image (freq_ratio time chunks stacked along the frequency rows); in the graph, the patch embedding (a
// stride-p convolution as im2col and one matmul) and its layer norm, then per stage pre-LN Swin blocks (attention
// inside window x window windows with the relative position bias; every odd block shifts the grid by half a window
// first, masking pairs that the roll brought together, and rolls it back after), patch merging between stages (the
// 2x2 neighbours concatenated, layer norm, a linear without bias), the final layer norm and the mean over every
// token (the pooler_output ClapModel projects). Text (ClapTextModel, RoBERTa): word + position (counted from
// pad_token_id + 1, pads keep pad_token_id) + token-type embeddings, layer norm, post-LN blocks under the padding
// mask, the pooler (tanh of a linear over <s>). Each tower then projects (linear, ReLU, linear) and L2-normalizes;
// logits_per_audio = exp(logit_scale_a) * cosine.
#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/clap_model.h"
#include "accel/model/roberta_tokenizer.h"
#include "ggml_runtime.h"
#include "vit_encoder.h"

namespace accel::engine {

using graphs::build_linear;
using graphs::GgufWeights;
using graphs::GraphRunner;
using graphs::VitBlock;
using graphs::VitHparams;

namespace {

void check_clap(const GgufWeights& w) {
    if (const std::string arch = w.architecture(); arch != "clap")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a '{}' model, not a CLAP model (clap)",
                                                          w.file().string(), arch));
}

void l2_normalize(std::vector<float>& v, size_t dim) {
    for (size_t at = 0; at + dim <= v.size(); at += dim) {
        double s = 0;
        for (size_t i = 0; i < dim; ++i) s += double(v[at + i]) * v[at + i];
        const double n = std::max(std::sqrt(s), 1e-12);  // F.normalize's eps
        for (size_t i = 0; i < dim; ++i) v[at + i] = static_cast<float>(v[at + i] / n);
    }
}

// Multi-head attention over x: [n_embd, n_tokens, n_seq]; `bias` [n_tokens, n_tokens, n_head, 1] and `mask`
// [n_tokens, n_tokens or 1, 1, m] (m dividing n_seq: sequence s takes mask s % m) are added to the scaled scores.
ggml_tensor* attention(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, int64_t n_head, ggml_tensor* bias,
                       ggml_tensor* mask) {
    const int64_t e = x->ne[0], n = x->ne[1], n_seq = x->ne[2], d = e / n_head;
    auto heads = [&](ggml_tensor* t) {  // [d, n, n_head, n_seq]
        return ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, t, d, n_head, n, n_seq), 0, 2, 1, 3));
    };
    ggml_tensor* q = heads(build_linear(ctx, x, b.q_w, b.q_b));
    ggml_tensor* k = heads(build_linear(ctx, x, b.k_w, b.k_b));
    ggml_tensor* v = ggml_reshape_4d(ctx, build_linear(ctx, x, b.v_w, b.v_b), d, n_head, n, n_seq);
    v = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3));  // [n, d, n_head, n_seq]
    ggml_tensor* kq = ggml_scale(ctx, ggml_mul_mat(ctx, k, q), 1.0f / std::sqrt(static_cast<float>(d)));
    if (bias != nullptr) kq = ggml_add(ctx, kq, bias);
    if (mask != nullptr) kq = ggml_add(ctx, kq, mask);
    kq = ggml_soft_max(ctx, kq);
    ggml_tensor* kqv = ggml_cont(ctx, ggml_permute(ctx, ggml_mul_mat(ctx, v, kq), 0, 2, 1, 3));  // [d, n_head, n, s]
    return build_linear(ctx, ggml_reshape_3d(ctx, kqv, e, n, n_seq), b.out_w, b.out_b);
}

ggml_tensor* ffn(ggml_context* ctx, ggml_tensor* x, const VitBlock& b) {
    return build_linear(ctx, ggml_gelu_erf(ctx, build_linear(ctx, x, b.up_w, b.up_b)), b.down_w, b.down_b);
}

ggml_tensor* layer_norm(ggml_context* ctx, ggml_tensor* x, ggml_tensor* w, ggml_tensor* b, float eps) {
    return graphs::build_layer_norm(ctx, x, w, b, eps);
}

// x: [C, W, H, B] -> windows [C, w*w, (W/w) * (H/w) * B] (token ih * w + iw; window jh * W/w + jw, then the batch).
ggml_tensor* window_partition(ggml_context* ctx, ggml_tensor* x, int64_t w) {
    const int64_t c = x->ne[0], width = x->ne[1], height = x->ne[2], batch = x->ne[3];
    ggml_tensor* t = ggml_reshape_4d(ctx, x, c * w, width / w, w, (height / w) * batch);
    t = ggml_cont(ctx, ggml_permute(ctx, t, 0, 2, 1, 3));  // [C*w, w (ih), W/w, H/w * B]
    return ggml_reshape_3d(ctx, t, c, w * w, (width / w) * (height / w) * batch);
}

ggml_tensor* window_reverse(ggml_context* ctx, ggml_tensor* windows, int64_t w, int64_t width, int64_t height,
                            int64_t batch) {
    const int64_t c = windows->ne[0];
    ggml_tensor* t = ggml_reshape_4d(ctx, windows, c * w, w, width / w, (height / w) * batch);
    t = ggml_cont(ctx, ggml_permute(ctx, t, 0, 2, 1, 3));  // [C*w, W/w, w (ih), H/w * B]
    return ggml_reshape_4d(ctx, t, c, width, height, batch);
}

// The relative position index of a w x w window (ClapAudioSelfAttention.relative_position_index), [query][key].
std::vector<int32_t> relative_position_index(int64_t w) {
    std::vector<int32_t> idx(static_cast<size_t>(w * w * w * w));
    for (int64_t q = 0; q < w * w; ++q)
        for (int64_t k = 0; k < w * w; ++k) {
            const int64_t dh = q / w - k / w + w - 1, dw = q % w - k % w + w - 1;
            idx[static_cast<size_t>(q * w * w + k)] = static_cast<int32_t>(dh * (2 * w - 1) + dw);
        }
    return idx;
}

// ClapAudioLayer.get_attn_mask for a res x res grid shifted by `shift`: [window][query][key], 0 or -100.
std::vector<float> shift_mask(int64_t res, int64_t w, int64_t shift) {
    auto region = [&](int64_t i) { return i < res - w ? 0 : (i < res - shift ? 1 : 2); };
    const int64_t n_win = res / w, ww = w * w;
    std::vector<float> mask(static_cast<size_t>(n_win * n_win * ww * ww));
    for (int64_t jh = 0; jh < n_win; ++jh)
        for (int64_t jw = 0; jw < n_win; ++jw)
            for (int64_t q = 0; q < ww; ++q)
                for (int64_t k = 0; k < ww; ++k) {
                    const int64_t lq = region(jh * w + q / w) * 3 + region(jw * w + q % w);
                    const int64_t lk = region(jh * w + k / w) * 3 + region(jw * w + k % w);
                    mask[static_cast<size_t>(((jh * n_win + jw) * ww + q) * ww + k)] = lq == lk ? 0.0f : -100.0f;
                }
    return mask;
}

// torch's upsample_bicubic2d along one axis with align_corners=True (A = -0.75, indices clamped at the edges).
std::vector<float> bicubic_time(const ClapFeatures& f, uint32_t n_out) {
    const int64_t n_in = f.n_frames, m = f.n_mels;
    std::vector<float> out(static_cast<size_t>(n_out) * m);
    constexpr double a = -0.75;
    auto cc1 = [](double x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
    auto cc2 = [](double x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
    const double scale = n_out > 1 ? double(n_in - 1) / double(n_out - 1) : 0.0;
    for (int64_t o = 0; o < n_out; ++o) {
        const double real = scale * double(o);
        const auto i0 = static_cast<int64_t>(std::floor(real));
        const double t = real - double(i0);
        const double wts[4] = {cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)};
        for (int64_t c = 0; c < m; ++c) {
            double s = 0;
            for (int64_t j = 0; j < 4; ++j) {
                const int64_t i = std::clamp<int64_t>(i0 - 1 + j, 0, n_in - 1);
                s += wts[j] * double(f.data[static_cast<size_t>(i * m + c)]);
            }
            out[static_cast<size_t>(o * m + c)] = static_cast<float>(s);
        }
    }
    return out;
}

struct Stage {
    VitHparams hp;  // n_embd, n_ff, n_head, n_layer (depth) of this stage
    std::vector<VitBlock> blocks;
    std::vector<ggml_tensor*> rel_pos;  // per block, [n_head, (2w-1)^2]
    ggml_tensor *merge_norm_w = nullptr, *merge_norm_b = nullptr, *merge_w = nullptr;  // null in the last stage
    int64_t res = 0, window = 0, shift = 0;  // grid side, effective window, shift of the odd blocks
};

}  // namespace

struct ClapModel::Impl {
    GraphRunner runner;
    GgufWeights weights;
    // audio
    uint32_t n_embd = 0, n_mels = 0, spec_size = 0, patch = 0, window = 0, freq_ratio = 0;
    float a_eps = 1e-5f;
    std::vector<float> bn_scale, bn_shift;  // the batch norm, folded on the host: x * scale + shift per mel bin
    std::vector<Stage> stages;
    ggml_tensor *patch_w = nullptr, *patch_b = nullptr, *patch_norm_w = nullptr, *patch_norm_b = nullptr;
    ggml_tensor *a_norm_w = nullptr, *a_norm_b = nullptr, *a_proj[4] = {};
    // text
    VitHparams text;
    uint32_t n_vocab = 0, n_ctx = 0, pad = 1;
    std::vector<VitBlock> text_blocks;
    ggml_tensor *token_embd = nullptr, *t_position = nullptr, *token_types = nullptr, *t_embd_norm_w = nullptr,
                *t_embd_norm_b = nullptr, *pooler_w = nullptr, *pooler_b = nullptr, *t_proj[4] = {};
    uint32_t dim = 0;
    float logit_scale_a = 0;
    std::string preprocessor;
    std::optional<model::RobertaTokenizer> tokenizer;

    Impl(const std::filesystem::path& file, const VisionParams& params)
        : runner(params.device, params.n_threads), weights(file, runner.device(), check_clap) {}

    void read_audio();
    void read_text();
    std::vector<float> audio_image(std::span<const ClapFeatures> audios) const;
    ggml_tensor* build_audio(ggml_context* ctx, ggml_tensor* image, std::vector<std::pair<ggml_tensor*, std::vector<int32_t>>>& ids,
                             std::vector<std::pair<ggml_tensor*, std::vector<float>>>& masks) const;
    std::vector<float> embed_audio(std::span<const ClapFeatures> audios);
    std::vector<float> embed_texts(const std::vector<std::vector<int32_t>>& texts);

    void fail(const std::string& what) const {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", weights.file().string(), what));
    }
};

void ClapModel::Impl::read_audio() {
    const GgufWeights& w = weights;
    n_embd = w.get_u32("clap.audio.embedding_length");
    n_mels = w.get_u32("clap.audio.num_mel_bins");
    spec_size = w.get_u32("clap.audio.spec_size");
    patch = w.get_u32("clap.audio.patch_size");
    window = w.get_u32("clap.audio.window_size");
    a_eps = w.get_f32("clap.audio.layer_norm_epsilon");
    const auto depths = w.get_i32s("clap.audio.depths"), heads = w.get_i32s("clap.audio.head_counts");
    const float mlp_ratio = w.get_f32("clap.audio.mlp_ratio");
    if (n_mels == 0 || patch == 0 || window == 0 || spec_size % n_mels != 0 || spec_size % patch != 0 ||
        depths.empty() || depths.size() != heads.size() || depths.size() > 16 || spec_size > 4096)
        fail("inconsistent clap.audio.* hyperparameters");
    freq_ratio = spec_size / n_mels;
    const int64_t e = n_embd, p = patch;
    patch_w = w.tensor("a.patch_embd.weight", {p, p, 1, e});
    patch_b = w.tensor("a.patch_embd.bias", {e});
    patch_norm_w = w.tensor("a.patch_norm.weight", {e});
    patch_norm_b = w.tensor("a.patch_norm.bias", {e});
    int64_t res = spec_size / patch;
    for (size_t s = 0; s < depths.size(); ++s) {
        Stage st;
        st.hp.n_embd = n_embd << s;
        st.hp.n_ff = static_cast<uint32_t>(mlp_ratio * float(st.hp.n_embd));
        st.hp.n_head = static_cast<uint32_t>(heads[s]);
        st.hp.n_layer = static_cast<uint32_t>(depths[s]);
        st.res = res;
        // set_shift_and_window_size: a grid no larger than the window is one window, never shifted
        st.window = std::min<int64_t>(window, res);
        st.shift = res <= int64_t{window} ? 0 : window / 2;
        if (depths[s] <= 0 || st.hp.n_embd % st.hp.n_head != 0 || res % st.window != 0 || st.window != window ||
            (s + 1 < depths.size() && res % 2 != 0))
            fail(fmt::format("stage {}: a {}x{} grid, window {}, {} heads of width {}: not a shape accel's HTSAT runs",
                             s, res, res, window, heads[s], st.hp.n_embd));
        const std::string pre = fmt::format("a.stage.{}.", s);
        st.blocks = graphs::read_encoder_blocks(w, st.hp, pre);
        const int64_t n_rel = (2 * int64_t{window} - 1) * (2 * int64_t{window} - 1);
        for (int32_t i = 0; i < depths[s]; ++i)
            st.rel_pos.push_back(w.tensor(fmt::format("{}blk.{}.attn_rel_pos", pre, i), {heads[s], n_rel}, true));
        if (s + 1 < depths.size()) {
            const int64_t d4 = 4 * int64_t{st.hp.n_embd};
            st.merge_norm_w = w.tensor(pre + "merge_norm.weight", {d4});
            st.merge_norm_b = w.tensor(pre + "merge_norm.bias", {d4});
            st.merge_w = w.tensor(pre + "merge.weight", {d4, d4 / 2});
            res /= 2;
        }
        stages.push_back(std::move(st));
    }
    const int64_t nf = stages.back().hp.n_embd;
    a_norm_w = w.tensor("a.post_norm.weight", {nf});
    a_norm_b = w.tensor("a.post_norm.bias", {nf});
    a_proj[0] = w.tensor("a.proj1.weight", {nf, dim});
    a_proj[1] = w.tensor("a.proj1.bias", {dim});
    a_proj[2] = w.tensor("a.proj2.weight", {dim, dim});
    a_proj[3] = w.tensor("a.proj2.bias", {dim});
    std::vector<float> bn[4];
    const char* names[4] = {"weight", "bias", "running_mean", "running_var"};
    for (size_t i = 0; i < 4; ++i) {
        bn[i].resize(n_mels);
        ggml_backend_tensor_get(w.tensor(fmt::format("a.batch_norm.{}", names[i]), {n_mels}, true), bn[i].data(), 0,
                                n_mels * sizeof(float));
    }
    const float bn_eps = w.get_f32("clap.audio.batch_norm_epsilon");
    for (uint32_t m = 0; m < n_mels; ++m) {
        const double s = double(bn[0][m]) / std::sqrt(double(bn[3][m]) + bn_eps);
        bn_scale.push_back(static_cast<float>(s));
        bn_shift.push_back(static_cast<float>(double(bn[1][m]) - double(bn[2][m]) * s));
    }
}

void ClapModel::Impl::read_text() {
    const GgufWeights& w = weights;
    text = graphs::read_block_hparams(w, "clap.text");
    n_vocab = w.get_u32("clap.text.vocab_size");
    n_ctx = w.get_u32("clap.text.context_length");
    pad = w.get_u32("clap.text.pad_token_id");
    if (pad + 2 > n_ctx) fail("clap.text.pad_token_id leaves no position for a token");
    const int64_t e = text.n_embd;
    token_embd = w.tensor("t.token_embd.weight", {e, n_vocab});
    t_position = w.tensor("t.position_embd.weight", {e, n_ctx}, true);
    token_types = w.tensor("t.token_types.weight", {e}, true);  // type 0, the only one RoBERTa uses
    if (ggml_nelements(token_types) < e) fail("t.token_types.weight has no row");
    t_embd_norm_w = w.tensor("t.embd_norm.weight", {e});
    t_embd_norm_b = w.tensor("t.embd_norm.bias", {e});
    text_blocks = graphs::read_encoder_blocks(w, text, "t.");
    pooler_w = w.tensor("t.pooler.weight", {e, e});
    pooler_b = w.tensor("t.pooler.bias", {e});
    t_proj[0] = w.tensor("t.proj1.weight", {e, dim});
    t_proj[1] = w.tensor("t.proj1.bias", {dim});
    t_proj[2] = w.tensor("t.proj2.weight", {dim, dim});
    t_proj[3] = w.tensor("t.proj2.bias", {dim});
}

// The batch-normed, stretched, folded spectrogram of each clip: [clip][row][col], spec_size squared, row =
// chunk * n_mels + mel, col = the frame within the chunk (reshape_mel2img).
std::vector<float> ClapModel::Impl::audio_image(std::span<const ClapFeatures> audios) const {
    if (audios.empty()) throw Error(ErrorKind::invalid_input, "no audio to run");
    const uint32_t width = spec_size * freq_ratio, chunk = width / freq_ratio;
    std::vector<float> image;
    image.reserve(audios.size() * spec_size * spec_size);
    for (const auto& a : audios) {
        if (a.n_mels != n_mels || a.n_frames == 0 || a.n_frames > width || a.data.size() != size_t{a.n_frames} * n_mels)
            throw Error(ErrorKind::invalid_input, fmt::format("features of {} frames x {} mel bins: the model takes 1 "
                                                              "to {} frames of {} bins", a.n_frames, a.n_mels, width,
                                                              n_mels));
        ClapFeatures bn = a;
        for (size_t i = 0; i < bn.data.size(); ++i) bn.data[i] = bn.data[i] * bn_scale[i % n_mels] + bn_shift[i % n_mels];
        // the batch norm is per mel bin and the stretch mixes frames only, with weights summing to 1: they commute
        const std::vector<float> t = a.n_frames < width ? bicubic_time(bn, width) : bn.data;
        for (uint32_t c = 0; c < freq_ratio; ++c)
            for (uint32_t m = 0; m < n_mels; ++m)
                for (uint32_t col = 0; col < chunk; ++col) image.push_back(t[size_t{c * chunk + col} * n_mels + m]);
    }
    return image;
}

ggml_tensor* ClapModel::Impl::build_audio(ggml_context* ctx, ggml_tensor* image,
                                          std::vector<std::pair<ggml_tensor*, std::vector<int32_t>>>& ids,
                                          std::vector<std::pair<ggml_tensor*, std::vector<float>>>& masks) const {
    const int64_t batch = image->ne[3], p = patch;
    ggml_tensor* cols = ggml_im2col(ctx, patch_w, image, static_cast<int>(p), static_cast<int>(p), 0, 0, 1, 1, true,
                                    GGML_TYPE_F32);  // [p*p, W/p, H/p, B]
    const int64_t k = cols->ne[0], g = cols->ne[1];
    ggml_tensor* x = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, patch_w, k, n_embd), ggml_reshape_2d(ctx, cols, k, g * g * batch));
    x = layer_norm(ctx, ggml_add(ctx, x, patch_b), patch_norm_w, patch_norm_b, a_eps);
    x = ggml_reshape_4d(ctx, x, n_embd, g, g, batch);  // [C, W, H, B]
    for (const Stage& st : stages) {
        const int64_t c = st.hp.n_embd, w = st.window, res = st.res;
        ggml_tensor* idx = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, w * w * w * w);
        ggml_set_input(idx);
        ids.emplace_back(idx, relative_position_index(w));
        ggml_tensor* mask = nullptr;
        if (st.shift > 0 && st.blocks.size() > 1) {
            mask = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, w * w, w * w, 1, (res / w) * (res / w));
            ggml_set_input(mask);
            masks.emplace_back(mask, shift_mask(res, w, st.shift));
        }
        for (size_t i = 0; i < st.blocks.size(); ++i) {
            const VitBlock& b = st.blocks[i];
            const bool shifted = i % 2 == 1 && st.shift > 0;
            ggml_tensor* bias = ggml_get_rows(ctx, st.rel_pos[i], idx);  // [n_head, w*w (key) * w*w (query)]
            bias = ggml_reshape_3d(ctx, bias, st.hp.n_head, w * w, w * w);
            bias = ggml_cont(ctx, ggml_permute(ctx, bias, 2, 0, 1, 3));  // [key, query, head]
            ggml_tensor* h = layer_norm(ctx, x, b.attn_norm_w, b.attn_norm_b, a_eps);
            if (shifted) h = ggml_roll(ctx, h, 0, static_cast<int>(-st.shift), static_cast<int>(-st.shift), 0);
            h = attention(ctx, window_partition(ctx, h, w), b, st.hp.n_head, bias, shifted ? mask : nullptr);
            h = window_reverse(ctx, h, w, res, res, batch);
            if (shifted) h = ggml_roll(ctx, h, 0, static_cast<int>(st.shift), static_cast<int>(st.shift), 0);
            x = ggml_add(ctx, x, h);
            x = ggml_add(ctx, x, ffn(ctx, layer_norm(ctx, x, b.ffn_norm_w, b.ffn_norm_b, a_eps), b));
        }
        if (st.merge_w == nullptr) continue;
        // ClapAudioPatchMerging: [x(0::2, 0::2), x(1::2, 0::2), x(0::2, 1::2), x(1::2, 1::2)] (rows, cols)
        ggml_tensor* flat = ggml_reshape_3d(ctx, x, c, res, res * batch);
        ggml_tensor* merged = nullptr;
        for (const auto& [ph, pw] : {std::pair{0, 0}, std::pair{1, 0}, std::pair{0, 1}, std::pair{1, 1}}) {
            ggml_tensor* part = ggml_cont(ctx, ggml_view_3d(ctx, flat, c, res / 2, (res / 2) * batch, 2 * flat->nb[1],
                                                            2 * flat->nb[2], pw * flat->nb[1] + ph * flat->nb[2]));
            merged = merged == nullptr ? part : ggml_concat(ctx, merged, part, 0);
        }
        merged = layer_norm(ctx, merged, st.merge_norm_w, st.merge_norm_b, a_eps);
        x = ggml_reshape_4d(ctx, ggml_mul_mat(ctx, st.merge_w, merged), 2 * c, res / 2, res / 2, batch);
    }
    const int64_t nf = stages.back().hp.n_embd, n_tok = x->ne[1] * x->ne[2];
    x = layer_norm(ctx, ggml_reshape_3d(ctx, x, nf, n_tok, batch), a_norm_w, a_norm_b, a_eps);
    ggml_tensor* pooled = ggml_mean(ctx, ggml_cont(ctx, ggml_permute(ctx, x, 1, 0, 2, 3)));  // [1, C, B]
    pooled = ggml_reshape_2d(ctx, pooled, nf, batch);
    return build_linear(ctx, ggml_relu(ctx, build_linear(ctx, pooled, a_proj[0], a_proj[1])), a_proj[2], a_proj[3]);
}

std::vector<float> ClapModel::Impl::embed_audio(std::span<const ClapFeatures> audios) {
    const std::vector<float> image = audio_image(audios);
    std::vector<std::pair<ggml_tensor*, std::vector<int32_t>>> ids;
    std::vector<std::pair<ggml_tensor*, std::vector<float>>> masks;
    ggml_tensor *in = nullptr, *out = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        ids.clear();
        masks.clear();
        in = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, spec_size, spec_size, 1, static_cast<int64_t>(audios.size()));
        ggml_set_input(in);
        out = build_audio(ctx, in, ids, masks);
        ggml_set_output(out);
        ggml_build_forward_expand(graph, out);
    };
    auto set_inputs = [&] {
        ggml_backend_tensor_set(in, image.data(), 0, ggml_nbytes(in));
        for (const auto& [t, v] : ids) ggml_backend_tensor_set(t, v.data(), 0, ggml_nbytes(t));
        for (const auto& [t, v] : masks) ggml_backend_tensor_set(t, v.data(), 0, ggml_nbytes(t));
    };
    std::vector<float> embeds(size_t{dim} * audios.size());
    runner.run(build, set_inputs, [&] { ggml_backend_tensor_get(out, embeds.data(), 0, ggml_nbytes(out)); });
    return embeds;
}

std::vector<float> ClapModel::Impl::embed_texts(const std::vector<std::vector<int32_t>>& texts) {
    if (texts.empty()) throw Error(ErrorKind::invalid_input, "no text to run");
    size_t n_tokens = 0;
    for (const auto& t : texts) {
        if (t.empty() || t.size() + pad + 1 > n_ctx)
            throw Error(ErrorKind::invalid_input, fmt::format("a text of {} tokens: the model takes 1 to {}", t.size(),
                                                              n_ctx - pad - 1));
        for (const int32_t id : t)
            if (id < 0 || static_cast<uint32_t>(id) >= n_vocab || static_cast<uint32_t>(id) == pad)
                throw Error(ErrorKind::invalid_input, fmt::format("token id {} is outside the vocabulary ({}) or the "
                                                                  "padding id ({})", id, n_vocab, pad));
        n_tokens = std::max(n_tokens, t.size());
    }
    const auto n_t = static_cast<int64_t>(n_tokens), n_texts = static_cast<int64_t>(texts.size());
    // padded with pad_token_id; positions pad + 1, pad + 2, ... (create_position_ids_from_input_ids), pads at pad
    std::vector<int32_t> ids(n_tokens * texts.size(), static_cast<int32_t>(pad)), pos(ids.size(), static_cast<int32_t>(pad));
    std::vector<float> mask(ids.size(), -INFINITY);
    for (size_t i = 0; i < texts.size(); ++i)
        for (size_t j = 0; j < texts[i].size(); ++j) {
            ids[i * n_tokens + j] = texts[i][j];
            pos[i * n_tokens + j] = static_cast<int32_t>(pad + 1 + j);
            mask[i * n_tokens + j] = 0.0f;
        }
    const int64_t e = text.n_embd;
    ggml_tensor *ids_t = nullptr, *pos_t = nullptr, *mask_t = nullptr, *out = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        ids_t = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n_t * n_texts);
        pos_t = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n_t * n_texts);
        mask_t = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, n_t, 1, 1, n_texts);
        for (ggml_tensor* t : {ids_t, pos_t, mask_t}) ggml_set_input(t);
        ggml_tensor* x = ggml_add(ctx, ggml_get_rows(ctx, token_embd, ids_t), ggml_get_rows(ctx, t_position, pos_t));
        x = ggml_add(ctx, x, ggml_view_1d(ctx, token_types, e, 0));
        x = ggml_reshape_3d(ctx, layer_norm(ctx, x, t_embd_norm_w, t_embd_norm_b, text.norm_eps), e, n_t, n_texts);
        for (const VitBlock& b : text_blocks) {  // post-LN: attn_norm after the attention, ffn_norm after the MLP
            x = layer_norm(ctx, ggml_add(ctx, x, attention(ctx, x, b, text.n_head, nullptr, mask_t)), b.attn_norm_w,
                           b.attn_norm_b, text.norm_eps);
            x = layer_norm(ctx, ggml_add(ctx, x, ffn(ctx, x, b)), b.ffn_norm_w, b.ffn_norm_b, text.norm_eps);
        }
        ggml_tensor* cls = ggml_cont(ctx, ggml_view_2d(ctx, x, e, n_texts, x->nb[2], 0));
        ggml_tensor* pooled = ggml_tanh(ctx, build_linear(ctx, cls, pooler_w, pooler_b));
        out = build_linear(ctx, ggml_relu(ctx, build_linear(ctx, pooled, t_proj[0], t_proj[1])), t_proj[2], t_proj[3]);
        ggml_set_output(out);
        ggml_build_forward_expand(graph, out);
    };
    auto set_inputs = [&] {
        ggml_backend_tensor_set(ids_t, ids.data(), 0, ggml_nbytes(ids_t));
        ggml_backend_tensor_set(pos_t, pos.data(), 0, ggml_nbytes(pos_t));
        ggml_backend_tensor_set(mask_t, mask.data(), 0, ggml_nbytes(mask_t));
    };
    std::vector<float> embeds(size_t{dim} * texts.size());
    runner.run(build, set_inputs, [&] { ggml_backend_tensor_get(out, embeds.data(), 0, ggml_nbytes(out)); });
    return embeds;
}

ClapModel::ClapModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClapModel::ClapModel(ClapModel&&) noexcept = default;
ClapModel& ClapModel::operator=(ClapModel&&) noexcept = default;
ClapModel::~ClapModel() = default;

ClapModel ClapModel::load(const std::filesystem::path& gguf, const VisionParams& params) {
    auto m = std::make_unique<Impl>(gguf, params);
    m->dim = m->weights.get_u32("clap.projection_dim");
    m->read_audio();
    m->read_text();
    ggml_backend_tensor_get(m->weights.tensor("logit_scale_a", {1}, true), &m->logit_scale_a, 0, sizeof(float));
    m->weights.tensor("logit_scale_t", {1}, true);  // checked; logits_per_text would use it
    m->preprocessor = m->weights.find_string("clap.preprocessor_config").value_or("");
    const GgufWeights& w = m->weights;
    if (w.has("clap.tokenizer.tokens")) {
        model::RobertaVocab v{.tokens = w.get_strings("clap.tokenizer.tokens"),
                              .merges = w.get_strings("clap.tokenizer.merges"),
                              .bos = static_cast<int32_t>(w.get_u32("clap.tokenizer.bos_token_id")),
                              .eos = static_cast<int32_t>(w.get_u32("clap.tokenizer.eos_token_id")),
                              .unk = static_cast<int32_t>(w.get_u32("clap.tokenizer.unknown_token_id"))};
        if (v.tokens.size() != m->n_vocab)
            m->fail(fmt::format("clap.tokenizer.tokens has {} tokens, the model {}", v.tokens.size(), m->n_vocab));
        m->tokenizer.emplace(std::move(v));
    }
    return ClapModel(std::move(m));
}

uint32_t ClapModel::n_mels() const { return impl_->n_mels; }
uint32_t ClapModel::max_frames() const { return impl_->spec_size * impl_->freq_ratio; }
uint32_t ClapModel::context_length() const { return impl_->n_ctx - impl_->pad - 1; }
uint32_t ClapModel::pad_token_id() const { return impl_->pad; }
const std::string& ClapModel::preprocessor_config() const { return impl_->preprocessor; }
bool ClapModel::has_tokenizer() const { return impl_->tokenizer.has_value(); }

std::vector<int32_t> ClapModel::tokenize(std::string_view text) const {
    if (!impl_->tokenizer)
        impl_->fail("this CLAP GGUF has no tokenizer (convert it again from a folder with tokenizer.json)");
    return impl_->tokenizer->encode(text);
}

VisionMemory ClapModel::memory() const { return {impl_->weights.buffer_bytes(), impl_->runner.compute_buffer_bytes()}; }

std::vector<float> ClapModel::embed_audio(std::span<const ClapFeatures> audios) {
    auto e = impl_->embed_audio(audios);
    l2_normalize(e, impl_->dim);
    return e;
}

std::vector<float> ClapModel::embed_texts(const std::vector<std::vector<int32_t>>& texts) {
    auto e = impl_->embed_texts(texts);
    l2_normalize(e, impl_->dim);
    return e;
}

ClapOutput ClapModel::run(std::span<const ClapFeatures> audios, const std::vector<std::vector<int32_t>>& texts) {
    if (audios.empty() || texts.empty())
        throw Error(ErrorKind::invalid_input, "CLAP scores clips against texts: give at least one of each");
    ClapOutput o{static_cast<uint32_t>(audios.size()), static_cast<uint32_t>(texts.size()), impl_->dim, {}, {}, {}};
    o.audio_embeds = embed_audio(audios);
    o.text_embeds = embed_texts(texts);
    const double scale = std::exp(double(impl_->logit_scale_a));
    for (size_t a = 0; a < o.n_audios; ++a)
        for (size_t t = 0; t < o.n_texts; ++t) {
            double dot = 0;
            for (size_t d = 0; d < o.dim; ++d) dot += double(o.audio_embeds[a * o.dim + d]) * o.text_embeds[t * o.dim + d];
            o.logits_per_audio.push_back(static_cast<float>(scale * dot));
        }
    return o;
}

}  // namespace accel::engine
