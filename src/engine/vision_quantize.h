#pragma once
// Private to engine/: quantization of accel's own image GGUFs (vit, clip_model, detr), which llama_model_quantize
// does not know. quantize.cpp hands them here; synthetic_vision.cpp quantizes its random models with it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "accel/engine/quantize.h"

namespace accel::engine::detail {

// Whether `arch` (general.architecture) is one of accel's own image architectures quantized here.
bool is_vision_architecture(const std::string& arch);

// Whether `file` is a readable GGUF of one of those architectures (false otherwise, without throwing).
bool is_vision_gguf(const std::filesystem::path& file);

// engine::quantize for such a file: each of request.types (Q8_0 or Q4_0 only; no imatrix) through
// quantize_vision_gguf to quantized_path(); estimated_bytes from the input's header (metadata plus each
// tensor at its new size). Throws Error{invalid_input} for
// another type, a repeated type, an imatrix or an output that is the input, and what quantize_vision_gguf throws.
std::vector<QuantizeOutput> quantize_vision(const QuantizeRequest& request);

// Writes `in` (an F32 or F16 vit/clip_model/detr GGUF) to `out` with every 2-D weight matrix whose rows are a multiple
// of 32 in `type` ("Q8_0" or "Q4_0"), as llama-quantize treats matrices: norms, biases, the class token, position
// embeddings, DETR's object queries, the logit scale and the 4-D convolutions (the patch embedding, DETR's backbone
// and input projection) keep their type; the metadata is copied and
// general.file_type set. The output appears atomically (core::PartialFile). Returns the output's size in bytes.
// Throws Error{invalid_input} naming the input when it is not such a GGUF, is already quantized, or `type` is
// another, Error{io} when writing fails. Memory: the whole input and output. Thread-safe for distinct outputs.
// `type` "" keeps every tensor's type (a copy); a non-empty `general_name` replaces general.name.
uint64_t quantize_vision_gguf(const std::filesystem::path& in, const std::filesystem::path& out,
                              const std::string& type, int32_t n_threads, const std::string& general_name = "");

}  // namespace accel::engine::detail
