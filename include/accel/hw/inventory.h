#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel/core/fingerprint.h"
#include "accel/hw/browser.h"
#include "accel/hw/cpu_info.h"
#include "accel/hw/device.h"
#include "accel/hw/memory_info.h"
#include "accel/hw/os_info.h"
#include "accel/hw/vendor_probe.h"

namespace accel::hw {

struct DetectOptions {
    std::filesystem::path root = "/";  // where /proc, /sys and /etc are read from (tests pass fixtures)
    bool devices = true;               // enumerate ggml devices and run the vendor probes
    bool browsers = false;             // look for browsers and run each with --version (about 0.4 s each)
    std::chrono::milliseconds browser_timeout{5000};
    std::optional<std::string> allow_list;  // ACCEL_DEVICES; nullopt: read the environment variable
};

// The ggml CPU backend as this build loaded it.
struct GgmlCpuBackend {
    std::string library;                // e.g. "libggml-cpu.so.0"; a GGML_BACKEND_DL build names its variant here
    std::vector<std::string> features;  // "AVX2=1", ... from ggml_backend_get_features
};

struct Inventory {
    CpuInfo cpu;
    MemoryInfo memory;
    OsInfo os;
    GgmlCpuBackend ggml_cpu;
    std::vector<std::string> compiled_backends;
    std::vector<Device> devices;       // ggml's devices first, then devices only a vendor probe sees
    std::vector<ProbeReport> probes;   // one entry per vendor probe, devices moved into `devices`
    std::string allow_list;            // ACCEL_DEVICES as applied, "" when unset
    std::vector<std::string> unknown_allowed;  // ids in ACCEL_DEVICES that match no device
    std::optional<std::vector<Browser>> browsers;  // nullopt unless DetectOptions::browsers
};

// Builds the inventory. The CPU device's memory is clamped to the cgroup limit, which is what counts inside a
// container. Throws Error{io} when /proc/cpuinfo or /proc/meminfo cannot be read. Call from one thread.
Inventory detect(const DetectOptions& options = {});

// Fills core's fingerprint: CPU model, logical cores, total memory and each accelerator's model, total memory and
// compute capability (core's accelerators_of() over every device found; ACCEL_DEVICES does not change it:
// excluded devices stay in the inventory, marked unusable). Driver and runtime versions are not part of it.
MachineFingerprint machine_fingerprint(const Inventory& inventory);

// The documented `accel detect --json` document (docs/hw.md), without "measurements", as JSON text.
std::string inventory_json(const Inventory& inventory);

}  // namespace accel::hw
