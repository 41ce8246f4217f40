#pragma once
// Internal to model/: one adapter per Hugging Face architecture for the converter (hf_convert.cpp). An adapter
// reads its hyperparameters from config.json, plans the tensors (safetensors name -> GGUF name, the shape the
// config implies), names the tensors the pinned convert_hf_to_gguf.py drops, writes the architecture's GGUF
// metadata and reads its tokenizer. The shared machinery (sources, checks, dtype conversion, writing through
// core::PartialFile) stays in hf_convert.cpp. One file per architecture family: hf_arch_<family>.cpp.
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accel/model/clip_tokenizer.h"
#include "accel/model/hf_convert.h"

#include "gguf_writer.h"
#include "hf_tokenizer.h"

namespace accel::model::detail {

struct TensorPlan {
    std::string name, source;        // GGUF name, safetensors name
    std::vector<uint64_t> hf_shape;  // as safetensors stores it (row-major, outermost first)
    uint32_t permute_heads = 0;      // > 0: undo HF's rotate_half row order with this many heads
    bool keep_f32 = false;           // stays f32 whatever --type says (position and token-type embeddings)
    float scale = 1.0f;              // multiplies every value (a tied T5's lm_head: d_model^-0.5)
    // "" or the gain g of a weight norm over every axis but the last (torch's weight_norm with dim = the last axis;
    // g's shape is 1 on every other axis): the tensor written is g * v / ||v||, v being `source` (Wav2Vec2's
    // positional convolution). Folded at convert time, in f32.
    std::string weight_norm_g;
};

// A model file format other than GGUF (whisper.cpp's ggml file): hf_convert.cpp describes each planned tensor to
// it, then streams the header and the converted tensors through it, as it does with GgufWriter.
class ModelFileWriter {
public:
    virtual ~ModelFileWriter() = default;
    virtual void add_tensor(const TensorPlan& p, GgmlType type) = 0;
    virtual void write_header(std::FILE* f, const std::string& path) const = 0;
    virtual void write_tensor(std::FILE* f, const std::string& path, const std::vector<uint8_t>& bytes) = 0;
};

// What an adapter sees of the folder.
struct HfInput {
    std::filesystem::path dir;
    const nlohmann::json& config;     // config.json, an object
    std::string config_text;          // its text (the tokenizer reader wants it)
    std::string config_source;        // its path, for messages
    std::string hf_arch;              // architectures[0]
    const std::set<std::string>& source_names;  // every tensor of every shard (outlives the adapter)
    bool mmproj = false;              // the multimodal projector file is asked for (LLaVA's second output)
};

class HfArchitecture {
public:
    virtual ~HfArchitecture() = default;
    virtual const std::string& arch() const = 0;   // llama.cpp's general.architecture
    virtual uint32_t n_vocab() const = 0;          // rows of the token embedding
    // Every tensor the GGUF gets, in write order; hf_convert.cpp checks that each exists with this shape.
    virtual std::vector<TensorPlan> plan() const = 0;
    // Whether a source tensor outside the plan is one the pinned converter drops (else it is refused as unexpected).
    virtual bool dropped(const std::string& source) const = 0;
    // <arch>.* metadata and any other architecture-specific key (general.architecture, general.name,
    // general.file_type and general.quantization_version are written by hf_convert.cpp).
    virtual void add_metadata(GgufWriter& w) const = 0;
    virtual HfVocab read_vocab() const = 0;
    // The writer of a format other than GGUF, ready for add_tensor (nullptr, the default: GGUF, with the metadata
    // above). Throws Error{invalid_input} for a weight type the format cannot hold, before anything is written.
    virtual std::unique_ptr<ModelFileWriter> own_format(ConvertType /*type*/) const { return nullptr; }
};

// The adapters; each throws Error{invalid_input} naming config.json for a config it cannot convert.
std::unique_ptr<HfArchitecture> make_llama_architecture(const HfInput& in);  // LlamaForCausalLM, Qwen2ForCausalLM
std::unique_ptr<HfArchitecture> make_bert_architecture(const HfInput& in);   // BertModel, BertForMaskedLM
std::unique_ptr<HfArchitecture> make_t5_architecture(const HfInput& in);     // T5ForConditionalGeneration, T5EncoderModel
std::unique_ptr<HfArchitecture> make_vit_architecture(const HfInput& in);    // ViTForImageClassification
std::unique_ptr<HfArchitecture> make_clip_architecture(const HfInput& in);   // CLIPModel
std::unique_ptr<HfArchitecture> make_detr_architecture(const HfInput& in);   // DetrForObjectDetection

// One encoder block in the BERT/ViT layout (hf_convert.cpp): six linear layers, in the order q, k, v, attention
// output, FFN up, FFN down (weight [rows, cols] and bias [rows]; FFN up has n_ff rows, FFN down n_ff columns), then
// two layer norms (weight and bias [n_embd]). Each pair is (GGUF name after `blk`, safetensors name after `layer`);
// `src` maps a safetensors name to the one the checkpoint uses.
struct EncoderBlockNames {
    std::array<std::pair<const char*, const char*>, 6> linear;
    std::array<std::pair<const char*, const char*>, 2> norms;
};
void plan_encoder_block(std::vector<TensorPlan>& p, const std::string& blk, const std::string& layer,
                        const EncoderBlockNames& names, uint64_t n_embd, uint64_t n_ff,
                        const std::function<std::string(const std::string&)>& src);
std::unique_ptr<HfArchitecture> make_whisper_architecture(const HfInput& in);  // WhisperForConditionalGeneration
std::unique_ptr<HfArchitecture> make_wav2vec2_architecture(const HfInput& in);  // Wav2Vec2ForCTC
std::unique_ptr<HfArchitecture> make_clap_architecture(const HfInput& in);      // ClapModel (HTSAT-unfused)
// LlavaForConditionalGeneration, LlavaNextForConditionalGeneration (hf_convert_llava.cpp): the text model, or with
// in.mmproj the projector file libmtmd reads.
std::unique_ptr<HfArchitecture> make_llava_architecture(const HfInput& in);

// CLIP's readers (hf_arch_clip.cpp), shared with X-CLIP (hf_arch_xclip.cpp): one tower's text_config or
// vision_config (Error{invalid_input} naming `source`), and CLIP's tokenizer files (vocab.json + merges.txt, else
// tokenizer.json; empty when the folder has neither).
struct ClipTower {
    uint32_t n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0;
    float norm_eps = 1e-5f;  // CLIP*Config's default layer_norm_eps
};
ClipTower read_clip_tower(const nlohmann::json& c, const std::string& source);
ClipVocab read_clip_vocab(const std::filesystem::path& dir, uint32_t n_vocab);
std::unique_ptr<HfArchitecture> make_xclip_architecture(const HfInput& in);  // XCLIPModel (hf_arch_xclip.cpp)

// Shared config.json readers (hf_convert.cpp). get_u32: a positive integer at most 2^31, `fallback` when absent
// or null (else Error{invalid_input}).
uint32_t get_u32(const nlohmann::json& c, const char* key, const std::string& source,
                 std::optional<uint32_t> fallback = {});
// get_f32: the number at `key`, nullopt when absent or not a number.
std::optional<float> get_f32(const nlohmann::json& c, const char* key);
// config.json's id2label as a list in id order (hf_arch_vit.cpp); Error{invalid_input} naming `source` when absent,
// empty, or not one string for each id 0 to n - 1.
std::vector<std::string> read_labels(const nlohmann::json& c, const std::string& source);
// A small text file, refused (Error{invalid_input}) when unreadable or larger than max_bytes.
std::string read_text_file(const std::filesystem::path& p, uint64_t max_bytes);

}  // namespace accel::model::detail
