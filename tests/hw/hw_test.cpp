// hw/: parsing against fixture trees, checks against this machine, ACCEL_DEVICES, ranking, the roofline.
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/hw/browser.h"
#include "accel/hw/cpu_info.h"
#include "accel/hw/device_ranking.h"
#include "accel/hw/gpu_energy.h"
#include "accel/hw/inventory.h"
#include "accel/hw/memory_info.h"
#include "accel/hw/os_info.h"
#include "accel/hw/roofline.h"
#include "test_support.h"
#include "text_files.h"

namespace {

using namespace accel::hw;
namespace fs = std::filesystem;

const fs::path fixtures = HW_FIXTURES;
constexpr uint64_t kib = 1024;
constexpr uint64_t mib = 1024 * kib;
constexpr uint64_t gib = 1024 * mib;

std::vector<std::string> v(std::initializer_list<const char*> items) { return {items.begin(), items.end()}; }

// ---- fixtures ----

TEST(Fixture, Avx512ServerCpu) {
    const CpuInfo c = read_cpu(fixtures / "avx512-server");
    EXPECT_EQ(c.arch, "x86_64");
    EXPECT_EQ(c.vendor, "GenuineIntel");
    EXPECT_EQ(c.model, "Intel(R) Xeon(R) Platinum 8480+");
    EXPECT_EQ(c.sockets, 2);
    EXPECT_EQ(c.physical_cores, 4);
    EXPECT_EQ(c.logical_cores, 8);
    EXPECT_TRUE(c.smt);
    EXPECT_EQ(c.base_mhz, 2000.0);
    EXPECT_EQ(c.max_mhz, 3800.0);
    EXPECT_EQ(c.caches.l1d_bytes, 48 * kib);
    EXPECT_EQ(c.caches.l1i_bytes, 32 * kib);
    EXPECT_EQ(c.caches.l2_bytes, 2048 * kib);
    EXPECT_EQ(c.caches.l3_bytes, 107520 * kib);
    EXPECT_EQ(c.numa_nodes, 2);
    EXPECT_EQ(c.features, v({"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                             "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}));
    EXPECT_EQ(c.affinity.size(), 8U);
    EXPECT_FALSE(c.quota_cores.has_value()) << "cpu.max 'max' is no quota";
    EXPECT_EQ(c.effective_cores(), 8);
}

TEST(Fixture, Avx512ServerMemoryAndOs) {
    const MemoryInfo m = read_memory(fixtures / "avx512-server");
    EXPECT_EQ(m.total_bytes, 527958012 * kib);
    EXPECT_EQ(m.available_bytes, 498765432 * kib);
    EXPECT_EQ(m.swap_total_bytes, 8388604 * kib);
    EXPECT_FALSE(m.limit_bytes.has_value()) << "memory.max 'max' is no limit";
    EXPECT_EQ(m.effective_total_bytes(), m.total_bytes);
    const OsInfo o = read_os(fixtures / "avx512-server", read_cpu(fixtures / "avx512-server").flags);
    EXPECT_EQ(o.kernel, "5.15.0-105-generic");
    EXPECT_EQ(o.distro, "Ubuntu 22.04.4 LTS");
    EXPECT_EQ(o.container, "");
    EXPECT_EQ(o.vm, "") << o.vm_evidence;
}

TEST(Fixture, ArmBoard) {
    const fs::path root = fixtures / "arm-board";
    const CpuInfo c = read_cpu(root);
    EXPECT_EQ(c.arch, "aarch64");
    EXPECT_EQ(c.vendor, "ARM");
    EXPECT_EQ(c.model, "ARM Cortex-A76");
    EXPECT_EQ(c.sockets, 1);
    EXPECT_EQ(c.physical_cores, 4);
    EXPECT_EQ(c.logical_cores, 4);
    EXPECT_FALSE(c.smt);
    EXPECT_FALSE(c.base_mhz.has_value());
    EXPECT_EQ(c.max_mhz, 2400.0);
    EXPECT_EQ(c.caches.l1d_bytes, 64 * kib);
    EXPECT_EQ(c.caches.l2_bytes, 512 * kib);
    EXPECT_FALSE(c.caches.l3_bytes.has_value());
    EXPECT_FALSE(c.numa_nodes.has_value());
    EXPECT_EQ(c.features, v({"neon", "dotprod"}));
    const MemoryInfo m = read_memory(root);
    EXPECT_EQ(m.total_bytes, 8245228 * kib);
    EXPECT_FALSE(m.limit_bytes.has_value());
    const OsInfo o = read_os(root, c.flags);
    EXPECT_EQ(o.kernel, "6.6.31+rpt-rpi-2712");
    EXPECT_EQ(o.distro, "Debian GNU/Linux 12 (bookworm)");
    EXPECT_EQ(o.vm, "");
}

TEST(Fixture, CgroupLimitedContainer) {
    const fs::path root = fixtures / "cgroup-container";
    const CpuInfo c = read_cpu(root);
    EXPECT_EQ(c.model, "AMD EPYC 7763 64-Core Processor");
    EXPECT_EQ(c.logical_cores, 16);
    EXPECT_EQ(c.physical_cores, 8);
    EXPECT_EQ(c.features, v({"sse4_2", "avx", "avx2", "fma", "f16c"}));
    EXPECT_EQ(c.affinity, (std::vector<int32_t>{0, 1, 2, 3}));
    ASSERT_TRUE(c.quota_cores.has_value());
    EXPECT_DOUBLE_EQ(*c.quota_cores, 1.5);
    EXPECT_EQ(c.quota_source, "/sys/fs/cgroup/cpu.max");
    EXPECT_EQ(c.effective_cores(), 2) << "16 online, 4 in the mask, 1.5 cores of quota";
    const MemoryInfo m = read_memory(root);
    EXPECT_EQ(m.total_bytes, 131846524 * kib);
    EXPECT_EQ(m.limit_bytes, 4 * gib);
    EXPECT_EQ(m.limit_source, "/sys/fs/cgroup/memory.max");
    EXPECT_EQ(m.cgroup_usage_bytes, 1 * gib);
    EXPECT_EQ(m.effective_total_bytes(), 4 * gib);
    EXPECT_EQ(m.effective_available_bytes(), 3 * gib);
    const OsInfo o = read_os(root, c.flags);
    EXPECT_EQ(o.container, "docker");
    EXPECT_EQ(o.container_evidence, "/.dockerenv");
}

TEST(Fixture, DetectOnFixtureWithoutDevices) {
    const Inventory inv = detect({.root = fixtures / "cgroup-container", .devices = false, .allow_list = ""});
    EXPECT_TRUE(inv.devices.empty());
    const accel::MachineFingerprint fp = machine_fingerprint(inv);
    EXPECT_EQ(fp.cpu_model, "AMD EPYC 7763 64-Core Processor");
    EXPECT_EQ(fp.n_logical_cores, 16);
    EXPECT_EQ(fp.memory_total_bytes, 131846524 * kib);
}

TEST(Fixture, MissingCpuinfoIsIoError) {
    accel::test::TempDir dir;
    try {
        read_cpu(dir.path());
        FAIL() << "expected an Error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::io);
        EXPECT_NE(std::string(e.what()).find("cpuinfo"), std::string::npos) << e.what();
    }
    EXPECT_THROW(read_memory(dir.path()), accel::Error);
}

// test_support's write_file does not create folders.
void put(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    accel::test::write_file(path, content);
    ASSERT_TRUE(fs::exists(path)) << path;
}

// cgroup v1, nested: the tightest limit on the way up counts; v1's "unlimited" (2^63 rounded down) does not.
TEST(Fixture, CgroupV1Hierarchy) {
    accel::test::TempDir dir;
    const fs::path root = dir.path();
    put(root / "proc/cpuinfo", "processor\t: 0\nvendor_id\t: X\nmodel name\t: Y\nflags\t\t: fpu\n");
    put(root / "proc/meminfo", "MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\n");
    put(root / "proc/self/cgroup", "4:memory:/outer/inner\n3:cpu,cpuacct:/outer/inner\n0::/\n");
    put(root / "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    put(root / "sys/fs/cgroup/memory/outer/memory.limit_in_bytes", "2147483648\n");
    put(root / "sys/fs/cgroup/memory/outer/inner/memory.limit_in_bytes", "9223372036854771712\n");
    put(root / "sys/fs/cgroup/memory/outer/inner/memory.usage_in_bytes", "536870912\n");
    put(root / "sys/fs/cgroup/cpu,cpuacct/outer/inner/cpu.cfs_quota_us", "-1\n");
    put(root / "sys/fs/cgroup/cpu,cpuacct/outer/inner/cpu.cfs_period_us", "100000\n");
    put(root / "sys/fs/cgroup/cpu,cpuacct/outer/cpu.cfs_quota_us", "250000\n");
    put(root / "sys/fs/cgroup/cpu,cpuacct/outer/cpu.cfs_period_us", "100000\n");
    const MemoryInfo m = read_memory(root);
    EXPECT_EQ(m.limit_bytes, 2 * gib);
    EXPECT_EQ(m.limit_source, "/sys/fs/cgroup/memory/outer/memory.limit_in_bytes");
    EXPECT_EQ(m.effective_available_bytes(), 1536 * mib);
    const CpuInfo c = read_cpu(root);
    EXPECT_EQ(c.quota_cores, 2.5);
    EXPECT_EQ(c.quota_source, "/sys/fs/cgroup/cpu,cpuacct/outer/cpu.cfs_quota_us");
    EXPECT_EQ(c.logical_cores, 1) << "no sysfs: counted from cpuinfo";
}

// The pool's watcher finds the cgroup once: later reads see new usage and available memory, but not a new limit
// (documented in memory_info.h); a fresh read_memory sees everything.
TEST(Fixture, MemoryWatcherRereadsUsageNotTheLimit) {
    accel::test::TempDir dir;
    const fs::path root = dir.path();
    const fs::path cg = root / "sys/fs/cgroup/memory/app";
    put(root / "proc/meminfo", "MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\n");
    put(root / "proc/self/cgroup", "4:memory:/app\n0::/\n");
    put(cg / "memory.limit_in_bytes", "2147483648\n");
    put(cg / "memory.usage_in_bytes", "536870912\n");
    const accel::hw::MemoryWatcher watcher(root);
    MemoryInfo m = watcher.read();
    EXPECT_EQ(m.limit_bytes, 2 * gib);
    EXPECT_EQ(m.limit_source, "/sys/fs/cgroup/memory/app/memory.limit_in_bytes");
    EXPECT_EQ(m.effective_available_bytes(), 1536 * mib);

    put(cg / "memory.usage_in_bytes", "1610612736\n");
    EXPECT_EQ(watcher.read().effective_available_bytes(), 512 * mib);
    put(root / "proc/meminfo", "MemTotal: 16777216 kB\nMemAvailable: 262144 kB\n");
    EXPECT_EQ(watcher.read().effective_available_bytes(), 256 * mib) << "MemAvailable is below the cgroup's room";

    put(cg / "memory.limit_in_bytes", "4294967296\n");
    EXPECT_EQ(watcher.read().limit_bytes, 2 * gib);
    EXPECT_EQ(read_memory(root).limit_bytes, 4 * gib);
}

TEST(TextFiles, CpuLists) {
    using accel::hw::detail::parse_cpu_list;
    EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int32_t>{0, 1, 2, 3, 8, 10, 11}));
    EXPECT_EQ(parse_cpu_list(""), std::vector<int32_t>{});
    EXPECT_FALSE(parse_cpu_list("3-1").has_value());
    EXPECT_FALSE(parse_cpu_list("a").has_value());
    EXPECT_FALSE(parse_cpu_list("0-99999999").has_value());
    EXPECT_EQ(accel::hw::detail::parse_size_suffix("107520K"), 107520 * kib);
    EXPECT_FALSE(accel::hw::detail::parse_size_suffix("12Q").has_value());
}

// ---- this machine ----

std::string cpuinfo_field(const std::string& key) {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key, 0) != 0) continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        return value;
    }
    return {};
}

TEST(RealMachine, CoresMatchSysconfAndNproc) {
    const CpuInfo c = read_cpu();
    EXPECT_EQ(c.logical_cores, sysconf(_SC_NPROCESSORS_ONLN));
    cpu_set_t set;
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    EXPECT_EQ(static_cast<int>(c.affinity.size()), CPU_COUNT(&set)) << "nproc counts the affinity mask";
    EXPECT_GE(c.logical_cores, c.physical_cores);
    EXPECT_GE(c.physical_cores, c.sockets);
    EXPECT_GE(c.sockets, 1);
}

TEST(RealMachine, TotalMemoryIsMemTotal) {
    std::ifstream in("/proc/meminfo");
    uint64_t kb = 0;
    for (std::string key; in >> key;) {
        if (key == "MemTotal:") {
            in >> kb;
            break;
        }
    }
    ASSERT_GT(kb, 0U);
    EXPECT_EQ(read_memory().total_bytes, kb * 1024);
}

TEST(RealMachine, ModelAndFlagsMatchCpuinfo) {
    const CpuInfo c = read_cpu();
    const std::string flags_line = cpuinfo_field(c.arch == "x86_64" ? "flags" : "Features");
    std::istringstream words(flags_line);
    const std::set<std::string> flags{std::istream_iterator<std::string>(words), {}};
    EXPECT_EQ(std::set<std::string>(c.flags.begin(), c.flags.end()), flags);
    if (c.arch != "x86_64") GTEST_SKIP() << "model name check is for x86 (/proc/cpuinfo on Arm has none)";
    EXPECT_EQ(c.model, cpuinfo_field("model name"));
    for (const char* f : {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                          "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}) {
        const bool listed = std::find(c.features.begin(), c.features.end(), f) != c.features.end();
        EXPECT_EQ(listed, flags.count(f) == 1) << f;
    }
}

TEST(RealMachine, ContainerAndVmHintsMatchWhatIsVisible) {
    const CpuInfo c = read_cpu();
    const OsInfo o = read_os("/", c.flags);
    EXPECT_FALSE(o.kernel.empty());
    if (fs::exists("/.dockerenv")) {
        EXPECT_EQ(o.container, "docker");
        EXPECT_EQ(o.container_evidence, "/.dockerenv");
    }
    if (std::find(c.flags.begin(), c.flags.end(), "hypervisor") != c.flags.end()) {
        EXPECT_FALSE(o.vm.empty()) << "the hypervisor flag is set";
    }
}

bool gpu_device_nodes_exist() {
    for (const char* p : {"/dev/nvidia0", "/dev/kfd", "/dev/dri"}) {
        if (fs::exists(p)) return true;
    }
    return false;
}

TEST(RealMachine, NoGpuReportedWhereThereIsNone) {
    if (gpu_device_nodes_exist()) GTEST_SKIP() << "this machine has GPU device nodes";
    const Inventory inv = detect({.allow_list = ""});
    for (const auto& d : inv.devices) {
        EXPECT_NE(d.type, DeviceType::gpu) << d.id;
        EXPECT_NE(d.type, DeviceType::igpu) << d.id;
    }
    ASSERT_FALSE(inv.devices.empty());
    EXPECT_EQ(inv.devices.front().id, "cpu");
    EXPECT_TRUE(inv.devices.front().usable);
    EXPECT_EQ(inv.devices.front().backend, "CPU");
    EXPECT_GT(inv.devices.front().memory_total_bytes, 0U);
    EXPECT_LE(inv.devices.front().memory_free_bytes, inv.memory.effective_available_bytes());
    EXPECT_FALSE(inv.ggml_cpu.features.empty());
    EXPECT_NE(inv.ggml_cpu.library.find("ggml-cpu"), std::string::npos) << inv.ggml_cpu.library;
    EXPECT_EQ(inv.probes.size(), 5U);
}

TEST(RealMachine, AllowListMarksOthersUnusableAndKeepsFingerprint) {
    const Inventory all = detect({.allow_list = ""});
    const Inventory only = detect({.allow_list = "cuda0, nosuch"});
    ASSERT_EQ(all.devices.size(), only.devices.size());
    for (const auto& d : only.devices) {
        EXPECT_FALSE(d.usable) << d.id;
        if (d.id == "cpu") {
            EXPECT_EQ(d.reason, "not in ACCEL_DEVICES");
        }
    }
    if (std::none_of(all.devices.begin(), all.devices.end(), [](const Device& d) { return d.id == "cuda0"; })) {
        EXPECT_EQ(only.unknown_allowed, v({"cuda0", "nosuch"}));
    }
    EXPECT_EQ(accel::fingerprint_id(machine_fingerprint(all)), accel::fingerprint_id(machine_fingerprint(only)));
    const Inventory cpu = detect({.allow_list = "CPU"});
    EXPECT_TRUE(cpu.devices.front().usable) << "ids are case-insensitive";
    EXPECT_TRUE(cpu.unknown_allowed.empty());
}

TEST(RealMachine, CpuSupportsTheInferenceTypes) {
    const Inventory inv = detect({.allow_list = ""});
    const Device& cpu = inv.devices.front();
    for (const char* t : {"f32", "f16", "q8_0", "q4_0"}) EXPECT_EQ(ggml_type_support(cpu, t), true) << t;
    EXPECT_EQ(ggml_type_support(cpu, "no_such_type"), std::nullopt);
}

// ---- allow-list on synthetic devices ----

Device dev(const std::string& id, DeviceType type, uint64_t free_bytes, bool usable = true) {
    Device d;
    d.id = id;
    d.name = id;
    d.type = type;
    d.backend = usable ? "B_" + id : "";
    d.memory_total_bytes = free_bytes * 2;
    d.memory_free_bytes = free_bytes;
    d.usable = usable;
    d.reason = usable ? "compiled" : "NVIDIA X found by NVML; this build has no CUDA backend";
    return d;
}

TEST(AllowList, EmptyAllowsEverything) {
    std::vector<Device> ds = {dev("cpu", DeviceType::cpu, gib), dev("cuda0", DeviceType::gpu, gib)};
    EXPECT_TRUE(apply_allow_list(ds, " , ").empty());
    EXPECT_TRUE(ds[0].usable && ds[1].usable);
    EXPECT_EQ(apply_allow_list(ds, "CUDA0"), std::vector<std::string>{});
    EXPECT_FALSE(ds[0].usable);
    EXPECT_TRUE(ds[1].usable);
}

// ---- ranking ----

std::optional<bool> fake_support(const Device& d, std::string_view type) {
    if (d.id == "vulkan0" && type == "q4_0") return false;
    if (d.backend.empty()) return std::nullopt;
    return true;
}

TEST(Ranking, FeasibleFirstThenPreferredKindThenThroughput) {
    const std::vector<Device> ds = {dev("cpu", DeviceType::cpu, 16 * gib), dev("cuda0", DeviceType::gpu, 8 * gib),
                                    dev("cuda1", DeviceType::gpu, 2 * gib), dev("cuda2", DeviceType::gpu, 24 * gib),
                                    dev("vulkan0", DeviceType::gpu, 24 * gib),
                                    dev("nvml:0", DeviceType::gpu, 80 * gib, false)};
    Roofline measured;
    measured.matmul.push_back({.device = "cuda0", .type = "q4_0", .m = 1, .n = 1, .k = 1, .threads = 0,
                               .gflops = {.median = 9000, .min = 8000, .max = 9500, .n = 5}});
    measured.matmul.push_back({.device = "cuda2", .type = "q4_0", .m = 1, .n = 1, .k = 1, .threads = 0,
                               .gflops = {.median = 3000, .min = 2900, .max = 3100, .n = 5}});
    const Requirements req{.bytes_per_device = 4 * gib,
                           .tensor_types = {"q4_0", "f16"},
                           .preferred_kinds = {DeviceType::gpu, DeviceType::cpu}};
    const auto ranked = rank_devices(ds, req, &measured, fake_support);
    std::vector<std::string> order;
    for (const auto& r : ranked) order.push_back(r.id);
    EXPECT_EQ(order, v({"cuda0", "cuda2", "cpu", "nvml:0", "vulkan0", "cuda1"})) << "infeasible ones by free memory";
    EXPECT_TRUE(ranked[0].feasible);
    EXPECT_EQ(ranked[0].reason,
              "fits: needs 4.0 GiB of 8.0 GiB free; B_cuda0 supports q4_0, f16; measured 9000 GFLOP/s q4_0; preferred kind gpu");
    EXPECT_TRUE(ranked[2].feasible);
    EXPECT_NE(ranked[2].reason.find("throughput not measured"), std::string::npos) << ranked[2].reason;
    EXPECT_FALSE(ranked[5].feasible);
    EXPECT_NE(ranked[5].reason.find("does not fit: needs 4.0 GiB, 2.0 GiB free"), std::string::npos) << ranked[5].reason;
    EXPECT_FALSE(ranked[4].feasible);
    EXPECT_NE(ranked[4].reason.find("B_vulkan0 does not support q4_0"), std::string::npos) << ranked[4].reason;
    EXPECT_FALSE(ranked[3].feasible);
    EXPECT_EQ(ranked[3].reason.rfind("not usable: NVIDIA X found by NVML; this build has no CUDA backend", 0), 0U)
        << ranked[3].reason;
    EXPECT_NE(ranked[3].reason.find("support for q4_0, f16 on no backend unknown"), std::string::npos) << ranked[3].reason;
}

TEST(Ranking, WithoutPreferenceFreeMemoryBreaksTies) {
    const std::vector<Device> ds = {dev("cuda0", DeviceType::gpu, 8 * gib), dev("cpu", DeviceType::cpu, 16 * gib)};
    const auto ranked = rank_devices(ds, Requirements{.bytes_per_device = gib, .tensor_types = {}, .preferred_kinds = {}},
                                     nullptr, fake_support);
    ASSERT_EQ(ranked.size(), 2U);
    EXPECT_EQ(ranked[0].id, "cpu");
    EXPECT_EQ(ranked[0].reason, "fits: needs 1.0 GiB of 16.0 GiB free");
}

// ---- browsers ----

TEST(Browsers, VersionsAndTimeouts) {
    accel::test::TempDir dir;
    const auto script = [&](const std::string& name, const std::string& body) {
        put(dir / name, "#!/bin/sh\n" + body + "\n");
        chmod((dir / name).c_str(), 0755);
    };
    script("firefox", "echo 'Mozilla Firefox 128.3.1esr'");
    script("chromium", "exec /bin/sleep 5");
    script("google-chrome", "exit 1");
    const char* old = std::getenv("PATH");
    const std::string saved = old != nullptr ? old : "";
    setenv("PATH", dir.path().c_str(), 1);
    const auto t0 = std::chrono::steady_clock::now();
    const auto found = find_browsers(std::chrono::milliseconds(300));
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    setenv("PATH", saved.c_str(), 1);
    ASSERT_EQ(found.size(), 3U);
    EXPECT_EQ(found[0].name, "chromium");
    EXPECT_EQ(found[0].version, "");
    EXPECT_EQ(found[0].error, "timed out after 300 ms");
    EXPECT_EQ(found[1].name, "chrome");
    EXPECT_EQ(found[1].error, "exit status 1");
    EXPECT_EQ(found[2].name, "firefox");
    EXPECT_EQ(found[2].version, "Mozilla Firefox 128.3.1esr");
    EXPECT_EQ(found[2].path, (dir / "firefox").string());
    EXPECT_LT(elapsed, std::chrono::seconds(3)) << "the sleeping one was killed";
}

// ---- roofline ----

MeasureOptions tiny() {
    // k = 256: q4_K's block size. 64 rows: a multiple of every repacked layout's interleave.
    return {.bandwidth_array_bytes = 1 * mib, .device_bandwidth_bytes = 1 * mib, .repetitions = 3,
            .cpu_shapes = {{64, 8, 256}, {64, 32, 256}}, .gpu_shapes = {{64, 8, 256}}, .threads = 0};
}

TEST(Roofline, SpreadIsMedianAndRange) {
    const Spread s = spread_of({5, 1, 3, 2});
    EXPECT_EQ(s.median, 2.5);
    EXPECT_EQ(s.min, 1);
    EXPECT_EQ(s.max, 5);
    EXPECT_EQ(s.n, 4);
    EXPECT_EQ(spread_of({}).n, 0);
}

TEST(Roofline, MeasuresEveryKernelAndTypeOnTheCpu) {
    const Inventory inv = detect({.allow_list = "cpu"});
    const Roofline r = measure_roofline(inv, tiny());
    EXPECT_EQ(r.fingerprint, accel::fingerprint_id(machine_fingerprint(inv)));
    std::set<std::string> kernels;
    for (const auto& b : r.bandwidth) {
        kernels.insert(b.kernel);
        EXPECT_EQ(b.device, "cpu");
        EXPECT_EQ(b.gb_per_s.n, 3);
        EXPECT_GT(b.gb_per_s.min, 0);
        EXPECT_LE(b.gb_per_s.min, b.gb_per_s.median);
        EXPECT_LE(b.gb_per_s.median, b.gb_per_s.max);
    }
    EXPECT_EQ(kernels, (std::set<std::string>{"read", "copy", "triad"}));
    EXPECT_EQ(r.bandwidth.size(), inv.cpu.effective_cores() > 1 ? 6U : 3U) << "no device kernels on the CPU";
    std::vector<std::string> types;
    for (const auto& m : r.matmul) {
        EXPECT_EQ(m.device, "cpu");
        EXPECT_EQ(m.threads, inv.cpu.effective_cores());
        types.push_back(m.type);
        // Every shape ran in the plain layout, each result within its bound of the host reference.
        int plain = 0;
        double best = 0;
        for (const auto& t : m.trials) {
            plain += t.layout == "plain" ? 1 : 0;
            EXPECT_LE(t.check_nmse, m.type == "f32" ? 1e-5 : 1e-3) << m.type << " " << t.layout;
            best = std::max(best, t.gflops.median);
        }
        EXPECT_EQ(plain, 2) << m.type;
        EXPECT_EQ(m.gflops.median, best) << m.type << ": the peak is the best trial";
    }
    EXPECT_EQ(types, v({"f32", "f16", "bf16", "q8_0", "q4_0", "q4_K"}));
    EXPECT_TRUE(r.unavailable.empty()) << r.unavailable.front().what << ": " << r.unavailable.front().reason;
}

// llama.cpp runs q4_0 weights repacked on AVX2 CPUs (ggml's CPU_REPACK buffer type); the roof must include that
// path, or a model's measured prefill lands above it.
TEST(Roofline, TimesTheRepackedLayoutLlamaCppUses) {
    const Inventory inv = detect({.allow_list = "cpu"});
    const auto& f = inv.cpu.features;
    if (std::find(f.begin(), f.end(), "avx2") == f.end()) GTEST_SKIP() << "no AVX2: ggml repacks nothing here";
    const Roofline r = measure_roofline(inv, tiny());
    const MatmulResult* q4 = matmul_peak(r, "cpu", "q4_0");
    ASSERT_NE(q4, nullptr);
    int repacked = 0;
    for (const auto& t : q4->trials) repacked += t.layout == "CPU_REPACK" ? 1 : 0;
    EXPECT_EQ(repacked, 2) << "one repacked trial per shape";
    EXPECT_EQ(matmul_peak(r, "cpu", "f32")->trials.size(), 2U) << "f32 has no repacked layout";
}

TEST(Roofline, DeviceKernelsReadAndCopyTheDevicesMemory) {
    MeasureOptions o = tiny();
    o.device_bandwidth_on_cpu = true;
    const Roofline r = measure_roofline(detect({.allow_list = "cpu"}), o);
    std::vector<std::string> device_kernels;
    for (const auto& b : r.bandwidth) {
        if (b.threads != 0) continue;
        device_kernels.push_back(b.kernel);
        EXPECT_EQ(b.array_bytes, 1 * mib);
        EXPECT_GT(b.gb_per_s.min, 0);
    }
    EXPECT_EQ(device_kernels, v({"read", "copy"}));
}

TEST(Roofline, FiguresPastTheBudgetAreUnavailableWithTheReason) {
    MeasureOptions o = tiny();
    o.budget_s = 0;
    o.device_bandwidth_on_cpu = true;
    const Roofline r = measure_roofline(detect({.allow_list = "cpu"}), o);
    EXPECT_TRUE(r.matmul.empty());
    ASSERT_EQ(r.unavailable.size(), 14U) << "2 device kernels, 6 matmul types at 2 shapes";
    EXPECT_EQ(r.unavailable[0].what, "bandwidth cpu read");
    EXPECT_EQ(r.unavailable[2].what, "matmul cpu f32 64x8x256") << "shapes outer: every type's small shape first";
    EXPECT_EQ(r.unavailable[3].what, "matmul cpu f16 64x8x256");
    EXPECT_EQ(r.unavailable.back().what, "matmul cpu q4_K 64x32x256");
    EXPECT_EQ(r.unavailable.back().reason, "not measured: the 0 s budget of --measure was spent");
}

TEST(Roofline, PeaksAreLookedUpPerDeviceAndType) {
    Roofline r;
    r.bandwidth.push_back({.device = "cpu", .kernel = "read", .threads = 1, .gb_per_s = {.median = 10}});
    r.bandwidth.push_back({.device = "cpu", .kernel = "read", .threads = 8, .gb_per_s = {.median = 40}});
    r.bandwidth.push_back({.device = "cpu", .kernel = "copy", .threads = 8, .gb_per_s = {.median = 90}});
    r.bandwidth.push_back({.device = "cuda0", .kernel = "read", .threads = 0, .gb_per_s = {.median = 4100}});
    EXPECT_EQ(read_bandwidth_gbs(r, "cpu"), 40.0) << "the best read kernel, never copy";
    EXPECT_EQ(read_bandwidth_gbs(r, "cuda0"), 4100.0) << "a GPU point uses its own memory's bandwidth";
    EXPECT_FALSE(read_bandwidth_gbs(r, "cuda1").has_value());
    r.matmul.push_back({.device = "cuda0", .type = "q4_K", .gflops = {.median = 5}});
    ASSERT_NE(matmul_peak(r, "cuda0", "q4_k"), nullptr);
    EXPECT_EQ(matmul_peak(r, "cuda0", "q4_k")->gflops.median, 5);
    EXPECT_EQ(matmul_peak(r, "cpu", "q4_K"), nullptr);
    EXPECT_EQ(matmul_peak(r, "cuda0", "f32"), nullptr) << "no fallback to another type's peak";
}

TEST(Roofline, WeightTypeComesFromTheModelDescription) {
    EXPECT_EQ(weight_type_of("llama 100M Q4_0"), "q4_0");
    EXPECT_EQ(weight_type_of("llama 8B Q4_K - Medium"), "q4_K");
    EXPECT_EQ(weight_type_of("qwen2 0.5B BF16"), "bf16") << "not f16";
    EXPECT_EQ(weight_type_of("llama 7B F16"), "f16");
    EXPECT_EQ(weight_type_of("llama 7B IQ4_XS - 4.25 bpw"), "iq4_xs");
    EXPECT_EQ(weight_type_of("llama 7B all F32"), "f32");
    EXPECT_EQ(weight_type_of("llama ?B"), "");
}

TEST(Roofline, ExcludedDevicesAreNotMeasured) {
    const Roofline r = measure_roofline(detect({.allow_list = "cuda0"}), tiny());
    EXPECT_TRUE(r.matmul.empty());
    EXPECT_FALSE(r.bandwidth.empty()) << "host memory bandwidth does not depend on the device list";
}

TEST(Roofline, CacheRoundTripAndRejection) {
    accel::test::TempDir dir;
    Roofline r;
    r.fingerprint = "0123456789abcdef";
    r.measured_at = "2026-01-02T03:04:05Z";
    r.accel_version = "0.1.0";
    r.duration_s = 1.5;
    r.bandwidth.push_back({.kernel = "read", .threads = 2, .array_bytes = 64 * mib,
                           .gb_per_s = {.median = 19.5, .min = 18, .max = 20, .n = 5}});
    r.bandwidth.push_back({.device = "cuda0", .kernel = "copy", .threads = 0, .array_bytes = 1024 * mib,
                           .gb_per_s = {.median = 3900, .min = 3800, .max = 4000, .n = 5}});
    r.matmul.push_back({.device = "cpu", .type = "q4_0", .m = 2048, .n = 256, .k = 2048, .layout = "CPU_REPACK",
                        .threads = 2, .gflops = {.median = 48.5, .min = 44, .max = 67, .n = 5},
                        .trials = {{.shape = {2048, 256, 2048}, .layout = "plain", .gflops = {.median = 20},
                                    .check_nmse = 2e-5},
                                   {.shape = {2048, 256, 2048}, .layout = "CPU_REPACK", .gflops = {.median = 48.5},
                                    .check_nmse = 3e-5}}});
    r.unavailable.push_back({"matmul cpu bf16", "why"});
    const fs::path path = dir / "measure" / "0123456789abcdef.json";
    save_roofline(r, path);
    const auto back = load_roofline(path, "0123456789abcdef");
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(back->from_cache);
    EXPECT_EQ(back->measured_at, r.measured_at);
    ASSERT_EQ(back->bandwidth.size(), 2U);
    EXPECT_EQ(back->bandwidth[0].gb_per_s.median, 19.5);
    EXPECT_EQ(back->bandwidth[1].device, "cuda0");
    EXPECT_EQ(back->bandwidth[1].array_bytes, 1024 * mib);
    ASSERT_EQ(back->matmul.size(), 1U);
    EXPECT_EQ(back->matmul[0].gflops.max, 67);
    EXPECT_EQ(back->matmul[0].layout, "CPU_REPACK");
    ASSERT_EQ(back->matmul[0].trials.size(), 2U);
    EXPECT_EQ(back->matmul[0].trials[1].shape.k, 2048);
    EXPECT_EQ(back->matmul[0].trials[1].check_nmse, 3e-5);
    EXPECT_EQ(back->unavailable.size(), 1U);
    EXPECT_FALSE(load_roofline(path, "ffffffffffffffff").has_value()) << "another machine's figures";
    EXPECT_FALSE(load_roofline(dir / "absent.json", "0123456789abcdef").has_value());
    accel::test::write_file(path, "{\"schema_version\": 1, \"fingerprint\": ");
    EXPECT_FALSE(load_roofline(path, "0123456789abcdef").has_value());
    accel::test::write_file(path, "{\"schema_version\": 999}");
    EXPECT_FALSE(load_roofline(path, "0123456789abcdef").has_value());
    // An older accel's cache (one shape per type, no check, no roofline_version): measured again, not trusted.
    save_roofline(r, path);
    auto old = nlohmann::json::parse(accel::test::read_file(path));
    old.erase("roofline_version");
    accel::test::write_file(path, old.dump());
    EXPECT_FALSE(load_roofline(path, "0123456789abcdef").has_value());
}

// The machine's identity: two fixture inventories that differ only in their GPU.
Inventory with_gpu(const std::string& model, const std::string& driver) {
    Inventory inv = detect({.root = fixtures / "avx512-server", .devices = false, .allow_list = ""});
    inv.devices.push_back({.id = "cpu", .name = "CPU", .description = inv.cpu.model, .type = DeviceType::cpu,
                           .backend = "CPU", .memory_total_bytes = 64 * gib, .memory_free_bytes = 60 * gib});
    Device gpu{.id = "cuda0", .name = "CUDA0", .description = model, .type = DeviceType::gpu, .backend = "CUDA",
               .memory_total_bytes = 140 * gib, .memory_free_bytes = 139 * gib, .pci_bus_id = "0000:c1:00.0"};
    gpu.vendor = VendorDetails{.probe = "nvml", .driver_version = driver, .runtime_version = "12.4",
                               .compute_capability = "9.0", .memory_total_bytes = 141 * gib};
    inv.devices.push_back(gpu);
    inv.devices.push_back({.id = "blas", .name = "BLAS", .description = "OpenBLAS", .type = DeviceType::accel,
                           .backend = "BLAS"});
    return inv;
}

TEST(Fingerprint, GpuModelChangesTheIdDriverDoesNot) {
    const Inventory h100 = with_gpu("NVIDIA H100 80GB HBM3", "550.54.15");
    const Inventory h200 = with_gpu("NVIDIA H200", "550.54.15");
    const std::string id = accel::fingerprint_id(machine_fingerprint(h200));
    EXPECT_NE(accel::fingerprint_id(machine_fingerprint(h100)), id);
    EXPECT_EQ(accel::fingerprint_id(machine_fingerprint(with_gpu("NVIDIA H200", "560.35.03"))), id)
        << "a driver update keeps the machine's id";
    Inventory free_changed = h200;
    free_changed.devices[1].memory_free_bytes = 1 * gib;
    free_changed.memory.available_bytes /= 2;
    EXPECT_EQ(accel::fingerprint_id(machine_fingerprint(free_changed)), id) << "free memory is not identity";
    const accel::MachineFingerprint fp = machine_fingerprint(h200);
    ASSERT_EQ(fp.accelerators.size(), 1U) << "neither the CPU nor ggml's BLAS device is an accelerator";
    EXPECT_EQ(fp.accelerators[0].model, "NVIDIA H200");
    EXPECT_EQ(fp.accelerators[0].memory_total_mib, 141 * 1024U) << "the vendor's total, when it reports one";
    EXPECT_EQ(fp.accelerators[0].compute_capability, "9.0");
    Inventory other_cc = h200;
    other_cc.devices[1].vendor->compute_capability = "8.9";
    EXPECT_NE(accel::fingerprint_id(machine_fingerprint(other_cc)), id);
    Inventory two = h200;
    two.devices.push_back(two.devices[1]);
    two.devices.back().id = "cuda1";
    two.devices.back().pci_bus_id = "0000:c2:00.0";
    EXPECT_NE(accel::fingerprint_id(machine_fingerprint(two)), id) << "a second GPU is another machine";
}

// A CPU-only build sees the GPU through NVML only ("nvml:0", no backend); a CUDA and a Vulkan build of the same
// machine list it twice under one PCI bus id: all three are the same machine.
TEST(Fingerprint, SameGpuWhicheverBackendsWereBuilt) {
    const Inventory cuda = with_gpu("NVIDIA H200", "550.54.15");
    Inventory cpu_only = cuda;
    cpu_only.devices.erase(cpu_only.devices.begin() + 1);
    Device probed{.id = "nvml:0", .name = "NVIDIA H200", .description = "NVIDIA H200 (NVML, driver 550.54.15)",
                  .type = DeviceType::gpu, .memory_total_bytes = 141 * gib, .pci_bus_id = "0000:c1:00.0"};
    probed.vendor = cuda.devices[1].vendor;
    cpu_only.devices.push_back(probed);
    Inventory both = cuda;
    both.devices.push_back({.id = "vulkan0", .name = "Vulkan0", .description = "NVIDIA H200", .type = DeviceType::gpu,
                            .backend = "Vulkan", .memory_total_bytes = 139 * gib, .pci_bus_id = "0000:c1:00.0"});
    const std::string id = accel::fingerprint_id(machine_fingerprint(cuda));
    EXPECT_EQ(accel::fingerprint_id(machine_fingerprint(cpu_only)), id);
    EXPECT_EQ(accel::fingerprint_id(machine_fingerprint(both)), id);
}

// The warehouse recomputes ids from stored inventories (migration, merge): it must agree with hw.
TEST(Fingerprint, StoredInventoryGivesTheSameId) {
    for (const auto& inv : {with_gpu("NVIDIA H200", "550.54.15"), with_gpu("NVIDIA H100 80GB HBM3", "1"),
                            detect({.root = fixtures / "arm-board", .devices = false, .allow_list = ""})}) {
        const auto fp = accel::fingerprint_from_inventory_json(inventory_json(inv));
        ASSERT_TRUE(fp.has_value());
        EXPECT_EQ(accel::fingerprint_id(*fp), accel::fingerprint_id(machine_fingerprint(inv)));
        EXPECT_EQ(accel::fingerprint_id_v1(*fp), accel::fingerprint_id_v1(machine_fingerprint(inv)));
    }
    EXPECT_FALSE(accel::fingerprint_from_inventory_json("{}").has_value());
    EXPECT_FALSE(accel::fingerprint_from_inventory_json("not json").has_value());
}

// A roofline cached by an older accel (under the v1 id) moves to the new id instead of being measured again.
TEST(Roofline, LegacyCacheMovesToTheNewId) {
    accel::test::TempDir dir;
    const char* saved = std::getenv("ACCEL_CACHE_DIR");
    const std::string saved_value = saved != nullptr ? saved : "";
    setenv("ACCEL_CACHE_DIR", dir.path().c_str(), 1);
    const Inventory inv = with_gpu("NVIDIA H200", "550.54.15");
    const accel::MachineFingerprint fp = machine_fingerprint(inv);
    Roofline r{.fingerprint = accel::fingerprint_id_v1(fp), .measured_at = "2026-01-02T03:04:05Z",
               .accel_version = "0.1.0"};
    r.matmul.push_back({.device = "cuda0", .type = "f16", .m = 8, .n = 8, .k = 8, .gflops = {.median = 7, .n = 1}});
    save_roofline(r, roofline_cache_path(r.fingerprint));
    const fs::path path = roofline_cache_path(inv);
    EXPECT_EQ(path, roofline_cache_path(accel::fingerprint_id(fp)));
    const auto moved = load_roofline(path, accel::fingerprint_id(fp));
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->matmul.at(0).gflops.median, 7);
    EXPECT_FALSE(fs::exists(roofline_cache_path(r.fingerprint)));
    if (saved != nullptr) {
        setenv("ACCEL_CACHE_DIR", saved_value.c_str(), 1);
    } else {
        unsetenv("ACCEL_CACHE_DIR");
    }
}

// Without NVML (this CI machine) or a bus id, the counter says why, and reads nothing.
TEST(GpuEnergy, UnavailableSaysWhy) {
    const GpuEnergyCounter no_bus("");
    EXPECT_FALSE(no_bus.available());
    EXPECT_EQ(no_bus.reason(), "the device has no PCI bus id to find it in NVML");
    EXPECT_FALSE(no_bus.read_mj().has_value());
    if (std::filesystem::exists("/dev/nvidiactl")) GTEST_SKIP() << "an NVIDIA driver is present";
    const GpuEnergyCounter none("0000:01:00.0");
    EXPECT_FALSE(none.available());
    EXPECT_FALSE(none.reason().empty());
    EXPECT_FALSE(none.read_mj().has_value());
}

}  // namespace
