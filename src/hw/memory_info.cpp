#include "accel/hw/memory_info.h"

#include <algorithm>
#include <string_view>

#include "accel/core/error.h"
#include "cgroup.h"
#include "text_files.h"

namespace accel::hw {

uint64_t MemoryInfo::effective_total_bytes() const {
    return limit_bytes ? std::min(total_bytes, *limit_bytes) : total_bytes;
}

uint64_t MemoryInfo::effective_available_bytes() const {
    if (!limit_bytes) return available_bytes;
    const uint64_t used = cgroup_usage_bytes.value_or(0);
    const uint64_t room = *limit_bytes > used ? *limit_bytes - used : 0;
    return std::min(available_bytes, room);
}

namespace {

// /proc/meminfo's "Key:   value kB" lines, read without allocating per line.
MemoryInfo parse_meminfo(std::string_view text, const std::filesystem::path& path) {
    MemoryInfo mem;
    bool have_total = false;
    bool have_available = false;
    while (!text.empty()) {
        const size_t eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view key = line.substr(0, colon);
        std::string_view value = detail::trim(line.substr(colon + 1));
        uint64_t scale = 1;
        if (value.size() > 3 && value.substr(value.size() - 3) == " kB") {
            value.remove_suffix(3);
            scale = 1024;
        }
        const auto n = detail::parse_u64(detail::trim(value));
        if (!n) continue;
        const uint64_t bytes = *n * scale;
        if (key == "MemTotal") {
            mem.total_bytes = bytes;
            have_total = true;
        } else if (key == "MemAvailable") {
            mem.available_bytes = bytes;
            have_available = true;
        } else if (key == "SwapTotal") {
            mem.swap_total_bytes = bytes;
        } else if (key == "SwapFree") {
            mem.swap_free_bytes = bytes;
        }
    }
    if (!have_total) throw Error(ErrorKind::io, path.string() + " has no MemTotal line");
    // Kernels before 3.14 lack MemAvailable; MemFree understates what is available, so say nothing better.
    if (!have_available) mem.available_bytes = 0;
    return mem;
}

}  // namespace

MemoryWatcher::MemoryWatcher(const std::filesystem::path& root) : meminfo_(detail::under(root, "/proc/meminfo")) {
    const detail::CgroupMemory cg = detail::find_cgroup_memory(root);
    limit_bytes_ = cg.limit_bytes;
    limit_source_ = cg.source;
    if (limit_bytes_) usage_file_ = cg.usage_file;
}

MemoryInfo MemoryWatcher::read() const {
    const auto text = detail::read_text(meminfo_);
    if (!text) throw Error(ErrorKind::io, "cannot read " + meminfo_.string());
    MemoryInfo mem = parse_meminfo(*text, meminfo_);
    mem.limit_bytes = limit_bytes_;
    mem.limit_source = limit_source_;
    if (limit_bytes_ && !usage_file_.empty()) mem.cgroup_usage_bytes = detail::read_u64(usage_file_);
    return mem;
}

MemoryInfo read_memory(const std::filesystem::path& root) { return MemoryWatcher(root).read(); }

}  // namespace accel::hw
