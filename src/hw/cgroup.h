// cgroup v1 and v2 limits of the calling process, private to hw/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace accel::hw::detail {

// The limit as read at the call, and the usage file to read whenever the usage is wanted.
struct CgroupMemory {
    std::optional<uint64_t> limit_bytes;  // the tightest limit on the way to the root; nullopt: none
    std::string source;                   // the file the limit came from, relative to the root
    std::filesystem::path usage_file;     // the process's own cgroup's usage file; empty when there is none
};

struct CpuQuota {
    std::optional<double> cores;  // quota / period; nullopt: no quota
    std::string source;
};

// Both follow /proc/self/cgroup under `root` to the process's cgroup, look for the v2 file (memory.max,
// cpu.max) and else the v1 one (memory.limit_in_bytes, cpu.cfs_quota_us), and take the tightest value
// from that cgroup up to the hierarchy's root. Values at or above 2^60 mean "unlimited" (v1's way to say it).
CgroupMemory find_cgroup_memory(const std::filesystem::path& root);
CpuQuota read_cpu_quota(const std::filesystem::path& root);

}  // namespace accel::hw::detail
