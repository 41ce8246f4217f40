#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/loaded_model.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"

struct llama_context;

namespace accel::engine {

using model::FlashAttn;  // model/ owns both: the memory estimator needs them too
using model::KvType;
// How token embeddings become one vector per text. model_default takes the model's own pooling metadata. rank:
// the [CLS] state through the model's classification head (cls, cls.output tensors): one score per label.
enum class Pooling : uint8_t { model_default, none, mean, cls, last, rank };
// "model", "none", "mean", "cls", "last", "rank".
std::string_view to_string(Pooling pooling);
// The names to_string gives, in any case ("model" is the model's own pooling). Throws Error{invalid_input} naming
// the text and the accepted names.
Pooling parse_pooling(std::string_view text);

// Bytes llama.cpp allocated in one backend buffer type, read from its buffers (not computed from shapes).
struct BufferBytes {
    std::string buffer;    // ggml's buffer type name: "CPU", "CPU_Mapped", "CUDA0", "CUDA_Host", ...
    std::string device;    // where the bytes live: "cpu" for host memory, else the ggml device id ("cuda0")
    uint64_t model_bytes = 0;    // weights
    uint64_t context_bytes = 0;  // the context's memory: the KV cache (and recurrent state, for such models)
    uint64_t compute_bytes = 0;  // the scheduler's compute buffers, reserved for one full ubatch
};

struct MemoryBreakdown {
    std::vector<BufferBytes> buffers;
    uint64_t model_bytes() const;
    uint64_t context_bytes() const;
    uint64_t compute_bytes() const;
};

struct SessionParams {
    uint32_t n_ctx = 0;      // 0: the model's training context, capped at 4096
    uint32_t n_batch = 2048; // logical batch (llama-bench's -b)
    uint32_t n_ubatch = 512; // physical batch (-ub)
    int32_t n_threads = 0;   // 0: one per logical core
    uint32_t n_seq_max = 1;
    KvType type_k = KvType::f16;
    KvType type_v = KvType::f16;
    FlashAttn flash_attn = FlashAttn::auto_;
    bool embeddings = false;
    Pooling pooling = Pooling::model_default;  // with embeddings
};

// A llama.cpp context over a loaded model. Move-only. Not thread-safe: one thread drives a session.
// The model must outlive the session.
class Session {
public:
    // Throws Error{out_of_memory} when the context cannot be allocated, Error{invalid_input} for bad params.
    static Session open(const LoadedModel& model, const SessionParams& params);

    llama_context* get() const { return ctx_.get(); }
    const LoadedModel& model() const { return *model_; }
    uint32_t n_ctx() const;
    uint32_t n_batch() const;
    uint32_t n_ubatch() const;
    uint32_t n_seq_max() const;
    int32_t n_threads() const { return n_threads_; }
    Pooling pooling() const;  // the pooling in effect (after the model default was applied)
    void set_threads(int32_t n_threads);  // threads for the next decodes
    // The sizes of the buffers llama.cpp allocated for this context and its model, per buffer type. Cheap; reads
    // the allocated sizes (see engine/memory_breakdown.cpp for which llama.cpp function gives them).
    MemoryBreakdown memory_breakdown() const;

private:
    struct Free {
        void operator()(llama_context* ctx) const;
    };
    std::unique_ptr<llama_context, Free> ctx_;
    const LoadedModel* model_ = nullptr;
    int32_t n_threads_ = 0;
};

// Text to tokens with the model's vocabulary. add_special adds BOS/EOS as the model asks; parse_special turns
// special-token text such as "<|im_start|>" into its token (for chat templates).
std::vector<int32_t> tokenize(const LoadedModel& model, std::string_view text, bool add_special,
                              bool parse_special = false);
// One token's text, without special-token rendering; lstrip drops up to that many leading spaces.
std::string token_to_piece(const LoadedModel& model, int32_t token, int32_t lstrip = 0);
std::string detokenize(const LoadedModel& model, const std::vector<int32_t>& tokens);

}  // namespace accel::engine
