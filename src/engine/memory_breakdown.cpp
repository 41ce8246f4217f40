// Session::memory_breakdown: the bytes of llama.cpp's model, context (KV cache) and compute buffers.
//
// At the pinned commit the only function that reports all three is llama_get_memory_breakdown(). It is exported
// (LLAMA_API, C++ linkage) but declared in src/llama-ext.h, llama.cpp's staging header for new API, which the
// install does not ship. The public header offers nothing equivalent: llama_state_get_size() counts only used
// cells plus the logits, and the buffer sizes otherwise appear only as text in the log. So the declaration is
// mirrored here, exactly as llama-ext.h has it; tests/engine/kv_bytes_test.cpp checks the figures against the
// estimator, and would catch a changed layout when the pin moves.
#include <llama.h>

#include <cctype>
#include <map>

#include "accel/engine/session.h"

struct llama_memory_breakdown_data {
    size_t model = 0;
    size_t context = 0;
    size_t compute = 0;

    size_t total() const { return model + context + compute; }
};

LLAMA_API std::map<ggml_backend_buffer_type_t, llama_memory_breakdown_data> llama_get_memory_breakdown(
    const struct llama_context* ctx);

namespace accel::engine {

uint64_t MemoryBreakdown::model_bytes() const {
    uint64_t n = 0;
    for (const auto& b : buffers) n += b.model_bytes;
    return n;
}

uint64_t MemoryBreakdown::context_bytes() const {
    uint64_t n = 0;
    for (const auto& b : buffers) n += b.context_bytes;
    return n;
}

uint64_t MemoryBreakdown::compute_bytes() const {
    uint64_t n = 0;
    for (const auto& b : buffers) n += b.compute_bytes;
    return n;
}

MemoryBreakdown Session::memory_breakdown() const {
    MemoryBreakdown out;
    for (const auto& [buft, data] : llama_get_memory_breakdown(ctx_.get())) {
        BufferBytes b;
        b.buffer = ggml_backend_buft_name(buft);
        ggml_backend_dev_t dev = ggml_backend_buft_get_device(buft);
        if (ggml_backend_buft_is_host(buft) || dev == nullptr) {
            b.device = "cpu";
        } else {
            b.device = ggml_backend_dev_name(dev);
            for (auto& c : b.device) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        b.model_bytes = data.model;
        b.context_bytes = data.context;
        b.compute_bytes = data.compute;
        out.buffers.push_back(std::move(b));
    }
    return out;
}

}  // namespace accel::engine
