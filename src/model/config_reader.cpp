// config.json and GGUF metadata -> classifier evidence.
#include <set>

#include "accel/model/classifier.h"
#include "accel/model/gguf_file.h"
#include "json_strict.h"

namespace accel::model {

ModelEvidence evidence_from_config_json(std::string_view json_text, const std::string& source) {
    const auto j = detail::parse_json(json_text, source, false);
    if (!j.is_object()) throw Error(ErrorKind::invalid_input, fmt::format("{}: config is not a JSON object", source));
    ModelEvidence e;
    if (auto it = j.find("model_type"); it != j.end() && it->is_string()) e.model_type = it->get<std::string>();
    if (auto it = j.find("architectures"); it != j.end() && it->is_array())
        for (const auto& a : *it)
            if (a.is_string()) e.architectures.push_back(a.get<std::string>());
    for (const auto& [k, v] : j.items()) {
        // A null or false sub-config is an absent one.
        if (v.is_null() || (v.is_boolean() && !v.get<bool>() && k != "is_encoder_decoder")) continue;
        e.config_keys.push_back(k);
    }
    if (auto it = j.find("is_encoder_decoder"); it != j.end() && it->is_boolean()) {
        e.is_encoder_decoder = it->get<bool>();
        if (!*e.is_encoder_decoder) std::erase(e.config_keys, std::string("is_encoder_decoder"));
    }
    if (auto it = j.find("pipeline_tag"); it != j.end() && it->is_string()) e.pipeline_tag = it->get<std::string>();
    if (auto it = j.find("task_specific_params"); it != j.end() && it->is_object())
        for (const auto& [k, v] : it->items()) e.task_specific_params.push_back(k);
    if (auto it = j.find("_name_or_path"); it != j.end() && it->is_string()) e.name = it->get<std::string>();
    return e;
}

void add_gguf_evidence(ModelEvidence& evidence, const GgufFile& file) {
    evidence.gguf_architecture = file.get_string("general.architecture").value_or("");
    if (evidence.name.empty()) evidence.name = file.get_string("general.name").value_or("");
    std::set<std::string> prefixes;
    for (const auto& [k, v] : file.metadata) prefixes.insert(k.substr(0, k.find('.')));
    evidence.gguf_key_prefixes.assign(prefixes.begin(), prefixes.end());
    for (const auto& t : file.tensors) evidence.tensor_names.push_back(t.name);
}

}  // namespace accel::model
