#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace accel::hw {

// Size of one cache instance as cpu0 sees it (sysfs cpu0/cache/index*). nullopt: not exposed by the OS.
struct CpuCaches {
    std::optional<uint64_t> l1d_bytes;
    std::optional<uint64_t> l1i_bytes;
    std::optional<uint64_t> l2_bytes;
    std::optional<uint64_t> l3_bytes;
};

// The CPU as the OS describes it, plus the limits that apply to this process.
struct CpuInfo {
    std::string arch;    // "x86_64", "aarch64" or "unknown", from the shape of /proc/cpuinfo
    std::string vendor;  // "GenuineIntel", "AuthenticAMD", "ARM", ...
    std::string model;   // /proc/cpuinfo "model name" (x86), else derived from "CPU part" (Arm)
    int32_t sockets = 0;
    int32_t physical_cores = 0;
    int32_t logical_cores = 0;  // online CPUs, what sysconf(_SC_NPROCESSORS_ONLN) counts
    bool smt = false;           // more than one logical CPU per core
    std::optional<double> base_mhz;
    std::optional<double> max_mhz;
    CpuCaches caches;
    std::optional<int32_t> numa_nodes;  // nullopt when /sys/devices/system/node is absent
    std::vector<std::string> features;  // the ISA features that matter for inference, in accel's names (docs/hw.md)
    std::vector<std::string> flags;     // every flag /proc/cpuinfo lists for cpu0, as written there
    std::vector<int32_t> affinity;      // CPUs this process may run on
    std::optional<double> quota_cores;  // cgroup CPU quota in cores (cpu.max or cfs_quota_us/cfs_period_us)
    std::string quota_source;           // the file the quota came from, "" when there is none

    // The number of CPUs that work can use at once: logical cores, clamped by the affinity mask and the quota.
    int32_t effective_cores() const;
};

// Reads the CPU description under `root` (normally "/"; tests pass a fixture tree). Missing files leave the
// corresponding fields empty. Throws Error{io} when <root>/proc/cpuinfo cannot be read. When root is "/",
// the affinity mask comes from sched_getaffinity(); otherwise from <root>/proc/self/status.
// Thread-safe (reads files only).
CpuInfo read_cpu(const std::filesystem::path& root = "/");

}  // namespace accel::hw
