#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct llama_model;  // llama.h is included only in engine/*.cpp

namespace accel::engine {

// How a model is spread over several GPUs (llama-bench's -sm). layer: whole layers per GPU (llama.cpp's default);
// row: rows of each weight split over the GPUs; none: only the first device; tensor: tensor parallelism (needs flash
// attention and an architecture that supports it).
enum class SplitMode : uint8_t { layer, none, row, tensor };
// "layer", "none", "row", "tensor".
std::string_view to_string(SplitMode mode);
// The names to_string gives, in any case. Throws Error{invalid_input} naming the text and the accepted names.
SplitMode parse_split_mode(std::string_view text);

struct ModelLoadParams {
    std::string device;        // ggml device id for offloaded layers ("cuda0"); "" or "cpu": CPU only
    std::vector<std::string> split_devices;  // several GPUs: split layers over these...
    std::vector<float> split_fractions;      // ...in these proportions
    SplitMode split_mode = SplitMode::layer;
    int32_t n_gpu_layers = 0;  // layers to offload; 0 keeps the model on the CPU
    bool use_mmap = true;
    bool vocab_only = false;   // only the vocabulary (tokenize, detokenize): no weights, no device memory
    // Called from the loading thread with progress in [0,1]; return false to cancel the load.
    std::function<bool(float)> on_progress;
};

// A llama.cpp model loaded from a GGUF file. Move-only; frees the model on destruction.
class LoadedModel {
public:
    // Throws Error{invalid_input} naming the path when the file is missing, unreadable or not a loadable
    // GGUF, or when a device is unknown; Error{busy} when on_progress cancelled the load.
    static LoadedModel load(const std::filesystem::path& path, const ModelLoadParams& params = {});

    llama_model* get() const { return model_.get(); }
    const std::filesystem::path& path() const { return path_; }
    std::chrono::nanoseconds load_time() const { return load_time_; }
    uint64_t n_params() const;
    uint64_t size_bytes() const;   // bytes of all weight tensors
    std::string description() const;  // llama.cpp's one-line description, e.g. "llama ?B all F32"
    std::string architecture() const;  // general.architecture
    int32_t n_vocab() const;
    bool adds_bos() const;   // whether the tokenizer starts a text with BOS
    int32_t bos() const;     // -1 when the vocabulary has none
    bool is_eog(int32_t token) const;  // an end-of-generation token (EOS, EOT, ...)
    int32_t n_layer() const;
    int32_t n_embd() const;

private:
    struct Free {
        void operator()(llama_model* model) const;
    };
    std::unique_ptr<llama_model, Free> model_;
    std::filesystem::path path_;
    std::chrono::nanoseconds load_time_{0};
};

// Checks that path names a readable regular file that starts with the GGUF magic and passes
// model::validate_gguf (everything llama.cpp would abort on or trust while loading it). LoadedModel::load and the
// quantizer call it before llama.cpp opens the file. Throws Error{invalid_input} with a one-line message naming the
// path otherwise (Error{io} when it cannot be mapped).
void check_gguf_file(const std::filesystem::path& path);

// A trial load for the pool's validated-load helper process: validates and loads path on the CPU and tokenizes a
// short text with the special tokens the model adds (where llama.cpp asserts on a missing BOS/EOS/SEP). Throws what
// LoadedModel::load throws; an abort inside llama.cpp ends the process, which is why it runs in a helper.
void trial_load(const std::filesystem::path& path);

}  // namespace accel::engine
