#pragma once
// Private to engine/: DETR's ggml graph (detr.cpp) and what it reads from a "detr" GGUF (detr_weights.cpp). The
// keys and tensor names are those `accel convert` writes (docs/convert.md); docs/detr.md describes the graph.

#include <ggml.h>

#include <array>
#include <cstdint>
#include <vector>

#include "ggml_runtime.h"

namespace accel::engine::graphs {

struct DetrStage {
    uint32_t depth = 0, channels = 0, stride = 1;
};

struct DetrHparams {
    uint32_t n_embd = 0, n_queries = 0, n_labels = 0;
    uint32_t enc_layers = 0, enc_heads = 0, enc_ff = 0, dec_layers = 0, dec_heads = 0, dec_ff = 0;
    float ln_eps = 1e-5f, bn_eps = 1e-5f;
    bool bottleneck = false;
    uint32_t stride_in_first_conv = 0;  // bottleneck: the stride on the first 1x1 (1) or on the 3x3 (0)
    uint32_t stem_channels = 0;
    std::vector<DetrStage> stages;
};

struct ConvBn {
    ggml_tensor *w = nullptr, *bn_w = nullptr, *bn_b = nullptr, *bn_mean = nullptr, *bn_var = nullptr;
    uint32_t stride = 1;
};

struct ResBlock {
    std::vector<ConvBn> convs;  // basic: 3x3, 3x3; bottleneck: 1x1, 3x3, 1x1
    bool has_shortcut = false;
    ConvBn shortcut;
};

struct Linear {
    ggml_tensor *w = nullptr, *b = nullptr;
};
struct Norm {
    ggml_tensor *w = nullptr, *b = nullptr;
};
struct Attention {
    Linear q, k, v, out;
};
struct Ffn {
    Linear up, down;
    Norm norm;
};
struct DetrEncoderLayer {
    Attention attn;
    Norm attn_norm;
    Ffn ffn;
};
struct DetrDecoderLayer {
    Attention self;
    Norm self_norm;
    Attention cross;
    Norm cross_norm;
    Ffn ffn;
};

struct DetrWeights {
    ConvBn stem;
    std::vector<ResBlock> blocks;  // every stage's, in order
    Linear input_proj;             // weight [1, 1, C, d_model]
    ggml_tensor* query = nullptr;  // [d_model, n_queries]
    std::vector<DetrEncoderLayer> enc;
    std::vector<DetrDecoderLayer> dec;
    Norm dec_norm;
    Linear cls;
    std::array<Linear, 3> bbox;
};

// Read and check detr.* (Error{invalid_input} naming the file) and the tensors, each against the shapes they imply.
DetrHparams read_detr_hparams(const GgufWeights& w);
DetrWeights read_detr_weights(const GgufWeights& w, const DetrHparams& hp);

struct DetrGraphInputs {
    ggml_tensor* pixels;      // [W, H, 3, N]
    ggml_tensor* pos;         // [d_model, tokens, N]: the sine position embedding
    ggml_tensor* enc_mask;    // [tokens, tokens, 1, N]: 0, or -inf for a padded key
    ggml_tensor* cross_mask;  // [tokens, n_queries, 1, N]
};
struct DetrGraphOutputs {
    ggml_tensor* logits;  // [n_labels + 1, n_queries, N]
    ggml_tensor* boxes;   // [4, n_queries, N]
};
DetrGraphOutputs build_detr(ggml_context* ctx, const DetrHparams& hp, const DetrWeights& w, const DetrGraphInputs& in);

// The backbone's output side for an input side of `pixels` (the stem, the pool, each stage's stride).
uint32_t detr_feature_size(uint32_t pixels, const DetrHparams& hp);
// pixel_mask [height][width] at the feature map's h x w, as torch's nearest interpolation.
std::vector<uint8_t> detr_feature_mask(const uint8_t* mask, uint32_t height, uint32_t width, uint32_t h, uint32_t w);
// DetrSinePositionEmbedding(d / 2, normalize=True) of a feature mask: out [h * w][d] (y's half, then x's).
void detr_sine_position(const std::vector<uint8_t>& mask, uint32_t h, uint32_t w, uint32_t d, float* out);

}  // namespace accel::engine::graphs
