#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "accel/model/classifier.h"
#include "accel/model/gguf_file.h"
#include "accel/model/memory_estimate.h"

namespace accel::model {

// What `accel inspect` reports about a model, whatever its format.
struct ModelInfo {
    std::string path;
    std::string format;        // "gguf", "hf_directory" or "config_json"
    std::string architecture;  // general.architecture, else model_type
    std::string name;
    std::string file_type;    // GGUF general.file_type name (e.g. "Q8_0"), else torch_dtype
    uint64_t file_bytes = 0;  // the GGUF file, or the safetensors files together
    uint64_t n_params = 0;
    uint64_t n_tensors = 0;
    uint64_t weights_bytes = 0;
    std::map<std::string, uint64_t> tensor_type_counts;  // the quantization mix: ggml type or dtype -> tensors
    std::map<std::string, uint64_t> tensor_type_bytes;
    std::optional<uint64_t> context_length, n_embd, n_layer, n_head, n_head_kv, n_vocab;
    std::string tokenizer_model;  // tokenizer.ggml.model, or tokenizer.json's model.type
    std::string tokenizer_class;  // tokenizer_config.json's tokenizer_class
    bool has_generation_config = false;
    std::vector<std::string> files_read;
    ModelEvidence evidence;
    std::optional<MemoryModelShape> memory_shape;  // absent when the dimensions are unknown
    std::optional<GgufFile> gguf;                  // the full metadata and tensor table, for GGUF inputs
};

// Inspects a GGUF file, a Hugging Face model directory (config.json, *.safetensors headers, sharded index,
// tokenizer and generation config) or a bare config.json. Reads headers only.
// Throws Error{invalid_input} naming the offending file, Error{io} when a file cannot be read.
ModelInfo inspect_model(const std::filesystem::path& path);

}  // namespace accel::model
