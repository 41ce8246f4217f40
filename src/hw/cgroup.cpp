#include "cgroup.h"

#include <charconv>
#include <functional>
#include <sstream>
#include <string_view>
#include <vector>

#include "text_files.h"

namespace accel::hw::detail {
namespace {

constexpr uint64_t unlimited = uint64_t{1} << 60;

struct CgroupLine {
    std::string controllers;
    std::string path;
};

std::vector<CgroupLine> read_self_cgroup(const std::filesystem::path& root) {
    std::vector<CgroupLine> lines;
    const auto text = read_text(under(root, "/proc/self/cgroup"));
    if (!text) return lines;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        const size_t a = line.find(':');
        const size_t b = a == std::string::npos ? std::string::npos : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        lines.push_back({line.substr(a + 1, b - a - 1), line.substr(b + 1)});
    }
    return lines;
}

bool has_controller(const std::string& list, std::string_view name) {
    std::string_view rest(list);
    while (!rest.empty()) {
        const size_t comma = rest.find(',');
        if (rest.substr(0, comma) == name) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return false;
}

// The cgroup folder and each of its parents up to `base`. A path that does not exist under base (a cgroup
// namespace shows "/" to the process while the host path differs) leaves just base, which the namespace mounts
// as the process's own cgroup.
std::vector<std::filesystem::path> chain(const std::filesystem::path& base, const std::string& cg_path) {
    std::vector<std::filesystem::path> dirs;
    std::filesystem::path rel = under("", cg_path);
    std::filesystem::path dir = base / rel;
    std::error_code ec;
    if (rel.empty() || !std::filesystem::is_directory(dir, ec)) return {base};
    while (true) {
        dirs.push_back(base / rel);
        if (rel.empty()) break;
        rel = rel.parent_path();
    }
    return dirs;
}

std::string relative_name(const std::filesystem::path& root, const std::filesystem::path& p) {
    return "/" + p.lexically_relative(root).generic_string();
}

// Runs `read` on each folder of the chain; keeps the smallest value.
template <typename T>
std::optional<T> tightest(const std::vector<std::filesystem::path>& dirs, const char* file,
                          const std::function<std::optional<T>(const std::filesystem::path&)>& read,
                          std::filesystem::path& where) {
    std::optional<T> best;
    for (const auto& d : dirs) {
        auto v = read(d / file);
        if (v && (!best || *v < *best)) {
            best = v;
            where = d / file;
        }
    }
    return best;
}

std::optional<std::filesystem::path> v2_base(const std::filesystem::path& root) {
    for (const char* dir : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        const auto base = under(root, dir);
        std::error_code ec;
        if (std::filesystem::exists(base / "cgroup.controllers", ec)) return base;
    }
    return std::nullopt;
}

std::optional<std::string> v2_path(const std::vector<CgroupLine>& lines) {
    for (const auto& l : lines) {
        if (l.controllers.empty()) return l.path;
    }
    return std::nullopt;
}

std::optional<std::string> v1_path(const std::vector<CgroupLine>& lines, std::string_view controller) {
    for (const auto& l : lines) {
        if (has_controller(l.controllers, controller)) return l.path;
    }
    return std::nullopt;
}

std::optional<uint64_t> read_limit(const std::filesystem::path& file) {
    auto line = read_line(file);
    if (!line || *line == "max") return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(line->data(), line->data() + line->size(), v);
    if (ec != std::errc() || p != line->data() + line->size() || v >= unlimited) return std::nullopt;
    return v;
}

std::optional<double> parse_quota(std::string_view quota, std::string_view period) {
    int64_t q = 0;
    int64_t p = 0;
    auto r1 = std::from_chars(quota.data(), quota.data() + quota.size(), q);
    auto r2 = std::from_chars(period.data(), period.data() + period.size(), p);
    if (r1.ec != std::errc() || r2.ec != std::errc() || q <= 0 || p <= 0) return std::nullopt;
    return static_cast<double>(q) / static_cast<double>(p);
}

std::optional<double> read_cpu_max(const std::filesystem::path& file) {
    auto line = read_line(file);
    if (!line) return std::nullopt;
    const size_t space = line->find(' ');
    if (space == std::string::npos) return std::nullopt;
    const std::string_view v(*line);
    if (v.substr(0, space) == "max") return std::nullopt;
    return parse_quota(v.substr(0, space), trim(v.substr(space + 1)));
}

std::optional<double> read_cfs(const std::filesystem::path& quota_file) {
    auto quota = read_line(quota_file);
    auto period = read_line(quota_file.parent_path() / "cpu.cfs_period_us");
    if (!quota || !period) return std::nullopt;
    return parse_quota(*quota, *period);
}

}  // namespace

CgroupMemory find_cgroup_memory(const std::filesystem::path& root) {
    CgroupMemory mem;
    const auto lines = read_self_cgroup(root);
    std::filesystem::path where;
    if (auto base = v2_base(root); base && v2_path(lines)) {
        const auto dirs = chain(*base, *v2_path(lines));
        mem.limit_bytes = tightest<uint64_t>(dirs, "memory.max", read_limit, where);
        mem.usage_file = dirs.front() / "memory.current";
    }
    if (!mem.limit_bytes) {
        if (auto path = v1_path(lines, "memory")) {
            const auto dirs = chain(under(root, "/sys/fs/cgroup/memory"), *path);
            mem.limit_bytes = tightest<uint64_t>(dirs, "memory.limit_in_bytes", read_limit, where);
            const auto v1_usage = dirs.front() / "memory.usage_in_bytes";
            std::error_code ec;
            if (mem.limit_bytes || mem.usage_file.empty() || !std::filesystem::exists(mem.usage_file, ec))
                mem.usage_file = v1_usage;
        }
    }
    if (mem.limit_bytes) mem.source = relative_name(root, where);
    return mem;
}

CpuQuota read_cpu_quota(const std::filesystem::path& root) {
    CpuQuota quota;
    const auto lines = read_self_cgroup(root);
    std::filesystem::path where;
    if (auto base = v2_base(root); base && v2_path(lines)) {
        quota.cores = tightest<double>(chain(*base, *v2_path(lines)), "cpu.max", read_cpu_max, where);
    }
    if (!quota.cores) {
        if (auto path = v1_path(lines, "cpu")) {
            for (const char* mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuacct,cpu"}) {
                const auto base = under(root, mount);
                std::error_code ec;
                if (!std::filesystem::is_directory(base, ec)) continue;
                quota.cores = tightest<double>(chain(base, *path), "cpu.cfs_quota_us", read_cfs, where);
                break;
            }
        }
    }
    if (quota.cores) quota.source = relative_name(root, where);
    return quota;
}

}  // namespace accel::hw::detail
