#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace accel::serve {

struct ServedModel {
    std::string id;               // the file name without ".gguf": what a request names
    std::filesystem::path path;   // canonical
    int64_t created = 0;          // the file's modification time, Unix seconds
};

// The models `accel serve` may load: the .gguf files named by --models (files, or folders scanned one level deep).
// A request names a model by id; nothing outside the catalog is ever loaded. Immutable after scan(); thread-safe.
class ModelCatalog {
public:
    // Throws Error{invalid_input} for a path that does not exist, or when no .gguf file is found at all.
    // Two files with the same id: the first in argument order wins (the second is logged and left out).
    static ModelCatalog scan(const std::vector<std::filesystem::path>& paths);

    // By id, or by id + ".gguf"; nullptr when not served.
    const ServedModel* find(std::string_view id) const;
    const std::vector<ServedModel>& models() const { return models_; }

private:
    std::vector<ServedModel> models_;
};

}  // namespace accel::serve
