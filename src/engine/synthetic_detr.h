#pragma once
// Private to engine/: make-model's DETR (synthetic_detr.cpp), called by make_synthetic_model for arch "detr".
#include "accel/engine/synthetic_model.h"

namespace accel::engine::detail {

// DETR-ResNet-50's shape (transformers' ResNet-50 backbone, d_model 256, 6 + 6 layers, 100 queries, 91 labels) with
// RANDOM WEIGHTS, through a temporary Hugging Face folder beside spec.out and model::convert_hf. spec.n_params_target
// is not used (one shape). Throws Error{invalid_input} for q4_0 (not one of accel convert's types), Error{io} on
// write errors; nothing is left but the output.
SyntheticModel make_synthetic_detr(const SyntheticSpec& spec);

}  // namespace accel::engine::detail
