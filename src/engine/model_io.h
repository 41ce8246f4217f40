#pragma once
// Private to engine/: owning handles for llama.cpp objects, and the saving shared by the synthetic and conformance
// model builders.

#include <gguf.h>
#include <llama.h>

#include <filesystem>
#include <memory>
#include <string>

namespace accel::engine::detail {

struct GgufFree {
    void operator()(gguf_context* ctx) const { gguf_free(ctx); }
};
using GgufPtr = std::unique_ptr<gguf_context, GgufFree>;

struct ModelFree {
    void operator()(llama_model* m) const { llama_model_free(m); }
};
using ModelPtr = std::unique_ptr<llama_model, ModelFree>;

struct ContextFree {
    void operator()(llama_context* c) const { llama_free(c); }
};
using ContextPtr = std::unique_ptr<llama_context, ContextFree>;

struct BatchFree {
    void operator()(llama_batch* b) const {
        llama_batch_free(*b);
        delete b;
    }
};
using BatchPtr = std::unique_ptr<llama_batch, BatchFree>;

// The ggml device named `name` (case-insensitive, as `accel detect` lists it). Throws Error{invalid_input} naming it
// when there is none. Defined in backend.cpp.
ggml_backend_dev_t find_device(const std::string& name);

// A llama.cpp progress callback that prints nothing.
inline bool quiet_progress(float /*progress*/, void* /*user_data*/) { return true; }

// A token batch of up to n_tokens entries for one sequence id each (llama_batch_init(n_tokens, 0, 1)).
inline BatchPtr make_batch(int32_t n_tokens) { return BatchPtr(new llama_batch(llama_batch_init(n_tokens, 0, 1))); }

// Saves a model with llama_model_saver (defined in synthetic_model.cpp, which holds the internal headers).
// At the pinned commit the saver drops token_embd.weight when a model has no output tensor (BERT-like encoders);
// it is added back from `token_embd` or, for a loaded model, read from `source`.
void save_model(const llama_model* model, const ggml_tensor* token_embd, const std::filesystem::path& source,
                const std::filesystem::path& out);

}  // namespace accel::engine::detail
