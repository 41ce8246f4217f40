#pragma once

#include <filesystem>
#include <string>

namespace accel {

// sha256_file, remembered per file under paths::cache_dir()/hashes/ and keyed by the canonical path, size and
// mtime, so a multi-GB model is hashed once. A cache that cannot be written only costs the next caller a rehash.
// Throws Error{io} naming the file when it cannot be read.
std::string sha256_file_cached(const std::filesystem::path& file);

}  // namespace accel
