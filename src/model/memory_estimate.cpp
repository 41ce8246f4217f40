#include "accel/model/memory_estimate.h"

#include <algorithm>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/model/gguf_file.h"

namespace accel::model {

namespace {

// llama.cpp pads the KV cache size to a multiple of 256 cells.
constexpr uint64_t kv_pad = 256;

// Bytes of `n` elements stored as `type` (block-quantized types round up to whole blocks).
uint64_t kv_bytes(KvType type, uint64_t n) {
    switch (type) {
        case KvType::f32:
            return n * 4;
        case KvType::f16:
        case KvType::bf16:
            return n * 2;
        case KvType::q8_0:
            return (n + 31) / 32 * 34;
        case KvType::q4_0:
        case KvType::iq4_nl:
            return (n + 31) / 32 * 18;
        case KvType::q4_1:
            return (n + 31) / 32 * 20;
        case KvType::q5_0:
            return (n + 31) / 32 * 22;
        case KvType::q5_1:
            return (n + 31) / 32 * 24;
    }
    return 0;
}

uint32_t narrow(uint64_t v) {
    return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX));
}

}  // namespace

MemoryModelShape memory_shape_from_gguf(const GgufFile& file) {
    MemoryModelShape s;
    s.weights_bytes = file.weights_bytes();
    const std::string arch = file.get_string("general.architecture").value_or("");
    auto get = [&](const std::string& key) { return file.get_uint(arch + "." + key); };
    const auto n_layer = get("block_count");
    const auto n_embd = get("embedding_length");
    if (arch.empty() || !n_layer || !n_embd)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: cannot estimate memory: general.architecture, {}.block_count or "
                                "{}.embedding_length is missing",
                                file.source, arch, arch));
    s.n_layer = narrow(*n_layer);
    s.n_embd = narrow(*n_embd);
    s.n_ctx_train = narrow(get("context_length").value_or(0));
    s.n_head = narrow(get("attention.head_count").value_or(0));
    s.n_head_kv = narrow(get("attention.head_count_kv").value_or(s.n_head));
    const uint32_t head_dim = s.n_head ? s.n_embd / s.n_head : 0;
    s.head_dim_k = narrow(get("attention.key_length").value_or(head_dim));
    s.head_dim_v = narrow(get("attention.value_length").value_or(head_dim));
    s.n_ff = narrow(get("feed_forward_length").value_or(0));
    if (auto v = get("vocab_size")) {
        s.n_vocab = narrow(*v);
    } else if (const auto* tokens = file.find("tokenizer.ggml.tokens")) {
        s.n_vocab = narrow(tokens->array_count);
    }
    return s;
}

MemoryEstimate estimate_memory(const MemoryModelShape& shape, const MemoryConfig& config) {
    if (config.n_parallel == 0) throw Error(ErrorKind::invalid_input, "memory estimate: n_parallel must be at least 1");
    if (config.n_ubatch == 0) throw Error(ErrorKind::invalid_input, "memory estimate: n_ubatch must be at least 1");
    MemoryEstimate e;
    e.weights_bytes = shape.weights_bytes;
    e.n_ctx = config.n_ctx ? config.n_ctx : shape.n_ctx_train;
    if (e.n_ctx == 0) {
        e.n_ctx = 4096;
        e.notes.push_back("the model states no context length; assumed 4096");
    }
    const uint64_t cells = (uint64_t{e.n_ctx} * config.n_parallel + kv_pad - 1) / kv_pad * kv_pad;
    e.n_kv_cells = narrow(cells);
    const uint64_t k_row = uint64_t{shape.n_head_kv} * shape.head_dim_k;
    const uint64_t v_row = uint64_t{shape.n_head_kv} * shape.head_dim_v;
    e.kv_cache_bytes =
        uint64_t{shape.n_layer} * cells * (kv_bytes(config.kv_type, k_row) + kv_bytes(config.kv_type, v_row));
    if (shape.n_head_kv == 0) e.notes.push_back("the model states no attention heads: no KV cache counted");

    // The compute buffer is an estimate: ggml's allocator reuses memory, so the peak is close to the largest of the
    // per-ubatch intermediates rather than their sum.
    const uint64_t ub = std::min(config.n_ubatch, std::max<uint32_t>(config.n_batch, 1));
    const uint64_t kq = config.flash_attn == FlashAttn::on ? 0 : ub * cells * shape.n_head * 4;
    const uint64_t ffn = ub * uint64_t{shape.n_ff} * 4 * 3;
    const uint64_t logits = ub * uint64_t{shape.n_vocab} * 4;
    const uint64_t residual = ub * uint64_t{shape.n_embd} * 4 * 4;
    const uint64_t n_outputs = config.n_outputs ? config.n_outputs : config.n_parallel;
    const uint64_t output_buffer = uint64_t{shape.n_vocab} * n_outputs * 4;
    e.compute_buffer_bytes = std::max({kq, ffn, logits}) + residual + output_buffer;
    e.notes.push_back(
        "compute buffer is an estimate (llama.cpp's reservation for one full ubatch: largest "
        "intermediate + residual stream, plus the output buffer)");
    e.total_bytes = e.weights_bytes + e.kv_cache_bytes + e.compute_buffer_bytes;
    return e;
}

uint32_t VisionModelShape::n_tokens() const {
    return patch_size == 0 ? 0 : (image_size / patch_size) * (image_size / patch_size) + 1;
}

bool is_vision_architecture(const std::string& arch) { return arch == "vit" || arch == "clip_model"; }

VisionModelShape vision_shape_from_gguf(const GgufFile& file) {
    VisionModelShape s;
    s.arch = file.get_string("general.architecture").value_or("");
    if (!is_vision_architecture(s.arch))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a '{}' model, not vit or clip_model", file.source, s.arch));
    s.weights_bytes = file.weights_bytes();
    const std::string p = s.arch == "vit" ? "vit." : "clip_model.vision.";
    auto need = [&](const std::string& key) {
        const auto v = file.get_uint(key);
        if (!v || *v == 0 || *v > UINT32_MAX)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: cannot estimate: {} is missing", file.source, key));
        return static_cast<uint32_t>(*v);
    };
    s.image_size = need(p + "image_size");
    s.patch_size = need(p + "patch_size");
    s.n_embd = need(p + "embedding_length");
    s.n_ff = need(p + "feed_forward_length");
    s.n_layer = need(p + "block_count");
    s.n_head = need(p + "attention.head_count");
    if (s.arch == "clip_model") {
        s.n_out = need("clip_model.projection_dim");
    } else if (const auto* labels = file.find("vit.labels")) {
        s.n_out = narrow(labels->array_count);
    }
    return s;
}

VisionMemoryEstimate estimate_vision_memory(const VisionModelShape& s, uint32_t batch) {
    if (batch == 0) throw Error(ErrorKind::invalid_input, "memory estimate: a batch of at least 1 image");
    VisionMemoryEstimate e;
    e.weights_bytes = s.weights_bytes;
    const uint64_t b = batch, t = s.n_tokens(), d = s.n_embd;
    const uint64_t scores = b * s.n_head * t * t * 4;  // KQ, then its softmax
    const uint64_t ffn = b * t * uint64_t{s.n_ff} * 4;  // up projection, then its activation
    const uint64_t residual = b * t * d * 4;
    // ggml's allocator reuses freed intermediates: the peak is the largest block intermediate twice (its input and
    // output alive at once) plus the residual stream. Measured on ViT-B/16 at batch 1 and 8: 0.90x of this; on the
    // 64-wide fixtures 1.4x (their fixed-size inputs weigh more); docs/model.md.
    e.compute_buffer_bytes = 2 * std::max(scores, ffn) + residual;
    e.total_bytes = e.weights_bytes + e.compute_buffer_bytes;
    return e;
}

double vision_flops_per_image(const VisionModelShape& s) {
    const double t = s.n_tokens(), d = s.n_embd, f = s.n_ff, p = s.patch_size;
    const double patches = (t - 1) * 2.0 * 3 * p * p * d;
    const double block = 8 * t * d * d + 4 * t * d * f + 4 * t * t * d;
    return patches + s.n_layer * block + 2.0 * d * s.n_out;
}

}  // namespace accel::model
