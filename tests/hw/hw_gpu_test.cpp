// On an NVIDIA machine: the GPU accel reports has the memory nvidia-smi reports (label gpu; `make test-gpu`).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "accel/hw/gpu_energy.h"
#include "accel/hw/inventory.h"
#include "test_support.h"

namespace {

using namespace accel::hw;

// run_process does not search PATH.
std::string find_on_path(const std::string& exe) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const std::filesystem::path p = std::filesystem::path(dir) / exe;
        if (!dir.empty() && std::filesystem::exists(p)) return p.string();
    }
    return {};
}

TEST(Gpu, NvidiaDeviceMatchesNvidiaSmi) {
    const std::string nvidia_smi = find_on_path("nvidia-smi");
    if (nvidia_smi.empty()) GTEST_SKIP() << "nvidia-smi is not on PATH";
    const auto smi = accel::test::run_process(
        {nvidia_smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"}, {}, 60);
    if (smi.exit_code != 0) GTEST_SKIP() << "nvidia-smi is not available: " << smi.err;
    std::vector<std::pair<std::string, uint64_t>> expected;  // name, MiB
    std::istringstream in(smi.out);
    for (std::string line; std::getline(in, line);) {
        const size_t comma = line.rfind(',');
        ASSERT_NE(comma, std::string::npos) << line;
        expected.emplace_back(line.substr(0, comma), std::stoull(line.substr(comma + 1)));
    }
    ASSERT_FALSE(expected.empty());
    const Inventory inv = detect({.allow_list = ""});
    std::vector<const Device*> gpus;
    for (const auto& d : inv.devices) {
        if (d.type == DeviceType::gpu && d.vendor && d.vendor->probe == "nvml") gpus.push_back(&d);
    }
    ASSERT_EQ(gpus.size(), expected.size()) << "every GPU nvidia-smi lists carries NVML details";
    const bool has_cuda = std::find(inv.compiled_backends.begin(), inv.compiled_backends.end(), "CUDA") !=
                          inv.compiled_backends.end();
    for (size_t i = 0; i < gpus.size(); ++i) {
        const Device& d = *gpus[i];
        if (has_cuda) {
            // A usable device reports what CUDA can allocate (cudaMemGetInfo), which leaves out what the driver
            // reserves: on an H200, 143155 MiB against nvidia-smi's 143771 MiB (0.4% less).
            EXPECT_LE(d.memory_total_bytes / (1024 * 1024), expected[i].second) << d.id;
            EXPECT_GE(d.memory_total_bytes / (1024 * 1024), expected[i].second * 98 / 100) << d.id;
        } else {
            EXPECT_EQ(d.memory_total_bytes / (1024 * 1024), expected[i].second) << d.id;
        }
        EXPECT_FALSE(d.vendor->driver_version.empty());
        EXPECT_FALSE(d.vendor->compute_capability.empty());
        if (has_cuda) {
            EXPECT_TRUE(d.usable) << d.reason;
            EXPECT_EQ(d.id.rfind("cuda", 0), 0U) << d.id;
        } else {
            EXPECT_FALSE(d.usable);
            EXPECT_EQ(d.name, expected[i].first);
            EXPECT_EQ(d.reason, d.name + " found by NVML; this build has no CUDA backend");
        }
    }
}

// Volta and newer GPUs count energy; the counter only ever grows.
TEST(Gpu, NvidiaEnergyCounterReads) {
    const Inventory inv = detect({.allow_list = ""});
    const Device* gpu = nullptr;
    for (const auto& d : inv.devices) {
        if (d.type == DeviceType::gpu && d.vendor && d.vendor->probe == "nvml") gpu = &d;
    }
    if (gpu == nullptr) GTEST_SKIP() << "no GPU found through NVML";
    const GpuEnergyCounter counter(gpu->pci_bus_id);
    ASSERT_TRUE(counter.available()) << counter.reason();
    const auto a = counter.read_mj();
    const auto b = counter.read_mj();
    ASSERT_TRUE(a && b);
    EXPECT_GT(*a, 0u);
    EXPECT_GE(*b, *a);
}

}  // namespace
