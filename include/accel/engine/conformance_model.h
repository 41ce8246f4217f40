#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel/engine/synthetic_model.h"

namespace accel::engine {

// One variant of a llama.cpp architecture that the conformance suite can build from synthetic metadata,
// following llama.cpp's own tests/test-llama-archs.cpp (same hyperparameters, the dummy "test" tokenizer).
struct ConformanceArch {
    std::string arch;          // llama.cpp's name ("llama", "qwen2", "bert", ...)
    bool moe = false;          // the mixture-of-experts variant
    bool embeddings = false;   // an encoder: the output is per-token embeddings, not logits
    bool encode = false;       // llama_encode runs before llama_decode (T5, diffusion LLMs)
    std::string vocab;         // ggml-vocab-<vocab>.gguf for encoders; "" for the dummy tokenizer
    std::string unsupported;   // non-empty: why llama.cpp cannot build, save or run it at this commit
    std::string id() const { return moe ? arch + "-moe" : arch; }
};

// Every llama.cpp architecture at the pinned commit, each in the variants it has (dense, MoE).
std::vector<ConformanceArch> conformance_architectures();

// Builds the model with llama_model_init_from_user (weights N(0, 0.1) from `seed`, per tensor name), saves it in
// F32 to `out` atomically. The same arguments give the same bytes. Throws Error{internal} when llama.cpp cannot
// build it, Error{invalid_input} for an unsupported variant or a missing vocab, Error{io} on write errors.
// A GGML_ASSERT inside llama.cpp aborts the process: callers run this in a child process.
void build_conformance_model(const ConformanceArch& a, uint64_t seed, const std::filesystem::path& vocab_dir,
                             const std::filesystem::path& out);

// Converts an F32 model to `type` (every matrix that fits the block size; pure), atomically. Throws Error{io}.
void quantize_conformance_model(const std::filesystem::path& f32, const std::filesystem::path& out, WeightType type,
                                int32_t n_threads);

struct ForwardOptions {
    std::string device = "cpu";  // ggml device name, case-insensitive
    uint64_t token_seed = 1;     // the prompt: n_tokens ids drawn uniformly from the vocabulary
    uint32_t n_tokens = 32;
    int32_t n_threads = 2;
};

struct ForwardOutput {
    std::vector<float> values;  // n_rows x row_len: logits (LLMs) or embeddings (encoders), one row per token
    uint32_t n_rows = 0;
    uint32_t row_len = 0;
    double load_ms = 0;         // llama_model_load_from_file + context creation, measured
};

struct ForwardRun {
    ForwardOutput first;
    std::optional<ForwardOutput> reloaded;  // after save (llama_model_saver) and reload on the same device
};

// Loads `model` on the device, runs one forward pass over the prompt and, when round_trip_path is not empty,
// saves the model as loaded, reloads it from that file and runs the same pass again. Throws Error{invalid_input}
// for an unknown device, Error{internal} when llama.cpp fails.
ForwardRun conformance_forward(const ConformanceArch& a, const std::filesystem::path& model, const ForwardOptions& opts,
                               const std::filesystem::path& round_trip_path = {});

}  // namespace accel::engine
