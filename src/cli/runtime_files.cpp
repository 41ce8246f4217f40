#include "runtime_files.h"

#include <cstdlib>
#include <system_error>

namespace accel::cli {

std::filesystem::path vocab_dir() {
    if (const char* v = std::getenv("ACCEL_VOCAB_DIR"); v != nullptr && v[0] != '\0') return v;
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto installed = exe.parent_path().parent_path() / "share" / "accel" / "vocab";
        if (std::filesystem::is_directory(installed, ec)) return installed;
    }
    return ACCEL_BUILD_VOCAB_DIR;
}

}  // namespace accel::cli
