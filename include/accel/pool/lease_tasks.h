#pragma once

// Model work through a lease, for callers that should not hold the engine session themselves (the CLI): each call
// takes the lease's session guard (its lock, the lease's threads) for its own duration.

#include <chrono>
#include <string>
#include <vector>

#include "accel/engine/embedder.h"
#include "accel/engine/generator.h"
#include "accel/pool/placement.h"
#include "accel/pool/resource_pool.h"

namespace accel::pool {

struct GenerateRequest {
    std::string prompt;
    bool chat = false;  // wrap the prompt in the model's chat template as one user turn, and parse its special tokens
    engine::GenerateParams params;
};

struct GenerateOutcome {
    engine::GenerateStats stats;
    std::chrono::nanoseconds load_time{0};  // the leased model's load, from file to usable weights
};

// Generates from the request's prompt, streaming each piece to sink (see engine::generate, which this calls and
// whose errors it throws). Throws Error{internal} for a lease whose model was not loaded by an EngineLoader.
GenerateOutcome generate(const Lease& lease, const GenerateRequest& request, const engine::TextSink& sink);

// One vector per text, in input order (see engine::embed, which this calls and whose errors it throws). The lease
// must be of a session opened with embeddings on.
std::vector<std::vector<float>> embed(const Lease& lease, const std::vector<std::string>& texts,
                                      const engine::EmbedParams& params);

// Where the pool placed the leased model, and why (a copy, taken under the session's lock).
Placement placement_of(const Lease& lease);

}  // namespace accel::pool
