#pragma once
// Private to engine/graphs: the ViT encoder as a ggml graph, from transformers' modeling_vit.py (ViTEmbeddings,
// ViTLayer, the final layernorm): patch embedding (a stride-p convolution, as im2col and one matmul), the CLS token,
// absolute position embeddings, pre-LN blocks (attention, then an MLP with the exact erf GELU), the final
// layernorm. Shared by vit.cpp and, later, CLIP's image tower.

#include <ggml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/media/image_processor.h"
#include "accel/model/clip_tokenizer.h"
#include "ggml_runtime.h"

namespace accel::engine::graphs {

enum class Activation : uint8_t { gelu_erf, quick_gelu };  // HF "gelu" (exact erf), "quick_gelu" x*sigmoid(1.702x)

struct VitHparams {
    uint32_t image_size = 0, patch_size = 0, n_channels = 3, n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0;
    float norm_eps = 1e-12f;
    Activation act = Activation::gelu_erf;
    bool pre_norm = false;    // a layernorm after the embeddings (CLIP's pre_layrnorm)
    bool patch_bias = true;   // CLIP's patch convolution has none
    bool flash_attn = false;  // unmasked attention as one ggml_flash_attn_ext over f32 K/V (set where it runs: CPU)
    uint32_t n_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
    uint32_t n_tokens() const { return n_patches() + 1; }
};

struct VitBlock {
    ggml_tensor *attn_norm_w, *attn_norm_b, *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *out_w, *out_b;
    ggml_tensor *ffn_norm_w, *ffn_norm_b, *up_w, *up_b, *down_w, *down_b;
};

struct VitEncoderWeights {
    ggml_tensor *patch_w, *patch_b, *cls_token, *position;  // patch_b null without patch_bias
    ggml_tensor *pre_norm_w = nullptr, *pre_norm_b = nullptr;
    std::vector<VitBlock> blocks;
    ggml_tensor *post_norm_w, *post_norm_b;
};

// Reads `<prefix>.*` hyperparameters (vit.image_size, ...; docs/convert.md) and checks them. Throws
// Error{invalid_input} naming the file. read_block_hparams reads only the blocks' (embedding_length,
// feed_forward_length, block_count, attention.head_count, attention.layer_norm_epsilon).
VitHparams read_vit_hparams(const GgufWeights& w, const std::string& prefix);
VitHparams read_block_hparams(const GgufWeights& w, const std::string& prefix);
// The encoder's tensors (names after `tensor_prefix`: "" for vit, "v." for CLIP's image tower), each checked against
// `hp`'s shapes.
VitEncoderWeights read_vit_encoder(const GgufWeights& w, const VitHparams& hp, const std::string& tensor_prefix = "");
// n_layer blocks named `<tensor_prefix>blk.N.*` (also CLIP's text tower).
std::vector<VitBlock> read_encoder_blocks(const GgufWeights& w, const VitHparams& hp, const std::string& tensor_prefix);

// Pre-LN transformer blocks over x: [n_embd, n_tokens, batch]; `causal`: each token sees only those before it.
ggml_tensor* build_encoder_blocks(ggml_context* ctx, ggml_tensor* x, const std::vector<VitBlock>& blocks,
                                  const VitHparams& hp, bool causal);
// w x + b over the rows of x (b may be null): the linear layer every graph here is made of.
ggml_tensor* build_linear(ggml_context* ctx, ggml_tensor* x, ggml_tensor* w, ggml_tensor* b);
ggml_tensor* build_layer_norm(ggml_context* ctx, ggml_tensor* x, ggml_tensor* w, ggml_tensor* b, float eps);
// One block's parts, for encoders that order them otherwise (Wav2Vec2's post-norm blocks): multi-head self-attention
// over x: [n_embd, n_tokens, batch] with the q, k, v and output projections; the MLP (up, activation, down).
ggml_tensor* build_self_attention(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, const VitHparams& hp,
                                  bool causal);
ggml_tensor* build_ffn(ggml_context* ctx, ggml_tensor* x, const VitBlock& b, Activation act);

// The input of build_vit_encoder for these images: checks each is 3 x image_size x image_size (Error{invalid_input}
// otherwise, or for none), creates the input tensor, and copies the pixels into it once the graph is allocated.
class PixelInput {
public:
    PixelInput(std::span<const media::PixelValues> images, uint32_t image_size);
    ggml_tensor* create(ggml_context* ctx);  // [image_size, image_size, 3, n_images], marked as an input
    void set() const;                        // after allocation
private:
    std::span<const media::PixelValues> images_;
    uint32_t size_;
    ggml_tensor* tensor_ = nullptr;
};

// The CLS token's state of each image, [n_embd, batch], from build_vit_encoder's output.
ggml_tensor* cls_states(ggml_context* ctx, ggml_tensor* hidden);

// The embeddings alone (patches, CLS, positions, then pre_norm when set): [n_embd, n_tokens, batch], what the
// blocks take (X-CLIP runs its own blocks over them).
ggml_tensor* build_vit_embeddings(ggml_context* ctx, const VitHparams& hp, const VitEncoderWeights& w,
                                  ggml_tensor* pixels);
// pixels: [width, height, channels, batch] f32 (each image channels-first, as the processor's pixel_values).
// Returns the final hidden states, [n_embd, n_tokens, batch] (token 0 is CLS), after the final layernorm.
ggml_tensor* build_vit_encoder(ggml_context* ctx, const VitHparams& hp, const VitEncoderWeights& w,
                               ggml_tensor* pixels);

// CLIP's byte-level BPE vocabulary as accel convert stores it under PREFIX.tokenizer.* (clip_model, xclip); nullopt
// for a file without one. Throws Error{invalid_input} when its size is not the text tower's n_vocab.
std::optional<model::ClipVocab> read_clip_vocab(const GgufWeights& w, const std::string& prefix, uint32_t eos,
                                                uint32_t n_vocab, const std::string& source);

}  // namespace accel::engine::graphs
