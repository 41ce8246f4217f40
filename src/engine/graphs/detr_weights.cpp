// What DETR's graph reads from a "detr" GGUF: the hyperparameters (detr.*) and every tensor, each checked against
// the shape the hyperparameters imply (names as hf_arch_detr.cpp writes them; docs/convert.md).
#include <fmt/core.h>

#include "accel/core/error.h"
#include "detr_graph.h"

namespace accel::engine::graphs {
namespace {

ConvBn conv_bn(const GgufWeights& w, const std::string& name, int64_t out, int64_t in, int64_t k, uint32_t stride) {
    ConvBn c;
    c.w = w.tensor(name + ".weight", {k, k, in, out});
    c.bn_w = w.tensor(name + ".bn.weight", {out});
    c.bn_b = w.tensor(name + ".bn.bias", {out});
    c.bn_mean = w.tensor(name + ".bn.mean", {out});
    c.bn_var = w.tensor(name + ".bn.var", {out});
    c.stride = stride;
    return c;
}

Linear linear(const GgufWeights& w, const std::string& name, int64_t in, int64_t out) {
    return {w.tensor(name + ".weight", {in, out}), w.tensor(name + ".bias", {out})};
}

Norm norm(const GgufWeights& w, const std::string& name, int64_t n) {
    return {w.tensor(name + ".weight", {n}), w.tensor(name + ".bias", {n})};
}

Attention attention(const GgufWeights& w, const std::string& prefix, int64_t e) {
    return {linear(w, prefix + "_q", e, e), linear(w, prefix + "_k", e, e), linear(w, prefix + "_v", e, e),
            linear(w, prefix + "_out", e, e)};
}

Ffn ffn(const GgufWeights& w, const std::string& blk, int64_t e, int64_t ff) {
    return {linear(w, blk + "ffn_up", e, ff), linear(w, blk + "ffn_down", ff, e), norm(w, blk + "ffn_norm", e)};
}

std::vector<ResBlock> read_blocks(const GgufWeights& w, const DetrHparams& hp) {
    std::vector<ResBlock> blocks;
    int64_t in = hp.stem_channels;
    for (size_t s = 0; s < hp.stages.size(); ++s) {
        const int64_t out = hp.stages[s].channels, mid = hp.bottleneck ? out / 4 : out;
        for (uint32_t l = 0; l < hp.stages[s].depth; ++l) {
            const std::string b = fmt::format("backbone.{}.{}.", s, l);
            const uint32_t stride = l == 0 ? hp.stages[s].stride : 1;
            ResBlock r;
            if (hp.bottleneck) {
                const bool first = hp.stride_in_first_conv != 0;
                r.convs = {conv_bn(w, b + "conv.0", mid, in, 1, first ? stride : 1),
                           conv_bn(w, b + "conv.1", mid, mid, 3, first ? 1 : stride),
                           conv_bn(w, b + "conv.2", out, mid, 1, 1)};
            } else {
                r.convs = {conv_bn(w, b + "conv.0", out, in, 3, stride), conv_bn(w, b + "conv.1", out, out, 3, 1)};
            }
            r.has_shortcut = in != out || stride != 1;
            if (r.has_shortcut) r.shortcut = conv_bn(w, b + "shortcut", out, in, 1, stride);
            blocks.push_back(std::move(r));
            in = out;
        }
    }
    return blocks;
}

}  // namespace

DetrHparams read_detr_hparams(const GgufWeights& w) {
    DetrHparams hp;
    hp.n_embd = w.get_u32("detr.embedding_length");
    hp.n_queries = w.get_u32("detr.query_count");
    hp.enc_layers = w.get_u32("detr.encoder.block_count");
    hp.enc_heads = w.get_u32("detr.encoder.attention.head_count");
    hp.enc_ff = w.get_u32("detr.encoder.feed_forward_length");
    hp.dec_layers = w.get_u32("detr.decoder.block_count");
    hp.dec_heads = w.get_u32("detr.decoder.attention.head_count");
    hp.dec_ff = w.get_u32("detr.decoder.feed_forward_length");
    hp.ln_eps = w.get_f32("detr.attention.layer_norm_epsilon");
    hp.bn_eps = w.get_f32("detr.backbone.batch_norm_epsilon");
    const std::string type = w.find_string("detr.backbone.layer_type").value_or("");
    if (type != "basic" && type != "bottleneck")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: detr.backbone.layer_type '{}' is neither basic nor "
                                                          "bottleneck", w.file().string(), type));
    hp.bottleneck = type == "bottleneck";
    hp.stride_in_first_conv = w.get_u32("detr.backbone.stride_in_first_conv");
    hp.stem_channels = w.get_u32("detr.backbone.embedding_size");
    const uint32_t n_stages = w.get_u32("detr.backbone.stage_count");
    const bool heads_ok = hp.enc_heads > 0 && hp.dec_heads > 0 && hp.n_embd % hp.enc_heads == 0 &&
                          hp.n_embd % hp.dec_heads == 0 && hp.n_embd % 4 == 0;
    if (!heads_ok || n_stages == 0 || n_stages > 16 || hp.enc_layers > 1024 || hp.dec_layers > 1024 ||
        hp.n_queries > 65536)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: inconsistent detr.* hyperparameters", w.file().string()));
    for (uint32_t s = 0; s < n_stages; ++s) {
        const DetrStage st{w.get_u32(fmt::format("detr.backbone.stage.{}.block_count", s)),
                           w.get_u32(fmt::format("detr.backbone.stage.{}.channels", s)),
                           w.get_u32(fmt::format("detr.backbone.stage.{}.stride", s))};
        if (st.depth == 0 || st.depth > 1024 || (st.stride != 1 && st.stride != 2) ||
            (hp.bottleneck && st.channels % 4 != 0))
            throw Error(ErrorKind::invalid_input, fmt::format("{}: inconsistent detr.backbone.stage.{}.*",
                                                              w.file().string(), s));
        hp.stages.push_back(st);
    }
    return hp;
}

DetrWeights read_detr_weights(const GgufWeights& w, const DetrHparams& hp) {
    const int64_t e = hp.n_embd;
    DetrWeights d;
    d.stem = conv_bn(w, "backbone.stem", hp.stem_channels, 3, 7, 2);
    d.blocks = read_blocks(w, hp);
    d.input_proj = {w.tensor("input_proj.weight", {1, 1, hp.stages.back().channels, e}), w.tensor("input_proj.bias", {e})};
    d.query = w.tensor("query_embd.weight", {e, hp.n_queries}, true);
    for (uint32_t i = 0; i < hp.enc_layers; ++i) {
        const std::string b = fmt::format("enc.blk.{}.", i);
        d.enc.push_back({attention(w, b + "attn", e), norm(w, b + "attn_norm", e), ffn(w, b, e, hp.enc_ff)});
    }
    for (uint32_t i = 0; i < hp.dec_layers; ++i) {
        const std::string b = fmt::format("dec.blk.{}.", i);
        d.dec.push_back({attention(w, b + "attn", e), norm(w, b + "attn_norm", e), attention(w, b + "cross", e),
                         norm(w, b + "cross_norm", e), ffn(w, b, e, hp.dec_ff)});
    }
    d.dec_norm = norm(w, "dec.post_norm", e);
    d.cls = linear(w, "cls", e, hp.n_labels + 1);
    d.bbox = {linear(w, "bbox.0", e, e), linear(w, "bbox.1", e, e), linear(w, "bbox.2", e, 4)};
    return d;
}

}  // namespace accel::engine::graphs
