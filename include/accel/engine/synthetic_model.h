#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace accel::engine {

// Synthetic models have random weights: valid for performance measurements, meaningless for output quality.
enum class WeightType : uint8_t { f32, f16, q8_0, q4_0 };

struct SyntheticSpec {
    std::string arch = "llama";
    uint64_t n_params_target = 25'000'000;
    WeightType type = WeightType::f32;
    uint64_t seed = 1;
    std::filesystem::path out;
    std::filesystem::path vocab_dir;  // folder holding llama.cpp's ggml-vocab-*.gguf
    int32_t n_threads = 0;            // for quantization; 0 = all cores. The output does not depend on it.
};

struct SyntheticShape {
    uint32_t n_vocab = 0;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t n_ff = 0;
    uint32_t n_ctx_train = 0;
};

struct SyntheticModel {
    std::filesystem::path path;
    std::string name;  // general.name, which says that the weights are random
    SyntheticShape shape;
    uint64_t n_params = 0;
    uint64_t file_bytes = 0;
    std::string sha256;
};

// The words every make-model output's general.name contains; a model whose general.name has them has random
// weights: its speed figures stand, its quality figures (perplexity, KL, cosine) say nothing about a real model.
inline constexpr std::string_view random_weights_marker = "RANDOM WEIGHTS";
inline bool has_random_weights(std::string_view general_name) {
    return general_name.find(random_weights_marker) != std::string_view::npos;
}

// Architectures make-model can build, e.g. {"bert", "llama", "qwen2", ...}.
std::vector<std::string> synthetic_architectures();

// Architectures llama.cpp knows but cannot save at the pinned commit, with the reason (e.g. t5).
// Returns an empty string when arch is savable or unknown.
std::string synthetic_unsupported_reason(const std::string& arch);

// Parses "25M", "1B", "300k", "1.5G", "123456". Throws Error{invalid_input} naming the text.
uint64_t parse_param_count(const std::string& text);

WeightType parse_weight_type(const std::string& text);  // throws Error{invalid_input}
const char* to_string(WeightType type);

// Chooses a shape whose parameter count is closest to the target (width and depth grow together, head size 64),
// builds the model with llama_model_init_from_user, saves it and quantizes it. The same spec gives the same
// bytes. The output appears atomically (written to a temporary name, then renamed); nothing is left on failure.
// Throws Error{invalid_input} for an unknown or unsavable architecture or a missing vocab, Error{io} on write errors.
SyntheticModel make_synthetic_model(const SyntheticSpec& spec);

}  // namespace accel::engine
