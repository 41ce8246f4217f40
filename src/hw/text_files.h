// Small readers for /proc and /sys text files, private to hw/. Every path is already joined to the caller's root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accel::hw::detail {

// The file's content, or nullopt when it is missing or unreadable (both mean "not exposed" in /proc and /sys).
std::optional<std::string> read_text(const std::filesystem::path& path);

// The first line, trimmed; nullopt when the file is missing or empty.
std::optional<std::string> read_line(const std::filesystem::path& path);

// A whole string as an unsigned decimal integer; nullopt otherwise.
std::optional<uint64_t> parse_u64(std::string_view text);

// The first line as an unsigned integer; nullopt when missing or not a number.
std::optional<uint64_t> read_u64(const std::filesystem::path& path);

std::string_view trim(std::string_view s);

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}. nullopt when the text is malformed.
std::optional<std::vector<int32_t>> parse_cpu_list(std::string_view text);

// "32K", "1024K", "2M" (sysfs cache sizes) -> bytes.
std::optional<uint64_t> parse_size_suffix(std::string_view text);

// Joins a root and an absolute system path ("/proc/cpuinfo") without dropping the root.
std::filesystem::path under(const std::filesystem::path& root, std::string_view abs_path);

}  // namespace accel::hw::detail
