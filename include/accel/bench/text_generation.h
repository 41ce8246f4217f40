#pragma once

// Timed text generation (prompt text in, greedy tokens out) on a model loaded through MeasuredModel: the native
// baseline that web-bench sets beside the browsers' runs, which time the same thing in wllama.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::bench {

struct TextGenerationSpec {
    std::filesystem::path model;
    std::string device = "cpu";
    int32_t n_threads = 0;          // 0: one per logical core
    uint32_t n_ctx = 512;
    std::string greedy_prompt;      // a greedy continuation of this text, untimed, to compare texts with the peer
    int32_t greedy_n = 0;
    std::string prompt;             // the timed prompt text
    int32_t n_gen = 16;             // tokens generated per timed repetition
    int32_t n_warmup = 1;
    int32_t reps = 3;
};

struct TextGenerationFigures {
    std::string device;                  // where the pool placed the model
    std::vector<std::string> placement;  // why, one line per decision
    double load_ms = 0;                  // LoadedModel::load (file to usable weights)
    int32_t n_threads = 0;               // the session's threads
    std::string greedy_text;
    int32_t n_prompt = 0;                // tokens of the prompt text
    int32_t n_gen = 0;                   // tokens generated, the first one (from the prompt's logits) included
    std::vector<double> pp_ts;           // per timed repetition: prompt tokens/s
    std::vector<double> tg_ts;           // per timed repetition: generated tokens/s, the first one left out
};

// Loads spec.model through a resource pool's lease and generates: the greedy continuation, then n_warmup untimed
// and reps timed generations of spec.prompt. In this process (no fork). Throws Error from the pool or the engine.
TextGenerationFigures measure_text_generation(const TextGenerationSpec& spec);

}  // namespace accel::bench
