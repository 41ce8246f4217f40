#pragma once
// Private to engine/graphs: what accel's own ggml graphs share. GgufWeights loads a GGUF's tensors into one backend
// buffer on the chosen device; GraphRunner owns that device's backend (plus the CPU's) and a ggml_backend_sched
// that places and runs each graph. The graph files (vit.cpp, later clip.cpp) build on these.

#include <ggml-backend.h>
#include <ggml-cpp.h>
#include <ggml.h>
#include <gguf.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace accel::engine::graphs {

class GgufWeights {
public:
    // Reads the GGUF's metadata, calls `check_metadata` (which throws to refuse the file before any tensor is
    // read), then reads every tensor into a buffer of `dev`. Throws Error{invalid_input} naming the file when it is
    // not a readable GGUF, Error{out_of_memory} when the buffer cannot be allocated.
    GgufWeights(const std::filesystem::path& file, ggml_backend_dev_t dev,
                const std::function<void(const GgufWeights&)>& check_metadata);

    const std::filesystem::path& file() const { return file_; }
    std::string architecture() const;  // general.architecture, "" when absent
    // The tensor `name`; throws Error{invalid_input} naming the file and the tensor when it is missing, its shape
    // is not `ne` (trailing 1s may be left out), or, for a 1-D or `f32_only` tensor, its type is not f32 (norms,
    // biases and embeddings that ggml adds or concatenates stay f32, as accel convert writes them).
    ggml_tensor* tensor(const std::string& name, std::vector<int64_t> ne, bool f32_only = false) const;
    bool has(const std::string& key) const;  // whether the metadata has `key`
    bool has_tensor(const std::string& name) const;
    // The first dimension of tensor `name`, 0 when absent (for a width the metadata does not state).
    int64_t tensor_ne0(const std::string& name) const;
    // Metadata; each throws Error{invalid_input} naming the file and key when absent or of another type.
    uint32_t get_u32(const std::string& key) const;
    float get_f32(const std::string& key) const;
    bool get_bool(const std::string& key) const;
    std::vector<std::string> get_strings(const std::string& key) const;
    std::vector<int32_t> get_i32s(const std::string& key) const;
    std::vector<float> get_f32s(const std::string& key) const;
    std::optional<std::string> find_string(const std::string& key) const;
    uint64_t buffer_bytes() const;  // the weights' device buffer

private:
    int64_t key(const std::string& k, gguf_type type) const;

    std::filesystem::path file_;
    gguf_context_ptr gguf_;
    ggml_context_ptr meta_;
    ggml_backend_buffer_ptr buffer_;
};

class GraphRunner {
public:
    // `device`: "" or "cpu" for the CPU, else a ggml device name (cuda0, vulkan0; Error{invalid_input} when
    // unknown). n_threads 0: every core.
    GraphRunner(const std::string& device, int32_t n_threads);

    ggml_backend_dev_t device() const { return dev_; }
    bool on_cpu() const { return ggml_backend_dev_type(dev_) == GGML_BACKEND_DEVICE_TYPE_CPU; }
    // Builds a graph in a fresh context (build returns its output tensors, already marked as outputs), lets
    // `set_inputs` fill the input tensors once allocated, runs it, and returns nothing: read the outputs with
    // ggml_backend_tensor_get inside `read`. Throws Error{backend} when allocation or compute fails.
    void run(const std::function<void(ggml_context*, ggml_cgraph*)>& build, const std::function<void()>& set_inputs,
             const std::function<void()>& read);
    // The scheduler's compute buffers over every backend, as the last run() allocated them (0 before any).
    uint64_t compute_buffer_bytes() const;

private:
    ggml_backend_dev_t dev_ = nullptr;
    std::vector<ggml_backend_ptr> backends_;  // the device's, then the CPU's (when the device is not the CPU)
    ggml_backend_sched_ptr sched_;
};

}  // namespace accel::engine::graphs
