#include "accel/hw/memory_info.h"

#include <algorithm>
#include <sstream>

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

MemoryInfo read_memory(const std::filesystem::path& root) {
    const auto path = detail::under(root, "/proc/meminfo");
    const auto text = detail::read_text(path);
    if (!text) throw Error(ErrorKind::io, "cannot read " + path.string());
    MemoryInfo mem;
    bool have_total = false;
    bool have_available = false;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = line.substr(0, colon);
        std::string_view value = detail::trim(std::string_view(line).substr(colon + 1));
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
    const detail::CgroupMemory cg = detail::read_cgroup_memory(root);
    mem.limit_bytes = cg.limit_bytes;
    mem.cgroup_usage_bytes = cg.limit_bytes ? cg.usage_bytes : std::nullopt;
    mem.limit_source = cg.source;
    return mem;
}

}  // namespace accel::hw
