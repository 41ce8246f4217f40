#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accel::model {

struct GgufFile;

// The evidence the classifier reads, gathered from a config.json, a GGUF file or both. Plain data so that any
// reader can fill it; nothing here is required.
struct ModelEvidence {
    std::string model_type;                  // config.json "model_type"
    std::vector<std::string> architectures;  // config.json "architectures"
    std::vector<std::string> config_keys;    // top-level config.json keys (e.g. "vision_config", "num_mel_bins")
    std::optional<bool> is_encoder_decoder;
    std::string pipeline_tag;                       // from the config or the model card
    std::vector<std::string> task_specific_params;  // keys of "task_specific_params"
    std::string name;                               // _name_or_path, general.name or the file name
    std::string gguf_architecture;                  // general.architecture
    std::vector<std::string> gguf_key_prefixes;     // distinct first components of GGUF keys ("clip", "llama")
    std::vector<std::string> tensor_names;
};

struct Classification {
    std::string family;     // embedding, text_generation, vision, audio, multimodal, other
    std::string subfamily;  // e.g. causal_lm; see docs/model.md for the taxonomy
    std::vector<std::string> tasks;
    double confidence = 0.0;           // in [0, 1); never 1, because every analysis is a guess
    std::vector<std::string> reasons;  // one line per piece of evidence
};

// Combines the independent analyses with the weights documented in docs/model.md. Pure and thread-safe.
Classification classify(const ModelEvidence& evidence);

// Reads model_type, architectures and the other signals from config.json text.
// Throws Error{invalid_input} naming `source` when the text is not a JSON object.
ModelEvidence evidence_from_config_json(std::string_view json_text, const std::string& source);

// Adds the GGUF signals (architecture, key prefixes, tensor names, general.name) to `evidence`.
void add_gguf_evidence(ModelEvidence& evidence, const GgufFile& file);

// One row of accel's knowledge table of Hugging Face model types (src/model/data/model_types.tsv).
struct KnownModelType {
    std::string model_type;
    std::string family;
    std::string subfamily;
    std::string llama_cpp_arch;  // empty when no llama.cpp architecture runs it
};

// The knowledge table, embedded at build time. Thread-safe.
const std::vector<KnownModelType>& known_model_types();
const KnownModelType* find_known_model_type(std::string_view model_type);

// Whether (family, subfamily) is part of the taxonomy.
bool valid_classification(std::string_view family, std::string_view subfamily);

}  // namespace accel::model
