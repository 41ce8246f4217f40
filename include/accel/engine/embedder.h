#pragma once

#include <string>
#include <vector>

#include "accel/engine/session.h"

namespace accel::engine {

struct EmbedParams {
    bool normalize = false;  // L2-normalise each vector
};

// One vector per text, in input order. The session must have been opened with embeddings = true; its pooling
// (the model's, or the override given at open) turns token states into one vector. Texts are packed into
// multi-sequence batches (up to n_seq_max sequences and n_batch tokens per decode).
// Throws Error{invalid_input} when the model has no pooling (pass a pooling override), when a text is longer
// than the session's batch, or when texts is empty; Error{backend} when llama_decode fails.
std::vector<std::vector<float>> embed(Session& session, const std::vector<std::string>& texts, const EmbedParams& params);

}  // namespace accel::engine
