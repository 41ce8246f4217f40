#include "accel/core/sha256_cache.h"

#include <sys/stat.h>

#include <fstream>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "accel/core/sha256.h"

namespace accel {

std::string sha256_file_cached(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) throw Error(ErrorKind::io, "cannot read " + file.string());
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(file, ec);
    const std::string key = fmt::format("{}|{}|{}.{}", (ec ? file : canonical).string(), st.st_size,
                                        st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    std::filesystem::path entry;
    try {
        entry = paths::cache_dir() / "hashes" / (sha256_hex(key).substr(0, 32) + ".txt");
        std::ifstream in(entry);
        std::string stored_key;
        std::string sha;
        if (in && std::getline(in, stored_key) && std::getline(in, sha) && stored_key == key && sha.size() == 64) {
            return sha;
        }
    } catch (const Error&) {
        entry.clear();  // no cache directory (no HOME): hash without caching
    }
    const std::string sha = sha256_file(file);
    if (!entry.empty()) {
        std::filesystem::create_directories(entry.parent_path(), ec);
        const auto tmp = entry.string() + ".tmp";
        {
            std::ofstream out(tmp);
            out << key << '\n' << sha << '\n';
        }
        std::filesystem::rename(tmp, entry, ec);
    }
    return sha;
}

}  // namespace accel
