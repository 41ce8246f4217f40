#pragma once
// Private to engine/: make-model for accel's own image architectures (vit, clip_model), which llama.cpp cannot
// build. synthetic_model.cpp hands them here.
#include <string>

#include "accel/engine/synthetic_model.h"

namespace accel::engine::detail {

bool is_synthetic_vision_arch(const std::string& arch);  // "vit", "clip" or "xclip"

// A model of fixed, realistic shape with RANDOM WEIGHTS: vit is ViT-B/16 (224 px, 768 wide, 12 blocks, 1000
// labels), clip is CLIP ViT-B/32 (image tower 768 wide with 32 px patches, text tower 512 wide over a 49408-token
// vocabulary, 77 tokens), xclip is X-CLIP-B/32 with 8 frames (CLIP's towers, the message tokens, a 512-wide
// integration block, two prompt layers). spec.n_params_target is not used. A synthetic Hugging Face folder (config, processor
// config, a byte-level CLIP vocabulary without merges, random f16 safetensors from spec.seed) is written next to
// spec.out, converted by model::convert_hf (f32, f16) and quantized by quantize_vision_gguf (q8_0, q4_0), then
// removed. The same spec gives the same bytes. Throws as make_synthetic_model.
SyntheticModel make_synthetic_vision_model(const SyntheticSpec& spec);

}  // namespace accel::engine::detail
