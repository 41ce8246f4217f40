#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"

namespace accel::model {

struct GgufFile;

// The run configuration the estimate is for.
struct MemoryConfig {
    uint32_t n_ctx = 4096;    // context length per sequence; 0 = the model's training context
    uint32_t n_parallel = 1;  // parallel sequences, each with its own n_ctx cells
    uint32_t n_batch = 2048;  // logical batch
    uint32_t n_ubatch = 512;  // physical batch, which sizes the compute buffer
    uint32_t n_outputs = 0;   // logits rows one decode returns; 0 = one per sequence (generation)
    KvType kv_type = KvType::f16;
    FlashAttn flash_attn = FlashAttn::off;  // off and auto: the KQ matrix of one ubatch is materialized in f32
    std::string device = "cpu";  // recorded only; the estimate does not depend on it
};

// The model dimensions the estimate needs, taken from GGUF metadata (or filled by hand).
struct MemoryModelShape {
    uint64_t weights_bytes = 0;  // exact, the sum of the tensor table
    uint32_t n_layer = 0;
    uint32_t n_ctx_train = 0;
    uint32_t n_embd = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim_k = 0;
    uint32_t head_dim_v = 0;
    uint32_t n_ff = 0;
    uint32_t n_vocab = 0;
};

struct MemoryEstimate {
    uint64_t weights_bytes = 0;         // exact
    uint64_t kv_cache_bytes = 0;        // exact for llama.cpp's unified KV cache layout, given the shape
    uint64_t compute_buffer_bytes = 0;  // an estimate: llama.cpp's graph reservation plus the output (logits) buffer
    uint64_t total_bytes = 0;
    uint32_t n_ctx = 0;              // effective context per sequence
    uint32_t n_kv_cells = 0;         // n_ctx x n_parallel, padded as llama.cpp pads it
    std::vector<std::string> notes;  // assumptions, e.g. "head_dim derived from n_embd / n_head"
};

// Reads the shape from general.architecture-prefixed keys. Throws Error{invalid_input} naming the file when
// n_layer or n_embd is missing (the estimate would be meaningless).
MemoryModelShape memory_shape_from_gguf(const GgufFile& file);

// Pure function; see docs/model.md for the formulas. Throws Error{invalid_input} for a zero n_parallel or ubatch.
MemoryEstimate estimate_memory(const MemoryModelShape& shape, const MemoryConfig& config);

// accel's own image models (vit, clip_model): the image tower's shape from the GGUF metadata (clip_model's text tower
// is not counted in the FLOPs: an image point runs the image tower only; its weights are in weights_bytes).
struct VisionModelShape {
    std::string arch;            // "vit" or "clip_model"
    uint64_t weights_bytes = 0;  // exact, the whole file's tensors (both towers for CLIP)
    uint32_t image_size = 0, patch_size = 0, n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0;
    uint32_t n_out = 0;          // the head's outputs: ViT's labels, CLIP's projection_dim
    uint32_t n_tokens() const;   // patches + the class token
};

struct VisionMemoryEstimate {
    uint64_t weights_bytes = 0;         // exact
    uint64_t compute_buffer_bytes = 0;  // an estimate of ggml's graph buffer for one batch (see docs/model.md)
    uint64_t total_bytes = 0;
};

// Whether general.architecture is one of accel's image architectures.
bool is_vision_architecture(const std::string& arch);
// Throws Error{invalid_input} naming the file when it is not vit/clip_model or a shape key is missing.
VisionModelShape vision_shape_from_gguf(const GgufFile& file);
// Pure; `batch` images per forward pass (at least 1, else Error{invalid_input}).
VisionMemoryEstimate estimate_vision_memory(const VisionModelShape& shape, uint32_t batch);
// Multiply-adds x 2 of one image through the image tower, counted from the graph's shape: the patch convolution,
// per block the q/k/v/output projections (8 T d^2), the MLP (4 T d f) and attention (4 T^2 d), and the head.
double vision_flops_per_image(const VisionModelShape& shape);

}  // namespace accel::model
