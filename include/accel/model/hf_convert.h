#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::model {

// Weight type of the converted matrices. 1-D tensors (norms, biases) stay f32, as convert_hf_to_gguf.py writes them;
// q8_0 falls back to f16 for a matrix whose rows are not a multiple of 32.
enum class ConvertType : uint8_t { f32, f16, bf16, q8_0 };

ConvertType parse_convert_type(const std::string& text);  // throws Error{invalid_input} listing the choices
const char* to_string(ConvertType type);

struct ConvertOptions {
    ConvertType type = ConvertType::f16;
};

struct ConvertedTensor {
    std::string name;                 // GGUF name ("blk.0.attn_q.weight")
    std::string source;               // safetensors name ("model.layers.0.self_attn.q_proj.weight")
    std::string type;                 // "f32", "f16", "bf16", "q8_0"
    std::vector<uint64_t> ne;         // ggml order
};

struct ConvertResult {
    std::string hf_architecture;      // config.json's architectures[0]
    std::string arch;                 // llama.cpp's architecture ("llama", "qwen2"), or "whisper"
    std::string format;               // "gguf", or "whisper" (whisper.cpp's ggml file, for WhisperForConditionalGeneration)
    std::string tokenizer;            // tokenizer.ggml.model ("llama", "gpt2")
    std::string tokenizer_pre;
    uint32_t n_vocab = 0;
    uint32_t n_shards = 0;
    bool has_chat_template = false;
    uint64_t n_params = 0;
    uint64_t out_bytes = 0;
    std::vector<ConvertedTensor> tensors;
};

// The Hugging Face architectures (config.json "architectures") accel converts.
const std::vector<std::string>& convertible_architectures();
// Their config.json model_types ("bert", "llama", "qwen2"), sorted, each once.
std::vector<std::string> convertible_model_types();

// Whether accel converts a checkpoint with these config.json "architectures", and what runs the result.
struct HfSupport {
    bool convertible = false;
    std::string architecture;  // the first of `architectures` accel converts; "" when none
    std::string runs_with;     // "llama.cpp", "accel's ggml graphs (accel infer)", ...; "" when not convertible
    std::string reason;        // when not convertible: which architectures accel does convert
};
HfSupport hf_support(const std::vector<std::string>& architectures);

// The tensors convert_hf reads for the folder's config.json alone (safetensors name in `source`, ggml shape in `ne`,
// `type` empty), without opening any weights: what a checkpoint of that config must hold (make-model writes random
// ones). Throws Error{invalid_input} as convert_hf does for the config.
std::vector<ConvertedTensor> plan_hf(const std::filesystem::path& hf_dir);

// Converts the Hugging Face folder `hf_dir` (config.json, model.safetensors or shards with
// model.safetensors.index.json, tokenizer files) into one GGUF file at `out` (a Whisper checkpoint: one whisper.cpp
// model file, f32 or f16 only; model/whisper_file.h), with the tensor names, metadata,
// tokenizer and chat template the pinned llama.cpp expects (the same as its convert_hf_to_gguf.py; see
// docs/convert.md for the differences). Everything is checked before a byte is written: an unsupported
// architecture, a missing, unexpected or misshapen tensor, an unknown dtype, a header that disagrees with its file
// size (a truncated shard) or an index that disagrees with its shards throw Error{invalid_input} naming the file.
// The output is written through core::PartialFile, so an error leaves nothing at `out`. Error{io} on read or write
// failures. Memory: one tensor at a time. Thread-safe for distinct outputs.
ConvertResult convert_hf(const std::filesystem::path& hf_dir, const std::filesystem::path& out,
                         const ConvertOptions& options = {});

// A vision-language checkpoint's second file (LlavaForConditionalGeneration, LlavaNextForConditionalGeneration):
// the multimodal projector GGUF ("clip") that libmtmd's clip.cpp loads, with the vision tower up to
// vision_feature_layer and the MLP projector (docs/convert.md, "LLaVA"); convert_hf writes the text model. The
// same checks and guarantees as convert_hf; Error{invalid_input} for an architecture with no projector. The result
// has arch "clip", no tokenizer and n_vocab 0.
ConvertResult convert_hf_mmproj(const std::filesystem::path& hf_dir, const std::filesystem::path& out,
                                const ConvertOptions& options = {});

}  // namespace accel::model
