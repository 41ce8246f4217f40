#pragma once
// Private to engine/: make-model's clap (synthetic_clap.cpp), called by make_synthetic_model.
#include "accel/engine/synthetic_model.h"

namespace accel::engine::detail {

// laion/clap-htsat-unfused's shape (HTSAT: 64 mel bins folded to 256 x 256, patch 4, window 8, stages [2, 2, 6, 2]
// of 96 to 768 wide; a RoBERTa-base text tower; projections to 512) with as many text blocks (1 to 24) as bring the
// parameters closest to spec.n_params_target (153M: the 12 of RoBERTa-base), RANDOM WEIGHTS and a byte-only
// tokenizer, through accel convert (f32, f16, q8_0) and, for q4_0, accel quantize. The output appears atomically;
// the temporary Hugging Face folder beside it is removed. Throws Error{io} on write errors.
SyntheticModel make_synthetic_clap(const SyntheticSpec& spec);

}  // namespace accel::engine::detail
