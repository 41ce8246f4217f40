// XCLIPModel as one ggml graph, from transformers' modeling_x_clip.py. Frames: CLIP's vision embeddings (shared ViT
// encoder, vit_encoder.h) through X-CLIP's cross-frame blocks: each block turns every frame's CLS state into a
// message token (message_fc), lets the frames' message tokens attend to each other (message_ln, message_attn),
// appends each frame's token to its sequence for the block's self-attention and drops it before the MLP. The CLS
// state after post_layernorm is projected (visual_projection); the multi-frame integration transformer (mit: frame
// positions, pre-LN blocks, a residual) averages the frames into the video embedding. The patch states (before
// post_layernorm) are normalized, projected (prompts_visual_projection) and averaged over frames; the prompt
// generator's cross-attention layers let each text embedding (CLIP's text tower, pooled at its first EOS) attend to
// them, and text += alpha * prompt. Both are L2-normalized; logits = exp(logit_scale) * cosine.
#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/xclip_model.h"
#include "accel/model/clip_tokenizer.h"
#include "ggml_runtime.h"
#include "vit_encoder.h"

namespace accel::engine {

using graphs::build_linear;
using graphs::GgufWeights;
using graphs::GraphRunner;
using graphs::VitBlock;
using graphs::VitHparams;

namespace {

void check_xclip(const GgufWeights& w) {
    const std::string arch = w.architecture();
    if (arch != "xclip")
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: a '{}' model, not an X-CLIP model (xclip)", w.file().string(), arch));
}

graphs::Activation read_activation(const GgufWeights& w) {
    const std::string act = w.find_string("xclip.activation").value_or("quick_gelu");
    if (act == "quick_gelu") return graphs::Activation::quick_gelu;
    if (act == "gelu") return graphs::Activation::gelu_erf;
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: xclip.activation '{}' (accel has quick_gelu and gelu)", w.file().string(), act));
}

void l2_normalize(std::vector<float>& v, size_t dim) {
    for (size_t at = 0; at + dim <= v.size(); at += dim) {
        double s = 0;
        for (size_t i = 0; i < dim; ++i) s += double(v[at + i]) * v[at + i];
        const double n = std::sqrt(s);
        for (size_t i = 0; i < dim; ++i) v[at + i] = static_cast<float>(v[at + i] / n);
    }
}

struct MessageWeights {  // a cross-frame block's message path (its other tensors are a VitBlock's)
    ggml_tensor *fc_w, *fc_b, *norm_w, *norm_b;
    VitBlock attn;  // only the q, k, v and output projections are set
};

struct PromptLayer {
    ggml_tensor *norm1_w, *norm1_b, *q_w, *k_w, *v_w, *out_w, *out_b, *norm3_w, *norm3_b;
    VitBlock mlp;  // only up and down are set
};

// Multi-head attention of queries x: [d, n_q] over kv: [d, n_kv] without biases in q, k, v (XCLIPCrossAttention).
ggml_tensor* cross_attention(ggml_context* ctx, ggml_tensor* x, ggml_tensor* kv, const PromptLayer& l, int64_t n_head) {
    const int64_t d = x->ne[0], hd = d / n_head, n_q = x->ne[1], n_kv = kv->ne[1];
    auto split = [&](ggml_tensor* t, int64_t n) {  // [d, n] -> [hd, n, n_head]
        return ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_3d(ctx, t, hd, n_head, n), 0, 2, 1, 3));
    };
    ggml_tensor* q = split(ggml_mul_mat(ctx, l.q_w, x), n_q);
    ggml_tensor* k = split(ggml_mul_mat(ctx, l.k_w, kv), n_kv);
    ggml_tensor* v = ggml_reshape_3d(ctx, ggml_mul_mat(ctx, l.v_w, kv), hd, n_head, n_kv);
    v = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3));  // [n_kv, hd, n_head]
    ggml_tensor* kq = ggml_soft_max_ext(ctx, ggml_mul_mat(ctx, k, q), nullptr, 1.0f / std::sqrt(float(hd)), 0.0f);
    ggml_tensor* o = ggml_mul_mat(ctx, v, kq);  // [hd, n_q, n_head]
    o = ggml_reshape_2d(ctx, ggml_cont(ctx, ggml_permute(ctx, o, 0, 2, 1, 3)), d, n_q);
    return build_linear(ctx, o, l.out_w, l.out_b);
}

// The mean over the last axis of x: [a, b, n] -> [a, b].
ggml_tensor* mean_last(ggml_context* ctx, ggml_tensor* x) {
    ggml_tensor* t = ggml_cont(ctx, ggml_permute(ctx, x, 1, 2, 0, 3));  // [n, a, b]
    return ggml_reshape_2d(ctx, ggml_mean(ctx, t), x->ne[0], x->ne[1]);
}

}  // namespace

struct XclipModel::Impl {
    GraphRunner runner;
    GgufWeights weights;
    VitHparams vision, text, mit;
    graphs::VitEncoderWeights vision_w;
    std::vector<MessageWeights> messages;
    std::vector<VitBlock> text_blocks, mit_blocks;
    std::vector<PromptLayer> prompt;
    ggml_tensor *v_proj = nullptr, *t_proj = nullptr, *token_embd = nullptr, *t_position = nullptr;
    ggml_tensor *t_norm_w = nullptr, *t_norm_b = nullptr, *mit_position = nullptr;
    ggml_tensor *p_visual_norm_w = nullptr, *p_visual_norm_b = nullptr, *p_visual_proj = nullptr;
    ggml_tensor *p_norm_w = nullptr, *p_norm_b = nullptr, *p_alpha = nullptr;
    uint32_t n_vocab = 0, n_ctx = 0, eos = 0, dim = 0, n_frames = 0, prompt_heads = 0;
    float prompt_eps = 1e-5f, logit_scale = 0;
    media::ImageProcessorConfig processor;
    std::optional<model::ClipTokenizer> tokenizer;

    Impl(const std::filesystem::path& file, const VisionParams& params)
        : runner(params.device, params.n_threads), weights(file, runner.device(), check_xclip) {}

    void read_hparams();
    void read_tensors();
    void read_prompt_tensors();
    ggml_tensor* frame_block(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, const MessageWeights& m) const;
    // pixels [S, S, 3, F] -> the video embedding [dim] and the frames' mean patch features [dim, n_patches]
    std::pair<ggml_tensor*, ggml_tensor*> build_video(ggml_context* ctx, ggml_tensor* pixels) const;
    ggml_tensor* build_texts(ggml_context* ctx, ggml_tensor* ids, ggml_tensor* rows, int64_t n_t,
                             int64_t n_texts) const;
    ggml_tensor* build_prompt(ggml_context* ctx, ggml_tensor* texts, ggml_tensor* patches) const;
    void check_frames(std::span<const media::PixelValues> frames) const;
    std::vector<int32_t> pack_texts(const std::vector<std::vector<int32_t>>& texts, size_t& n_tokens,
                                    std::vector<int32_t>& pooled) const;
};

void XclipModel::Impl::read_hparams() {
    const GgufWeights& w = weights;
    vision = graphs::read_vit_hparams(w, "xclip.vision");
    vision.act = read_activation(w);
    vision.pre_norm = true;
    vision.patch_bias = false;
    text = graphs::read_block_hparams(w, "xclip.text");
    mit = graphs::read_block_hparams(w, "xclip.mit");
    text.act = mit.act = vision.act;
    n_vocab = w.get_u32("xclip.text.vocab_size");
    n_ctx = w.get_u32("xclip.text.context_length");
    eos = w.get_u32("xclip.text.eos_token_id");
    dim = w.get_u32("xclip.projection_dim");
    n_frames = w.get_u32("xclip.vision.num_frames");
    prompt_heads = w.get_u32("xclip.prompt.attention.head_count");
    prompt_eps = w.get_f32("xclip.prompt.attention.layer_norm_epsilon");
    if (mit.n_embd != dim || prompt_heads == 0 || dim % prompt_heads != 0 || n_frames == 0 || n_frames > 1024)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: inconsistent xclip.* hyperparameters (projection {}, "
                                                          "integration width {}, {} prompt heads, {} frames)",
                                                          w.file().string(), dim, mit.n_embd, prompt_heads, n_frames));
}

void XclipModel::Impl::read_tensors() {
    const GgufWeights& w = weights;
    vision_w = graphs::read_vit_encoder(w, vision, "v.");
    const int64_t ve = vision.n_embd, te = text.n_embd, d = dim;
    for (uint32_t i = 0; i < vision.n_layer; ++i) {
        const std::string b = fmt::format("v.blk.{}.", i);
        auto t = [&](const std::string& name, std::vector<int64_t> ne) { return w.tensor(b + name, std::move(ne)); };
        MessageWeights m{t("msg_fc.weight", {ve, ve}),
                         t("msg_fc.bias", {ve}),
                         t("msg_norm.weight", {ve}),
                         t("msg_norm.bias", {ve}),
                         {}};
        m.attn.q_w = t("msg_attn_q.weight", {ve, ve});
        m.attn.q_b = t("msg_attn_q.bias", {ve});
        m.attn.k_w = t("msg_attn_k.weight", {ve, ve});
        m.attn.k_b = t("msg_attn_k.bias", {ve});
        m.attn.v_w = t("msg_attn_v.weight", {ve, ve});
        m.attn.v_b = t("msg_attn_v.bias", {ve});
        m.attn.out_w = t("msg_attn_out.weight", {ve, ve});
        m.attn.out_b = t("msg_attn_out.bias", {ve});
        messages.push_back(m);
    }
    v_proj = w.tensor("v.proj.weight", {ve, d});
    mit_position = w.tensor("mit.position_embd", {d, n_frames}, true);
    mit_blocks = graphs::read_encoder_blocks(w, mit, "mit.");
    token_embd = w.tensor("t.token_embd.weight", {te, n_vocab});
    t_position = w.tensor("t.position_embd.weight", {te, n_ctx}, true);
    text_blocks = graphs::read_encoder_blocks(w, text, "t.");
    t_norm_w = w.tensor("t.post_norm.weight", {te});
    t_norm_b = w.tensor("t.post_norm.bias", {te});
    t_proj = w.tensor("t.proj.weight", {te, d});
    read_prompt_tensors();
    ggml_backend_tensor_get(w.tensor("logit_scale", {1}, true), &logit_scale, 0, sizeof logit_scale);
}

void XclipModel::Impl::read_prompt_tensors() {
    const GgufWeights& w = weights;
    const int64_t ve = vision.n_embd, d = dim;
    p_visual_norm_w = w.tensor("p.visual_norm.weight", {ve});
    p_visual_norm_b = w.tensor("p.visual_norm.bias", {ve});
    p_visual_proj = w.tensor("p.visual_proj", {d, ve}, true);
    p_norm_w = w.tensor("p.norm.weight", {d});
    p_norm_b = w.tensor("p.norm.bias", {d});
    p_alpha = w.tensor("p.alpha", {d});
    const uint32_t n_layers = w.get_u32("xclip.prompt.block_count");
    for (uint32_t i = 0; i < n_layers; ++i) {
        const std::string b = fmt::format("p.blk.{}.", i);
        auto t = [&](const std::string& name, std::vector<int64_t> ne) { return w.tensor(b + name, std::move(ne)); };
        PromptLayer l{t("attn_norm.weight", {d}), t("attn_norm.bias", {d}),
                      t("attn_q.weight", {d, d}), t("attn_k.weight", {d, d}),
                      t("attn_v.weight", {d, d}), t("attn_out.weight", {d, d}),
                      t("attn_out.bias", {d}),    t("ffn_norm.weight", {d}),
                      t("ffn_norm.bias", {d}),    {}};
        l.mlp.up_w = t("ffn_up.weight", {d, 4 * d});
        l.mlp.up_b = t("ffn_up.bias", {4 * d});
        l.mlp.down_w = t("ffn_down.weight", {4 * d, d});
        l.mlp.down_b = t("ffn_down.bias", {d});
        prompt.push_back(l);
    }
}

// One XCLIPVisionEncoderLayer over x: [ve, n_tokens, F] (one video).
ggml_tensor* XclipModel::Impl::frame_block(ggml_context* ctx, ggml_tensor* x, const VitBlock& b,
                                           const MessageWeights& m) const {
    const int64_t ve = x->ne[0], n_tokens = x->ne[1], f = x->ne[2];
    ggml_tensor* cls = ggml_cont(ctx, ggml_view_2d(ctx, x, ve, f, x->nb[2], 0));  // [ve, F]
    ggml_tensor* msg = ggml_reshape_3d(ctx, build_linear(ctx, cls, m.fc_w, m.fc_b), ve, f, 1);
    ggml_tensor* mn = graphs::build_layer_norm(ctx, msg, m.norm_w, m.norm_b, vision.norm_eps);
    msg = ggml_add(ctx, msg, graphs::build_self_attention(ctx, mn, m.attn, vision, false));
    ggml_tensor* h = ggml_concat(ctx, x, ggml_reshape_3d(ctx, msg, ve, 1, f), 1);  // [ve, n_tokens + 1, F]
    ggml_tensor* a = graphs::build_layer_norm(ctx, h, b.attn_norm_w, b.attn_norm_b, vision.norm_eps);
    h = ggml_add(ctx, h, graphs::build_self_attention(ctx, a, b, vision, false));
    x = ggml_cont(ctx, ggml_view_3d(ctx, h, ve, n_tokens, f, h->nb[1], h->nb[2], 0));  // the message token dropped
    ggml_tensor* n = graphs::build_layer_norm(ctx, x, b.ffn_norm_w, b.ffn_norm_b, vision.norm_eps);
    return ggml_add(ctx, x, graphs::build_ffn(ctx, n, b, vision.act));
}

std::pair<ggml_tensor*, ggml_tensor*> XclipModel::Impl::build_video(ggml_context* ctx, ggml_tensor* pixels) const {
    ggml_tensor* x = graphs::build_vit_embeddings(ctx, vision, vision_w, pixels);  // [ve, T, F]
    for (size_t i = 0; i < vision_w.blocks.size(); ++i) x = frame_block(ctx, x, vision_w.blocks[i], messages[i]);
    const int64_t ve = x->ne[0], n_tokens = x->ne[1], f = x->ne[2], d = dim;
    // the video: CLS after post_layernorm, projected, through the integration transformer, averaged over frames
    ggml_tensor* cls = ggml_cont(ctx, ggml_view_2d(ctx, x, ve, f, x->nb[2], 0));
    cls = graphs::build_layer_norm(ctx, cls, vision_w.post_norm_w, vision_w.post_norm_b, vision.norm_eps);
    ggml_tensor* frames = ggml_mul_mat(ctx, v_proj, cls);  // [d, F]
    ggml_tensor* y = ggml_reshape_3d(ctx, ggml_add(ctx, frames, mit_position), d, f, 1);
    y = graphs::build_encoder_blocks(ctx, y, mit_blocks, mit, false);
    y = ggml_add(ctx, ggml_reshape_2d(ctx, y, d, f), frames);
    ggml_tensor* video = ggml_reshape_1d(ctx, ggml_mean(ctx, ggml_cont(ctx, ggml_transpose(ctx, y))), d);
    // the patches: normalized, projected by x @ P, averaged over frames
    ggml_tensor* p = ggml_cont(ctx, ggml_view_3d(ctx, x, ve, n_tokens - 1, f, x->nb[1], x->nb[2], x->nb[1]));
    p = graphs::build_layer_norm(ctx, p, p_visual_norm_w, p_visual_norm_b, vision.norm_eps);
    ggml_tensor* proj = ggml_cont(ctx, ggml_transpose(ctx, p_visual_proj));  // [ve, d]
    p = ggml_reshape_3d(ctx, ggml_mul_mat(ctx, proj, ggml_reshape_2d(ctx, p, ve, (n_tokens - 1) * f)), d, n_tokens - 1,
                        f);
    return {video, mean_last(ctx, p)};
}

ggml_tensor* XclipModel::Impl::build_texts(ggml_context* ctx, ggml_tensor* ids, ggml_tensor* rows, int64_t n_t,
                                           int64_t n_texts) const {
    const int64_t e = text.n_embd;
    ggml_tensor* x = ggml_reshape_3d(ctx, ggml_get_rows(ctx, token_embd, ids), e, n_t, n_texts);
    x = ggml_add(ctx, x, ggml_view_2d(ctx, t_position, e, n_t, t_position->nb[1], 0));
    x = graphs::build_encoder_blocks(ctx, x, text_blocks, text, true);
    x = graphs::build_layer_norm(ctx, x, t_norm_w, t_norm_b, text.norm_eps);
    ggml_tensor* eos_states = ggml_get_rows(ctx, ggml_reshape_2d(ctx, x, e, n_t * n_texts), rows);
    return ggml_mul_mat(ctx, t_proj, eos_states);  // [d, n_texts]
}

// XCLIPPromptGenerator: texts [d, n_texts] attend to the video's patch features [d, n_patches]; texts + alpha * out.
ggml_tensor* XclipModel::Impl::build_prompt(ggml_context* ctx, ggml_tensor* texts, ggml_tensor* patches) const {
    ggml_tensor* visual = graphs::build_layer_norm(ctx, patches, p_norm_w, p_norm_b, vision.norm_eps);
    ggml_tensor* t = texts;
    for (const auto& l : prompt) {
        ggml_tensor* q = graphs::build_layer_norm(ctx, t, l.norm1_w, l.norm1_b, prompt_eps);
        t = ggml_add(ctx, t, cross_attention(ctx, q, visual, l, prompt_heads));
        ggml_tensor* h = graphs::build_layer_norm(ctx, t, l.norm3_w, l.norm3_b, prompt_eps);
        t = ggml_add(ctx, t, graphs::build_ffn(ctx, h, l.mlp, vision.act));
    }
    return ggml_add(ctx, texts, ggml_mul(ctx, t, p_alpha));
}

XclipModel::XclipModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XclipModel::XclipModel(XclipModel&&) noexcept = default;
XclipModel& XclipModel::operator=(XclipModel&&) noexcept = default;
XclipModel::~XclipModel() = default;

XclipModel XclipModel::load(const std::filesystem::path& gguf, const VisionParams& params) {
    auto m = std::make_unique<Impl>(gguf, params);
    m->read_hparams();
    m->read_tensors();
    const GgufWeights& w = m->weights;
    m->processor = media::parse_image_processor_config(
        w.find_string("xclip.preprocessor_config").value_or(R"({"image_processor_type": "VideoMAEImageProcessor"})"),
        gguf.string() + " (xclip.preprocessor_config)");
    if (auto v = graphs::read_clip_vocab(w, "xclip", m->eos, m->n_vocab, gguf.string()))
        m->tokenizer.emplace(std::move(*v));
    return XclipModel(std::move(m));
}

const media::ImageProcessorConfig& XclipModel::processor() const {
    return impl_->processor;
}
uint32_t XclipModel::image_size() const {
    return impl_->vision.image_size;
}
uint32_t XclipModel::n_frames() const {
    return impl_->n_frames;
}
uint32_t XclipModel::context_length() const {
    return impl_->n_ctx;
}
uint32_t XclipModel::eos_token_id() const {
    return impl_->eos;
}
VisionMemory XclipModel::memory() const {
    return {impl_->weights.buffer_bytes(), impl_->runner.compute_buffer_bytes()};
}
bool XclipModel::has_tokenizer() const {
    return impl_->tokenizer.has_value();
}

std::vector<int32_t> XclipModel::tokenize(std::string_view text) const {
    if (!impl_->tokenizer)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: this X-CLIP GGUF has no tokenizer (convert it again "
                                                          "from a folder with vocab.json and merges.txt, or "
                                                          "tokenizer.json)",
                                                          impl_->weights.file().string()));
    return impl_->tokenizer->encode(text);
}

void XclipModel::Impl::check_frames(std::span<const media::PixelValues> frames) const {
    if (frames.size() != n_frames)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a video of {} frames: the model takes {}",
                                                          weights.file().string(), frames.size(), n_frames));
}

std::vector<int32_t> XclipModel::Impl::pack_texts(const std::vector<std::vector<int32_t>>& texts, size_t& n_tokens,
                                                  std::vector<int32_t>& pooled) const {
    n_tokens = 0;
    for (const auto& t : texts) {
        const auto eos_at = std::find(t.begin(), t.end(), static_cast<int32_t>(eos));
        if (t.size() > n_ctx || eos_at == t.end())
            throw Error(ErrorKind::invalid_input, fmt::format("a text of {} tokens: the model takes at most {}, ending "
                                                              "with EOS ({})",
                                                              t.size(), n_ctx, eos));
        for (const int32_t id : t)
            if (id < 0 || static_cast<uint32_t>(id) >= n_vocab)
                throw Error(ErrorKind::invalid_input,
                            fmt::format("token id {} is outside the vocabulary ({})", id, n_vocab));
        n_tokens = std::max(n_tokens, t.size());
    }
    std::vector<int32_t> ids(n_tokens * texts.size(), static_cast<int32_t>(eos));  // padded with EOS
    for (size_t i = 0; i < texts.size(); ++i) {
        std::copy(texts[i].begin(), texts[i].end(), ids.begin() + static_cast<ptrdiff_t>(i * n_tokens));
        const auto at = std::find(texts[i].begin(), texts[i].end(), static_cast<int32_t>(eos)) - texts[i].begin();
        pooled.push_back(static_cast<int32_t>(i * n_tokens + static_cast<size_t>(at)));
    }
    return ids;
}

std::vector<float> XclipModel::embed_video(std::span<const media::PixelValues> frames) {
    Impl& m = *impl_;
    m.check_frames(frames);
    graphs::PixelInput input(frames, m.vision.image_size);
    ggml_tensor* out = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        out = m.build_video(ctx, input.create(ctx)).first;
        ggml_set_output(out);
        ggml_build_forward_expand(graph, out);
    };
    std::vector<float> e(m.dim);
    m.runner.run(build, [&] { input.set(); }, [&] { ggml_backend_tensor_get(out, e.data(), 0, ggml_nbytes(out)); });
    l2_normalize(e, m.dim);
    return e;
}

XclipOutput XclipModel::run(std::span<const media::PixelValues> frames,
                            const std::vector<std::vector<int32_t>>& texts) {
    Impl& m = *impl_;
    if (texts.empty()) throw Error(ErrorKind::invalid_input, "X-CLIP scores a video against texts: give at least one");
    m.check_frames(frames);
    size_t n_tokens = 0;
    std::vector<int32_t> pooled;
    const std::vector<int32_t> ids = m.pack_texts(texts, n_tokens, pooled);
    graphs::PixelInput input(frames, m.vision.image_size);
    const auto n_t = static_cast<int64_t>(n_tokens), n_texts = static_cast<int64_t>(texts.size());
    ggml_tensor *ids_t = nullptr, *rows_t = nullptr, *video = nullptr, *text_out = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        ids_t = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n_t * n_texts);
        rows_t = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n_texts);
        ggml_set_input(ids_t);
        ggml_set_input(rows_t);
        auto [v, patches] = m.build_video(ctx, input.create(ctx));
        video = v;
        text_out = m.build_prompt(ctx, m.build_texts(ctx, ids_t, rows_t, n_t, n_texts), patches);
        ggml_set_output(video);
        ggml_set_output(text_out);
        ggml_build_forward_expand(graph, video);
        ggml_build_forward_expand(graph, text_out);
    };
    auto set_inputs = [&] {
        input.set();
        ggml_backend_tensor_set(ids_t, ids.data(), 0, ggml_nbytes(ids_t));
        ggml_backend_tensor_set(rows_t, pooled.data(), 0, ggml_nbytes(rows_t));
    };
    XclipOutput o{static_cast<uint32_t>(texts.size()),
                  m.dim,
                  std::vector<float>(m.dim),
                  std::vector<float>(size_t{m.dim} * texts.size()),
                  {}};
    m.runner.run(build, set_inputs, [&] {
        ggml_backend_tensor_get(video, o.video_embeds.data(), 0, ggml_nbytes(video));
        ggml_backend_tensor_get(text_out, o.text_embeds.data(), 0, ggml_nbytes(text_out));
    });
    l2_normalize(o.video_embeds, o.dim);
    l2_normalize(o.text_embeds, o.dim);
    const double scale = std::exp(double(m.logit_scale));
    for (size_t t = 0; t < o.n_texts; ++t) {
        double dot = 0;
        for (size_t d = 0; d < o.dim; ++d) dot += double(o.video_embeds[d]) * o.text_embeds[t * o.dim + d];
        o.logits_per_video.push_back(static_cast<float>(scale * dot));
    }
    return o;
}

}  // namespace accel::engine
