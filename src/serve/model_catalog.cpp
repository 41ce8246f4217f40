#include "accel/serve/model_catalog.h"

#include <sys/stat.h>

#include <algorithm>

#include "accel/core/error.h"
#include "accel/core/log.h"

namespace accel::serve {
namespace fs = std::filesystem;

namespace {

int64_t unix_mtime(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : 0;
}

}  // namespace

ModelCatalog ModelCatalog::scan(const std::vector<fs::path>& paths) {
    ModelCatalog c;
    auto add = [&c](const fs::path& file) {
        const fs::path canonical = fs::canonical(file);
        std::string id = canonical.filename().string();
        if (id.size() > 5 && id.ends_with(".gguf")) id.resize(id.size() - 5);
        if (c.find(id) != nullptr) {
            ACCEL_LOG_WARN("serve: {} is left out: the id '{}' is already served", file.string(), id);
            return;
        }
        c.models_.push_back({.id = id, .path = canonical, .created = unix_mtime(canonical)});
    };
    for (const fs::path& p : paths) {
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) {
            add(p);
            continue;
        }
        if (!fs::is_directory(p, ec)) throw Error(ErrorKind::invalid_input, "serve: --models " + p.string() + " does not exist");
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(p, ec))
            if (e.is_regular_file() && e.path().extension() == ".gguf") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) add(f);
    }
    if (c.models_.empty()) throw Error(ErrorKind::invalid_input, "serve: no .gguf model found under --models");
    return c;
}

const ServedModel* ModelCatalog::find(std::string_view id) const {
    if (id.ends_with(".gguf")) id.remove_suffix(5);
    for (const auto& m : models_)
        if (m.id == id) return &m;
    return nullptr;
}

}  // namespace accel::serve
