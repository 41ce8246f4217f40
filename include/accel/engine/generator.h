#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/session.h"

namespace accel::engine {

struct SamplingParams {
    float temp = 0.0f;  // <= 0: greedy
    int32_t top_k = 40;
    float top_p = 0.95f;
    float min_p = 0.05f;
    float repeat_penalty = 1.0f;  // 1: off
    int32_t repeat_last_n = 64;
    uint32_t seed = 0;
};

struct GenerateParams {
    int32_t n_predict = 128;
    SamplingParams sampling;
    std::vector<std::string> stop;  // generation ends before the first stop string, which is not emitted
    bool parse_special = false;     // the prompt holds special-token text (a chat template's markers)
};

struct GenerateStats {
    int32_t n_tokens_prompt = 0;
    int32_t n_tokens_gen = 0;
    std::chrono::nanoseconds prompt_time{0};  // prompt decode, up to the first sampled token
    std::chrono::nanoseconds gen_time{0};     // the rest
    bool stopped_by_eog = false;
    bool stopped_by_string = false;
    bool cancelled = false;
};

// Receives each piece of generated text as soon as it is final; return false to cancel.
using TextSink = std::function<bool(std::string_view piece)>;

// Decodes the prompt (with BOS when the model wants one) and samples up to n_predict tokens.
// The session's memory is cleared first. Throws Error{invalid_input} when prompt plus n_predict exceed
// the context, Error{backend} when llama_decode fails.
GenerateStats generate(Session& session, std::string_view prompt, const GenerateParams& params, const TextSink& sink);

}  // namespace accel::engine
