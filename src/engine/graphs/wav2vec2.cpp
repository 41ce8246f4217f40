// Wav2Vec2ForCTC as a ggml graph, from transformers' modeling_wav2vec2.py: the convolutional feature encoder
// (Wav2Vec2FeatureEncoder: each Conv1d as im2col and one matmul, then a group norm with one group per channel after
// the first layer, or a layer norm after every layer, and the exact GELU), the feature projection (layer norm,
// linear), the positional convolution (grouped Conv1d with "same" padding, its weight norm folded by accel convert,
// GELU) added to the projection, the transformer (post-norm blocks behind a layer norm, or pre-norm "stable" blocks
// followed by it) and the CTC head. One clip at a time, so no attention mask: transformers passes none either for an
// unpadded clip.
#include <algorithm>

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

// Conv1d without padding over x: [length, channels in] (time fastest) -> [channels out, frames]. The kernel stays the
// matmul's first operand: ggml's fast CPU matmul (llamafile's tinyBLAS) wants its rows, the output channels, in
// multiples of 4, and a clip's frame count is any number.
ggml_tensor* conv1d(ggml_context* ctx, ggml_tensor* x, ggml_tensor* kernel, int stride, int pad) {
    ggml_tensor* cols = ggml_im2col(ctx, kernel, x, stride, 0, pad, 0, 1, 0, false, GGML_TYPE_F32);
    const int64_t k = cols->ne[0];
    ggml_tensor* w2 = ggml_reshape_2d(ctx, kernel, k, kernel->ne[2]);
    return ggml_mul_mat(ctx, w2, ggml_reshape_2d(ctx, cols, k, cols->ne[1] * cols->ne[2]));
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
    ggml_tensor* x = wave;  // [length, channels]: what im2col reads
    ggml_tensor* y = nullptr;
    for (size_t i = 0; i < convs.size(); ++i) {
        const ConvLayer& c = convs[i];
        y = conv1d(ctx, x, c.w, c.stride, 0);  // [dim, frames]
        if (c.b != nullptr) y = ggml_add(ctx, y, c.b);
        if (c.norm_w != nullptr && hp.layer_norm_convs) {
            y = graphs::build_layer_norm(ctx, y, c.norm_w, c.norm_b, conv_norm_eps);  // over channels, per frame
        } else if (c.norm_w != nullptr) {
            // GroupNorm(num_groups = channels): each channel over time, so normalize the transposed rows; GELU there
            // too, and that [frames, channels] result is what the next im2col reads (one transpose, not three)
            ggml_tensor* t = ggml_norm(ctx, ggml_cont(ctx, ggml_transpose(ctx, y)), conv_norm_eps);
            t = ggml_add(ctx, ggml_mul(ctx, t, ggml_reshape_2d(ctx, c.norm_w, 1, c.dim)),
                         ggml_reshape_2d(ctx, c.norm_b, 1, c.dim));
            x = ggml_gelu_erf(ctx, t);
            if (i + 1 == convs.size()) y = ggml_cont(ctx, ggml_transpose(ctx, x));
            continue;
        }
        y = ggml_gelu_erf(ctx, y);
        if (i + 1 < convs.size()) x = ggml_cont(ctx, ggml_transpose(ctx, y));
    }
    return y;
}

// Wav2Vec2PositionalConvEmbedding over x: [n_embd, frames]: a grouped Conv1d with kernel/2 padding on each side (the
// last frame dropped when the kernel is even), then GELU.
ggml_tensor* CtcModel::Impl::positional(ggml_context* ctx, ggml_tensor* x) const {
    const int64_t e = hp.blocks.n_embd, groups = hp.pos_groups, per = e / groups, frames = x->ne[1];
    const int k = static_cast<int>(hp.pos_kernel);
    // [frames, per, groups]: each group a batch of im2col
    ggml_tensor* xt = ggml_reshape_3d(ctx, ggml_cont(ctx, ggml_transpose(ctx, x)), frames, per, groups);
    ggml_tensor* cols = ggml_im2col(ctx, pos_w, xt, 1, 0, k / 2, 0, 1, 0, false, GGML_TYPE_F32);  // [k*per, out, groups]
    ggml_tensor* w3 = ggml_reshape_3d(ctx, pos_w, k * per, per, groups);  // out channel g*per + j: [.., j, g]
    ggml_tensor* y = ggml_mul_mat(ctx, w3, cols);                        // [per, out, groups]
    const int64_t out = y->ne[1];
    y = ggml_reshape_2d(ctx, ggml_cont(ctx, ggml_permute(ctx, y, 0, 2, 1, 3)), e, out);  // [n_embd, out]
    y = ggml_view_2d(ctx, y, e, frames, y->nb[1], 0);                                    // SamePad: first `frames`
    return ggml_gelu_erf(ctx, ggml_add(ctx, y, pos_b));
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
        x = ggml_add(ctx, x, graphs::build_ffn(ctx, x, blk, b.act));
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
    impl->read_tensors();
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
