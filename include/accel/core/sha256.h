#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace accel {

// Lower-case hex sha256 (OpenSSL's libcrypto does the hashing).
std::string sha256_hex(std::string_view data);

// Streams the file in 1 MiB blocks. Throws Error{io} naming the path when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace accel
