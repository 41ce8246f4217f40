#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace accel::hw {

// Host memory from /proc/meminfo and the container's memory limit from cgroup v2 or v1.
struct MemoryInfo {
    uint64_t total_bytes = 0;      // MemTotal
    uint64_t available_bytes = 0;  // MemAvailable
    uint64_t swap_total_bytes = 0;
    uint64_t swap_free_bytes = 0;
    std::optional<uint64_t> limit_bytes;         // cgroup limit; nullopt: none
    std::optional<uint64_t> cgroup_usage_bytes;  // what the cgroup already uses, when it has a limit
    std::string limit_source;                    // e.g. "/sys/fs/cgroup/memory.max"; "" without a limit

    // The figures that count for this process: the host figure, clamped by the cgroup limit.
    uint64_t effective_total_bytes() const;
    uint64_t effective_available_bytes() const;
};

// Reads <root>/proc/meminfo and the cgroup files under `root`. Throws Error{io} when meminfo cannot be read
// or lacks MemTotal. Thread-safe (reads files only).
MemoryInfo read_memory(const std::filesystem::path& root = "/");

// For callers that read memory often (the pool checks it on every admission): the cgroup that bounds this process,
// its limit and its usage file are found once, at construction; read() then costs two small file reads
// (/proc/meminfo and the usage file) where read_memory() costs about eight. A limit changed afterwards
// (`docker update`) or a move to another cgroup is seen by the next watcher, not this one. Thread-safe.
class MemoryWatcher {
public:
    explicit MemoryWatcher(const std::filesystem::path& root = "/");
    MemoryInfo read() const;  // throws Error{io} as read_memory does

private:
    std::filesystem::path meminfo_;
    std::optional<uint64_t> limit_bytes_;
    std::string limit_source_;
    std::filesystem::path usage_file_;
};

}  // namespace accel::hw
