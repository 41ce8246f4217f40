#include "text_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace accel::hw::detail {

// Plain read(2) rather than an ifstream: the pool reads /proc/meminfo and a cgroup file on every admission, and
// the stream machinery cost more than the kernel's side of the read.
std::optional<std::string> read_text(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

std::string_view trim(std::string_view s) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<std::string> read_line(const std::filesystem::path& path) {
    auto text = read_text(path);
    if (!text) return std::nullopt;
    std::string_view v(*text);
    v = v.substr(0, v.find('\n'));
    v = trim(v);
    if (v.empty()) return std::nullopt;
    return std::string(v);
}

std::optional<uint64_t> parse_u64(std::string_view text) {
    uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
    return value;
}

std::optional<uint64_t> read_u64(const std::filesystem::path& path) {
    auto line = read_line(path);
    if (!line) return std::nullopt;
    return parse_u64(*line);
}

std::optional<std::vector<int32_t>> parse_cpu_list(std::string_view text) {
    text = trim(text);
    std::vector<int32_t> cpus;
    if (text.empty()) return cpus;
    while (!text.empty()) {
        const size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        int32_t lo = 0;
        int32_t hi = 0;
        const size_t dash = item.find('-');
        const std::string_view a = item.substr(0, dash);
        auto r1 = std::from_chars(a.data(), a.data() + a.size(), lo);
        if (r1.ec != std::errc() || r1.ptr != a.data() + a.size()) return std::nullopt;
        hi = lo;
        if (dash != std::string_view::npos) {
            const std::string_view b = item.substr(dash + 1);
            auto r2 = std::from_chars(b.data(), b.data() + b.size(), hi);
            if (r2.ec != std::errc() || r2.ptr != b.data() + b.size()) return std::nullopt;
        }
        // A range wider than any machine is malformed input, not a reason to allocate gigabytes.
        if (lo < 0 || hi < lo || hi - lo > 65536) return std::nullopt;
        for (int32_t c = lo; c <= hi; ++c) cpus.push_back(c);
    }
    return cpus;
}

std::optional<uint64_t> parse_size_suffix(std::string_view text) {
    text = trim(text);
    uint64_t value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) return std::nullopt;
    const std::string_view suffix = trim(std::string_view(p, static_cast<size_t>(text.data() + text.size() - p)));
    if (suffix.empty()) return value;
    if (suffix == "K" || suffix == "k" || suffix == "KB" || suffix == "kB") return value * 1024;
    if (suffix == "M" || suffix == "MB") return value * 1024 * 1024;
    if (suffix == "G" || suffix == "GB") return value * 1024 * 1024 * 1024;
    return std::nullopt;
}

std::filesystem::path under(const std::filesystem::path& root, std::string_view abs_path) {
    while (!abs_path.empty() && abs_path.front() == '/') abs_path.remove_prefix(1);
    return root / std::filesystem::path(abs_path);
}

}  // namespace accel::hw::detail
