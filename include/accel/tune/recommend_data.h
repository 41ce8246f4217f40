#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel/tune/recommend.h"

namespace accel::tune {

// A stored model file: the one asked about or one of its variants.
struct ModelVariant {
    std::string sha256;
    std::string path;       // as stored when it was measured; may no longer exist
    std::string name;       // general.name
    std::string architecture;
    std::optional<int64_t> n_params;
    std::string file_type;  // the variant label
};

// What the warehouse holds about a model and its variants.
struct Evidence {
    ModelVariant model;
    std::vector<ModelVariant> variants;     // same name, architecture and parameter count, another file
    std::vector<Observation> observations;  // valid results of the model and its variants, oldest first
    int32_t n_invalid = 0;                  // results left out because they failed their check (--verify)
    std::vector<std::string> notes;
};

// Reads the results of `model_file` (matched by its sha256, core's cached hash) and of its variants: other stored
// models with the same general.name, architecture and parameter count. A database that does not exist yet gives
// empty evidence with a note, and is not created. Throws Error{invalid_input} when model_file does not exist,
// Error{io}/Error{busy} when the database cannot be read. Holds the database only while reading.
Evidence load_evidence(const std::filesystem::path& db, const std::filesystem::path& model_file);

}  // namespace accel::tune
