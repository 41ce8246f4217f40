#include "accel/bench/run_hygiene.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::bench {
namespace {

std::optional<std::string> read_line(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    return line;
}

// Busy and total jiffies of all CPUs from /proc/stat's first line.
std::pair<uint64_t, uint64_t> cpu_jiffies(const std::filesystem::path& root) {
    auto line = read_line(root / "proc/stat");
    if (!line) return {0, 0};
    std::istringstream ss(*line);
    std::string cpu;
    ss >> cpu;
    uint64_t v = 0;
    uint64_t total = 0;
    uint64_t idle = 0;
    for (int i = 0; ss >> v; ++i) {
        total += v;
        if (i == 3 || i == 4) idle += v;  // idle and iowait
    }
    return {total - idle, total};
}

uint64_t self_jiffies() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    return static_cast<uint64_t>(s * static_cast<double>(sysconf(_SC_CLK_TCK)));
}

// utime + stime + cutime + cstime of one process (fields 14-17 of /proc/<pid>/stat, after the command's ')').
uint64_t stat_jiffies(const std::filesystem::path& proc) {
    const auto line = read_line(proc / "stat");
    if (!line) return 0;
    const size_t close = line->rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream ss(line->substr(close + 1));
    std::string field;
    uint64_t sum = 0;
    for (int i = 3; i <= 17 && ss >> field; ++i) {
        if (i >= 14) sum += std::strtoull(field.c_str(), nullptr, 10);
    }
    return sum;
}

std::vector<std::filesystem::path> rapl_domains(const std::filesystem::path& root) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    const auto base = root / "sys/class/powercap";
    for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("intel-rapl:", 0) == 0 || name.rfind("amd-rapl:", 0) == 0) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

uint64_t process_tree_jiffies(pid_t pid, const std::filesystem::path& root) {
    const auto proc = root / "proc" / std::to_string(pid);
    uint64_t sum = stat_jiffies(proc);
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(proc / "task", ec)) {
        std::ifstream in(task.path() / "children");
        for (pid_t child = 0; in >> child;) sum += process_tree_jiffies(child, root);
    }
    return sum;
}

Hygiene read_hygiene(const std::filesystem::path& root, const HygieneWindow& window) {
    Hygiene h;
    const auto cpufreq = root / "sys/devices/system/cpu/cpu0/cpufreq";
    h.governor = read_line(cpufreq / "scaling_governor").value_or("unavailable: no cpufreq in this kernel or VM");
    h.energy_perf_bias =
        read_line(cpufreq / "energy_performance_preference").value_or("unavailable: not exposed by the driver");
    if (auto l = read_line(root / "proc/loadavg")) h.loadavg_1m = std::strtod(l->c_str(), nullptr);
    const auto own = [&] { return window.exclude_tree > 0 ? process_tree_jiffies(window.exclude_tree, root)
                                                          : self_jiffies(); };
    const auto [busy0, total0] = cpu_jiffies(root);
    const uint64_t self0 = own();
    const auto t0 = std::chrono::steady_clock::now();
    if (window.stop_fd < 0 || window.min_duration >= window.duration) {
        std::this_thread::sleep_for(window.duration);
    } else {
        // At least min_duration; then until the caller says stop (a byte or its end on stop_fd) or duration.
        std::this_thread::sleep_for(window.min_duration);
        pollfd p{window.stop_fd, POLLIN, 0};
        (void)::poll(&p, 1, static_cast<int>((window.duration - window.min_duration).count()));
    }
    const auto [busy1, total1] = cpu_jiffies(root);
    const uint64_t self1 = own();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    h.other_cpu_window = fmt::format("{} ms at the start of the run{}; {} left out", ms.count(),
                                     window.during.empty() ? "" : ", while " + window.during,
                                     window.exclude_tree > 0 ? "accel's own processes (the run's process tree)"
                                                             : "this probe's own CPU time");
    if (total1 > total0) {
        const double busy = static_cast<double>(busy1 - busy0) - (static_cast<double>(self1) - static_cast<double>(self0));
        h.other_cpu_percent = std::max(0.0, 100.0 * busy / static_cast<double>(total1 - total0));
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE; ++i) {
            if (CPU_ISSET(i, &set)) h.affinity.push_back(i);
        }
    }
    return h;
}

void apply_cpu_mask(const std::string& hex_mask) {
    std::string m = hex_mask;
    if (m.rfind("0x", 0) == 0 || m.rfind("0X", 0) == 0) m = m.substr(2);
    if (m.empty() || m.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        throw Error(ErrorKind::invalid_input, "--cpu-mask " + hex_mask + ": expected a hex mask such as 0x3");
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    int bit = 0;
    for (auto it = m.rbegin(); it != m.rend(); ++it) {
        const int v = std::stoi(std::string(1, *it), nullptr, 16);
        for (int k = 0; k < 4; ++k, ++bit) {
            if ((v >> k) & 1) CPU_SET(bit, &set);
        }
    }
    if (CPU_COUNT(&set) == 0) throw Error(ErrorKind::invalid_input, "--cpu-mask " + hex_mask + " selects no CPU");
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        throw Error(ErrorKind::io, "--cpu-mask " + hex_mask + ": the kernel refused it (CPUs offline or not allowed)");
    }
}

std::string evict_from_page_cache(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(ErrorKind::io, "cannot open " + file.string() + " to evict it from the page cache");
    ::fdatasync(fd);
    const int rc = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // returns the error number, not -1
    std::string why;
    if (rc != 0) {
        why = fmt::format("posix_fadvise(DONTNEED) on {} failed: {}", file.string(), std::strerror(rc));
    } else if (const auto res = page_cache_residency(fd); !res) {
        why = fmt::format("cannot check {}'s pages with mincore: {}", file.string(), std::strerror(errno));
    } else if (res->first > 0) {
        // Pages mapped by another process (or on a file system that keeps them, such as tmpfs) stay.
        why = fmt::format("{} of {} pages of {} stayed in the page cache after posix_fadvise(DONTNEED)", res->first,
                          res->second, file.string());
    }
    ::close(fd);
    return why;
}

std::optional<std::pair<uint64_t, uint64_t>> page_cache_residency(int fd) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) return std::nullopt;
    const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const auto size = static_cast<uint64_t>(st.st_size);
    const uint64_t n_pages = (size + page - 1) / page;
    if (n_pages == 0) return std::pair<uint64_t, uint64_t>{0, 0};
    // Mapping the file faults nothing in; mincore then reports which of its pages the page cache holds.
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return std::nullopt;
    std::vector<unsigned char> vec(n_pages);
    const int rc = ::mincore(map, size, vec.data());
    ::munmap(map, size);
    if (rc != 0) return std::nullopt;
    uint64_t resident = 0;
    for (unsigned char v : vec) resident += v & 1U;
    return std::pair<uint64_t, uint64_t>{resident, n_pages};
}

EnergyReading read_energy(const std::filesystem::path& root) {
    EnergyReading r;
    const auto domains = rapl_domains(root);
    if (domains.empty()) {
        r.reason = "no RAPL powercap domains under /sys/class/powercap (VM, or a CPU without RAPL)";
        return r;
    }
    for (const auto& d : domains) {
        auto name = read_line(d / "name");
        auto uj = read_line(d / "energy_uj");
        if (!uj) {
            r.reason = "cannot read " + (d / "energy_uj").string() + " (since Linux 5.10 it needs root)";
            r.uj.clear();
            return r;
        }
        r.uj.emplace_back(name.value_or(d.filename().string()) + "(" + d.filename().string() + ")",
                          std::strtoull(uj->c_str(), nullptr, 10));
    }
    r.available = true;
    return r;
}

std::optional<std::vector<std::pair<std::string, double>>> energy_between(const EnergyReading& a,
                                                                           const EnergyReading& b,
                                                                           const std::filesystem::path& root) {
    if (!a.available || !b.available || a.uj.size() != b.uj.size()) return std::nullopt;
    std::vector<std::pair<std::string, double>> out;
    const auto domains = rapl_domains(root);
    for (size_t i = 0; i < a.uj.size(); ++i) {
        uint64_t delta = b.uj[i].second - a.uj[i].second;
        if (b.uj[i].second < a.uj[i].second && i < domains.size()) {
            const auto range = read_line(domains[i] / "max_energy_range_uj");
            const uint64_t max = range ? std::strtoull(range->c_str(), nullptr, 10) : 0;
            delta = max - a.uj[i].second + b.uj[i].second;
        }
        out.emplace_back(a.uj[i].first, static_cast<double>(delta) / 1e6);
    }
    return out;
}

}  // namespace accel::bench
