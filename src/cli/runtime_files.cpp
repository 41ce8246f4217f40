#include "runtime_files.h"

#include "accel/core/error.h"

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

std::filesystem::path hf_fixtures_dir(const std::filesystem::path& flag) {
    std::error_code ec;
    if (!flag.empty()) {
        if (!std::filesystem::is_directory(flag, ec)) {
            throw Error(ErrorKind::invalid_input, "--hf-fixtures " + flag.string() +
                                                      ": no such folder (it holds <class>/reference.json, as "
                                                      "tests/fixtures/hf of accel's source tree does)");
        }
        return flag;
    }
    if (const char* v = std::getenv("ACCEL_HF_FIXTURES"); v != nullptr && v[0] != '\0') return v;
    const std::filesystem::path source = ACCEL_SOURCE_HF_FIXTURES;
    if (std::filesystem::is_directory(source, ec)) return source;
    return {};
}

}  // namespace accel::cli
