#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace accel::bench {

// What the machine was doing when a run started: stored with every result so a noisy figure can be explained.
struct Hygiene {
    std::string governor;          // cpufreq scaling governor of cpu0, "unavailable: <why>" when unreadable
    std::string energy_perf_bias;  // energy_performance_preference of cpu0, or "unavailable: <why>"
    double loadavg_1m = -1;        // -1 when unreadable
    double other_cpu_percent = -1; // CPU time used by other processes over the window, percent of all cores
    std::string other_cpu_window;  // what that window was and whose CPU time it left out
    std::vector<int32_t> affinity; // CPUs this process may run on
};

// How other_cpu_percent is sampled.
struct HygieneWindow {
    std::chrono::milliseconds duration{200};
    // With stop_fd: the window may end after min_duration, as soon as stop_fd is readable (the caller has nothing
    // left to run). other_cpu_window records the window's real length.
    std::chrono::milliseconds min_duration{100};
    int stop_fd = -1;
    // 0: only this process's own CPU time is left out. A pid: that process and all its descendants' (accel's own
    // processes: the campaign, its measuring workers, this probe), so that the sample may run while accel measures.
    pid_t exclude_tree = 0;
    std::string during;  // what ran during the window, for other_cpu_window ("" : nothing of accel's)
};

// Reads the above; takes window.duration, or less with stop_fd (it samples /proc/stat twice). root: "/" or a test fixture.
Hygiene read_hygiene(const std::filesystem::path& root = "/", const HygieneWindow& window = {});

// CPU time (user + system, in clock ticks) of pid and every descendant alive now, plus what its reaped children
// used (cutime/cstime), from /proc. 0 when pid is gone.
uint64_t process_tree_jiffies(pid_t pid, const std::filesystem::path& root = "/");

// Restricts this process (and the threads it starts later) to the CPUs in a hex mask such as "0x3".
// Throws Error{invalid_input} for a bad or empty mask, Error{io} when the kernel refuses it.
void apply_cpu_mask(const std::string& hex_mask);

// Drops the file's pages from the page cache (posix_fadvise DONTNEED; no root needed), so the next load
// reads from disk, and checks with mincore that none stayed. Returns "" when the file is out of the cache, else
// why not (fadvise failed, pages stayed: mapped by another process, tmpfs). Throws Error{io} naming the file when it
// cannot be opened.
std::string evict_from_page_cache(const std::filesystem::path& file);

// {pages of the open file in the page cache, pages of the file}, from mincore; nullopt (errno set) when the file
// cannot be mapped.
std::optional<std::pair<uint64_t, uint64_t>> page_cache_residency(int fd);

// A counter of consumed energy. RAPL (powercap) for CPU package and DRAM domains.
struct EnergyReading {
    bool available = false;
    std::string reason;  // why not available
    std::vector<std::pair<std::string, uint64_t>> uj;  // domain name -> microjoules
};
EnergyReading read_energy(const std::filesystem::path& root = "/");
// Joules per domain between two readings (handles counter wrap-around), or nullopt when unavailable.
std::optional<std::vector<std::pair<std::string, double>>> energy_between(const EnergyReading& a,
                                                                           const EnergyReading& b,
                                                                           const std::filesystem::path& root = "/");

}  // namespace accel::bench
