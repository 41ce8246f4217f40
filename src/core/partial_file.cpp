#include "accel/core/partial_file.h"

#include <unistd.h>

#include <atomic>
#include <string>
#include <system_error>

#include "accel/core/error.h"

namespace accel {
namespace {

constexpr const char* marker = ".partial-";

std::filesystem::path temp_name(const std::filesystem::path& final_path) {
    static std::atomic<unsigned> counter{0};
    return final_path.parent_path() / ("." + final_path.filename().string() + marker + std::to_string(::getpid()) +
                                       "-" + std::to_string(counter.fetch_add(1)));
}

}  // namespace

PartialFile::PartialFile(std::filesystem::path final_path)
    : final_(std::move(final_path)), temp_(temp_name(final_)) {}

PartialFile::~PartialFile() {
    if (committed_) return;
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
}

void PartialFile::commit() {
    std::error_code ec;
    std::filesystem::rename(temp_, final_, ec);
    if (ec) throw Error(ErrorKind::io, "cannot rename " + temp_.string() + " to " + final_.string() + ": " + ec.message());
    committed_ = true;
}

bool is_partial_file_name(const std::string& filename) {
    return !filename.empty() && filename.front() == '.' && filename.find(marker) != std::string::npos;
}

void remove_partial_files(const std::filesystem::path& final_path, int writer_pid) {
    const std::string prefix = "." + final_path.filename().string() + marker + std::to_string(writer_pid) + "-";
    std::error_code ec;
    const auto dir = final_path.has_parent_path() ? final_path.parent_path() : std::filesystem::path(".");
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().rfind(prefix, 0) == 0) {
            std::error_code rm;
            std::filesystem::remove(it->path(), rm);
        }
    }
}

}  // namespace accel
