#include "accel/hw/cpu_info.h"

#include <sched.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "cgroup.h"
#include "text_files.h"

namespace accel::hw {
namespace {

using detail::read_line;
using detail::read_text;
using detail::read_u64;
using detail::trim;
using detail::under;

using Block = std::map<std::string, std::string, std::less<>>;

// /proc/cpuinfo as one key/value map per processor block (blank-line separated), plus the header-less
// trailer some Arm kernels print ("Hardware", "Model").
std::vector<Block> parse_cpuinfo(std::string_view text) {
    std::vector<Block> blocks(1);
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (trim(line).empty()) {
            if (!blocks.back().empty()) blocks.emplace_back();
            continue;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        blocks.back().emplace(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    if (blocks.back().empty()) blocks.pop_back();
    return blocks;
}

std::string get(const Block& b, std::string_view key) {
    auto it = b.find(key);
    return it == b.end() ? std::string{} : it->second;
}

std::vector<std::string> split_words(std::string_view s) {
    std::vector<std::string> words;
    std::istringstream in{std::string(s)};
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

// x86: the kernel's flag names are already the names accel reports.
constexpr std::array<std::string_view, 14> x86_features = {
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
    "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"};

// Arm: the kernel's hwcap name, and the name accel reports.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> arm_features = {{
    {"asimd", "neon"}, {"asimddp", "dotprod"}, {"i8mm", "i8mm"}, {"sve", "sve"}, {"sve2", "sve2"}, {"sme", "sme"}}};

std::string arm_vendor(std::string_view implementer) {
    static const std::map<std::string, std::string, std::less<>> names = {
        {"0x41", "ARM"}, {"0x42", "Broadcom"}, {"0x43", "Cavium"}, {"0x48", "HiSilicon"}, {"0x4e", "NVIDIA"},
        {"0x51", "Qualcomm"}, {"0x61", "Apple"}, {"0xc0", "Ampere"}, {"0x46", "Fujitsu"}};
    auto it = names.find(implementer);
    return it == names.end() ? fmt::format("implementer {}", implementer) : it->second;
}

// Names of the Arm Ltd cores seen in inference machines (the same table lscpu keeps).
std::string arm_core_name(std::string_view part) {
    static const std::map<std::string, std::string, std::less<>> names = {
        {"0xd03", "Cortex-A53"}, {"0xd05", "Cortex-A55"}, {"0xd07", "Cortex-A57"}, {"0xd08", "Cortex-A72"},
        {"0xd09", "Cortex-A73"}, {"0xd0a", "Cortex-A75"}, {"0xd0b", "Cortex-A76"}, {"0xd0c", "Neoverse-N1"},
        {"0xd0d", "Cortex-A77"}, {"0xd40", "Neoverse-V1"}, {"0xd41", "Cortex-A78"}, {"0xd44", "Cortex-X1"},
        {"0xd46", "Cortex-A510"}, {"0xd47", "Cortex-A710"}, {"0xd48", "Cortex-X2"}, {"0xd49", "Neoverse-N2"},
        {"0xd4f", "Neoverse-V2"}, {"0xd80", "Cortex-A520"}, {"0xd81", "Cortex-A720"}, {"0xd82", "Cortex-X4"},
        {"0xd84", "Neoverse-V3"}, {"0xd8e", "Neoverse-N3"}};
    auto it = names.find(part);
    return it == names.end() ? std::string{} : it->second;
}

void read_caches(const std::filesystem::path& root, CpuCaches& caches) {
    const auto dir = under(root, "/sys/devices/system/cpu/cpu0/cache");
    for (int i = 0; i < 16; ++i) {
        const auto idx = dir / fmt::format("index{}", i);
        const auto level = read_u64(idx / "level");
        const auto type = read_line(idx / "type");
        const auto size_text = read_line(idx / "size");
        if (!level || !type || !size_text) {
            if (!std::filesystem::exists(idx)) break;
            continue;
        }
        const auto size = detail::parse_size_suffix(*size_text);
        if (!size) continue;
        if (*level == 1 && *type == "Data") caches.l1d_bytes = size;
        if (*level == 1 && *type == "Instruction") caches.l1i_bytes = size;
        if (*level == 2) caches.l2_bytes = size;
        if (*level == 3) caches.l3_bytes = size;
    }
}

std::vector<int32_t> read_affinity(const std::filesystem::path& root) {
    std::vector<int32_t> cpus;
    if (root == "/") {
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof(set), &set) == 0) {
            for (int c = 0; c < CPU_SETSIZE; ++c) {
                if (CPU_ISSET(c, &set)) cpus.push_back(c);
            }
            return cpus;
        }
    }
    const auto status = read_text(under(root, "/proc/self/status"));
    if (!status) return cpus;
    std::istringstream in(*status);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Cpus_allowed_list:", 0) == 0) {
            if (auto list = detail::parse_cpu_list(line.substr(std::string_view("Cpus_allowed_list:").size()))) {
                cpus = *list;
            }
            break;
        }
    }
    return cpus;
}

}  // namespace

int32_t CpuInfo::effective_cores() const {
    int32_t n = logical_cores;
    if (!affinity.empty()) n = std::min(n, static_cast<int32_t>(affinity.size()));
    if (quota_cores) n = std::min(n, std::max(1, static_cast<int32_t>(std::ceil(*quota_cores))));
    return n;
}

CpuInfo read_cpu(const std::filesystem::path& root) {
    const auto cpuinfo_path = under(root, "/proc/cpuinfo");
    const auto text = read_text(cpuinfo_path);
    if (!text) throw Error(ErrorKind::io, "cannot read " + cpuinfo_path.string());
    const std::vector<Block> blocks = parse_cpuinfo(*text);

    CpuInfo cpu;
    std::vector<const Block*> processors;
    const Block* trailer = nullptr;
    for (const auto& b : blocks) {
        if (b.count("processor") != 0) {
            processors.push_back(&b);
        } else {
            trailer = &b;
        }
    }
    if (processors.empty()) throw Error(ErrorKind::io, cpuinfo_path.string() + " lists no processor");
    const Block& p0 = *processors.front();

    if (p0.count("flags") != 0) {
        cpu.arch = "x86_64";
        cpu.vendor = get(p0, "vendor_id");
        cpu.model = get(p0, "model name");
        cpu.flags = split_words(get(p0, "flags"));
        const std::set<std::string, std::less<>> flags(cpu.flags.begin(), cpu.flags.end());
        for (auto f : x86_features) {
            if (flags.count(f) != 0) cpu.features.emplace_back(f);
        }
    } else {
        // Only Arm kernels print "Features" with "CPU implementer"; other architectures are not described.
        cpu.arch = p0.count("CPU implementer") != 0 ? "aarch64" : "unknown";
        const std::string implementer = get(p0, "CPU implementer");
        cpu.vendor = implementer.empty() ? std::string{} : arm_vendor(implementer);
        cpu.model = get(p0, "model name");
        if (cpu.model.empty()) {
            const std::string part = get(p0, "CPU part");
            const std::string core = arm_core_name(part);
            if (!core.empty()) {
                cpu.model = cpu.vendor + " " + core;
            } else if (!part.empty()) {
                cpu.model = fmt::format("{} part {}", cpu.vendor, part);
            }
        }
        cpu.flags = split_words(get(p0, "Features"));
        const std::set<std::string, std::less<>> flags(cpu.flags.begin(), cpu.flags.end());
        for (const auto& [hwcap, name] : arm_features) {
            if (flags.count(hwcap) != 0) cpu.features.emplace_back(name);
        }
    }
    if (cpu.model.empty() && trailer != nullptr) cpu.model = get(*trailer, "Hardware");

    // Topology: sysfs first (it covers every architecture), then cpuinfo's physical id / core id.
    std::vector<int32_t> online;
    if (auto line = read_line(under(root, "/sys/devices/system/cpu/online"))) {
        if (auto list = detail::parse_cpu_list(*line)) online = *list;
    }
    std::set<std::pair<uint64_t, uint64_t>> cores;
    std::set<uint64_t> packages;
    bool topology_complete = !online.empty();
    for (int32_t c : online) {
        const auto topo = under(root, fmt::format("/sys/devices/system/cpu/cpu{}/topology", c));
        const auto pkg = read_u64(topo / "physical_package_id");
        const auto core = read_u64(topo / "core_id");
        if (!pkg || !core) {
            topology_complete = false;
            break;
        }
        packages.insert(*pkg);
        cores.emplace(*pkg, *core);
    }
    if (!topology_complete) {
        cores.clear();
        packages.clear();
        bool have_ids = true;
        for (const Block* b : processors) {
            const std::string pkg = get(*b, "physical id");
            const std::string core = get(*b, "core id");
            if (pkg.empty() || core.empty()) {
                have_ids = false;
                break;
            }
            const auto pkg_id = detail::parse_u64(pkg);
            const auto core_id = detail::parse_u64(core);
            if (!pkg_id || !core_id) {
                have_ids = false;
                break;
            }
            packages.insert(*pkg_id);
            cores.emplace(*pkg_id, *core_id);
        }
        if (!have_ids) {
            cores.clear();
            packages.clear();
        }
    }
    cpu.logical_cores = static_cast<int32_t>(online.empty() ? processors.size() : online.size());
    cpu.physical_cores = cores.empty() ? cpu.logical_cores : static_cast<int32_t>(cores.size());
    cpu.sockets = packages.empty() ? 1 : static_cast<int32_t>(packages.size());
    cpu.smt = cpu.logical_cores > cpu.physical_cores;

    const auto freq = under(root, "/sys/devices/system/cpu/cpu0/cpufreq");
    if (auto khz = read_u64(freq / "base_frequency")) cpu.base_mhz = static_cast<double>(*khz) / 1000.0;
    if (auto khz = read_u64(freq / "cpuinfo_max_freq")) cpu.max_mhz = static_cast<double>(*khz) / 1000.0;

    read_caches(root, cpu.caches);

    if (auto line = read_line(under(root, "/sys/devices/system/node/online"))) {
        if (auto list = detail::parse_cpu_list(*line)) cpu.numa_nodes = static_cast<int32_t>(list->size());
    }

    cpu.affinity = read_affinity(root);
    const detail::CpuQuota quota = detail::read_cpu_quota(root);
    cpu.quota_cores = quota.cores;
    cpu.quota_source = quota.source;
    return cpu;
}

}  // namespace accel::hw
