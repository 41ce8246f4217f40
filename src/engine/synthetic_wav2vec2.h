#pragma once
// Private to engine/: make-model's wav2vec2 (synthetic_wav2vec2.cpp), called by make_synthetic_model.
#include "accel/engine/synthetic_model.h"

namespace accel::engine::detail {

// wav2vec2-base's shape with as many blocks (1 to 48) as bring the parameters closest to spec.n_params_target
// (95M: the 12 of wav2vec2-base), RANDOM WEIGHTS, through accel convert: f32, f16 or q8_0 (q4_0 is refused,
// Error{invalid_input}). The output appears atomically; the temporary Hugging Face folder beside it is removed.
// Throws Error{io} on write errors.
SyntheticModel make_synthetic_wav2vec2(const SyntheticSpec& spec);

}  // namespace accel::engine::detail
