#pragma once

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
    double other_cpu_percent = -1; // CPU time used by other processes over 200 ms, percent of all cores
    std::vector<int32_t> affinity; // CPUs this process may run on
};

// Reads the above; takes about 200 ms (it samples /proc/stat twice). root: "/" or a test fixture.
Hygiene read_hygiene(const std::filesystem::path& root = "/");

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
