// Vendor libraries are declared here by hand, with only the entry points and struct prefixes accel reads,
// so that the build needs none of their headers and the binary none of their libraries.
#include "accel/hw/vendor_probe.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "accel/core/text.h"

namespace accel::hw {
namespace {

struct DlClose {
    void operator()(void* h) const { dlclose(h); }
};
using Library = std::unique_ptr<void, DlClose>;

Library open_library(const char* name) { return Library(dlopen(name, RTLD_NOW | RTLD_LOCAL)); }

template <typename Fn>
Fn symbol(const Library& lib, const char* name) {
    return reinterpret_cast<Fn>(dlsym(lib.get(), name));
}

// NVML writes "00000000:C1:00.0"; ggml writes "0000:c1:00.0".
std::string normalize_bus_id(std::string id) {
    id = lower(id);
    const size_t colon = id.find(':');
    if (colon != std::string::npos && colon > 4) id = id.substr(colon - 4);
    return id;
}

// ---- NVIDIA NVML (libnvidia-ml.so.1) ----
using nvml_device = void*;
struct NvmlMemory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};
struct NvmlPciInfo {
    char bus_id_legacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pci_device_id;
    unsigned int pci_subsystem_id;
    char bus_id[32];
};

ProbeReport probe_nvml() {
    ProbeReport r;
    r.probe = "nvml";
    r.library = "libnvidia-ml.so.1";
    Library lib = open_library(r.library.c_str());
    if (!lib) {
        r.note = "libnvidia-ml.so.1 not found";
        return r;
    }
    auto init = symbol<int (*)()>(lib, "nvmlInit_v2");
    auto shutdown = symbol<int (*)()>(lib, "nvmlShutdown");
    auto count = symbol<int (*)(unsigned*)>(lib, "nvmlDeviceGetCount_v2");
    auto handle = symbol<int (*)(unsigned, nvml_device*)>(lib, "nvmlDeviceGetHandleByIndex_v2");
    auto name = symbol<int (*)(nvml_device, char*, unsigned)>(lib, "nvmlDeviceGetName");
    auto memory = symbol<int (*)(nvml_device, NvmlMemory*)>(lib, "nvmlDeviceGetMemoryInfo");
    if (init == nullptr || shutdown == nullptr || count == nullptr || handle == nullptr || name == nullptr ||
        memory == nullptr) {
        r.note = "libnvidia-ml.so.1 lacks the NVML entry points accel needs";
        return r;
    }
    auto driver = symbol<int (*)(char*, unsigned)>(lib, "nvmlSystemGetDriverVersion");
    auto cuda = symbol<int (*)(int*)>(lib, "nvmlSystemGetCudaDriverVersion");
    auto cc = symbol<int (*)(nvml_device, int*, int*)>(lib, "nvmlDeviceGetCudaComputeCapability");
    auto power = symbol<int (*)(nvml_device, unsigned*)>(lib, "nvmlDeviceGetPowerManagementLimit");
    auto gen = symbol<int (*)(nvml_device, unsigned*)>(lib, "nvmlDeviceGetCurrPcieLinkGeneration");
    auto width = symbol<int (*)(nvml_device, unsigned*)>(lib, "nvmlDeviceGetCurrPcieLinkWidth");
    auto pci = symbol<int (*)(nvml_device, NvmlPciInfo*)>(lib, "nvmlDeviceGetPciInfo_v3");
    if (const int rc = init(); rc != 0) {
        r.note = fmt::format("nvmlInit_v2 failed (NVML error {})", rc);
        return r;
    }
    r.loaded = true;
    VendorDetails common;
    common.probe = "nvml";
    std::array<char, 96> buf{};
    if (driver != nullptr && driver(buf.data(), buf.size()) == 0) common.driver_version = buf.data();
    int cuda_version = 0;
    if (cuda != nullptr && cuda(&cuda_version) == 0) {
        common.runtime_version = fmt::format("{}.{}", cuda_version / 1000, (cuda_version % 1000) / 10);
    }
    unsigned n = 0;
    if (count(&n) != 0) n = 0;
    for (unsigned i = 0; i < n; ++i) {
        nvml_device dev = nullptr;
        if (handle(i, &dev) != 0) continue;
        Device d;
        d.id = fmt::format("nvml:{}", i);
        d.type = DeviceType::gpu;
        buf.fill('\0');
        d.name = name(dev, buf.data(), buf.size()) == 0 ? buf.data() : "NVIDIA GPU";
        NvmlMemory mem{};
        if (memory(dev, &mem) == 0) {
            d.memory_total_bytes = mem.total;
            d.memory_free_bytes = mem.free;
        }
        VendorDetails v = common;
        if (d.memory_total_bytes > 0) v.memory_total_bytes = d.memory_total_bytes;
        int major = 0;
        int minor = 0;
        if (cc != nullptr && cc(dev, &major, &minor) == 0) v.compute_capability = fmt::format("{}.{}", major, minor);
        unsigned value = 0;
        if (power != nullptr && power(dev, &value) == 0) v.power_limit_w = value / 1000.0;
        if (gen != nullptr && gen(dev, &value) == 0) v.pcie_gen = static_cast<int32_t>(value);
        if (width != nullptr && width(dev, &value) == 0) v.pcie_width = static_cast<int32_t>(value);
        NvmlPciInfo info{};
        if (pci != nullptr && pci(dev, &info) == 0) {
            info.bus_id[sizeof(info.bus_id) - 1] = '\0';
            d.pci_bus_id = normalize_bus_id(info.bus_id);
        }
        d.description = fmt::format("{} (NVML, driver {})", d.name, v.driver_version.empty() ? "?" : v.driver_version);
        d.vendor = v;
        r.devices.push_back(std::move(d));
    }
    shutdown();
    r.note = fmt::format("driver {}, CUDA {}, {} device(s)", common.driver_version.empty() ? "?" : common.driver_version,
                         common.runtime_version.empty() ? "?" : common.runtime_version, n);
    return r;
}

// ---- AMD ROCm SMI (librocm_smi64.so) ----
ProbeReport probe_rocm_smi() {
    ProbeReport r;
    r.probe = "rocm-smi";
    r.library = "librocm_smi64.so";
    Library lib = open_library(r.library.c_str());
    if (!lib) lib = open_library("librocm_smi64.so.7");
    if (!lib) lib = open_library("librocm_smi64.so.6");
    if (!lib) lib = open_library("librocm_smi64.so.5");
    if (!lib) {
        r.note = "librocm_smi64.so not found";
        return r;
    }
    // ROCm SMI finds GPUs through /sys/class/drm; without it rsmi_init writes its own errors to stderr (seen with
    // Debian's librocm-smi64 5.2, which slurm-wlm pulls in), and there is no device it could report anyway.
    if (std::error_code ec; !std::filesystem::is_directory("/sys/class/drm", ec)) {
        r.note = "no /sys/class/drm: no GPU for ROCm SMI to see";
        return r;
    }
    auto init = symbol<int (*)(uint64_t)>(lib, "rsmi_init");
    auto shutdown = symbol<int (*)()>(lib, "rsmi_shut_down");
    auto count = symbol<int (*)(uint32_t*)>(lib, "rsmi_num_monitor_devices");
    auto name = symbol<int (*)(uint32_t, char*, size_t)>(lib, "rsmi_dev_name_get");
    auto total = symbol<int (*)(uint32_t, int, uint64_t*)>(lib, "rsmi_dev_memory_total_get");
    auto usage = symbol<int (*)(uint32_t, int, uint64_t*)>(lib, "rsmi_dev_memory_usage_get");
    auto pci = symbol<int (*)(uint32_t, uint64_t*)>(lib, "rsmi_dev_pci_id_get");
    if (init == nullptr || shutdown == nullptr || count == nullptr || name == nullptr) {
        r.note = "librocm_smi64.so lacks the ROCm SMI entry points accel needs";
        return r;
    }
    if (const int rc = init(0); rc != 0) {
        r.note = fmt::format("rsmi_init failed (status {})", rc);
        return r;
    }
    r.loaded = true;
    uint32_t n = 0;
    if (count(&n) != 0) n = 0;
    constexpr int vram = 0;  // RSMI_MEM_TYPE_VRAM
    for (uint32_t i = 0; i < n; ++i) {
        Device d;
        d.id = fmt::format("rocm-smi:{}", i);
        d.type = DeviceType::gpu;
        std::array<char, 128> buf{};
        d.name = name(i, buf.data(), buf.size()) == 0 ? buf.data() : "AMD GPU";
        uint64_t t = 0;
        uint64_t u = 0;
        if (total != nullptr && total(i, vram, &t) == 0) {
            d.memory_total_bytes = t;
            if (usage != nullptr && usage(i, vram, &u) == 0 && u <= t) d.memory_free_bytes = t - u;
        }
        uint64_t bdf = 0;
        if (pci != nullptr && pci(i, &bdf) == 0) {
            d.pci_bus_id = fmt::format("{:04x}:{:02x}:{:02x}.{:x}", bdf >> 32, (bdf >> 8) & 0xff, (bdf >> 3) & 0x1f, bdf & 0x7);
        }
        d.description = fmt::format("{} (ROCm SMI)", d.name);
        d.vendor = VendorDetails{};
        d.vendor->probe = "rocm-smi";
        if (d.memory_total_bytes > 0) d.vendor->memory_total_bytes = d.memory_total_bytes;
        r.devices.push_back(std::move(d));
    }
    shutdown();
    r.note = fmt::format("{} device(s)", n);
    return r;
}

// ---- Intel Level Zero (libze_loader.so.1) ----
// accel reads only the number of devices: their property struct is not declared here.
ProbeReport probe_level_zero() {
    ProbeReport r;
    r.probe = "level-zero";
    r.library = "libze_loader.so.1";
    Library lib = open_library(r.library.c_str());
    if (!lib) {
        r.note = "libze_loader.so.1 not found";
        return r;
    }
    auto init = symbol<int (*)(int)>(lib, "zeInit");
    auto drivers = symbol<int (*)(uint32_t*, void**)>(lib, "zeDriverGet");
    auto devices = symbol<int (*)(void*, uint32_t*, void**)>(lib, "zeDeviceGet");
    if (init == nullptr || drivers == nullptr || devices == nullptr) {
        r.note = "libze_loader.so.1 lacks zeInit/zeDriverGet/zeDeviceGet";
        return r;
    }
    if (const int rc = init(0); rc != 0) {
        r.note = fmt::format("zeInit failed (0x{:x}): no Level Zero driver", static_cast<unsigned>(rc));
        return r;
    }
    r.loaded = true;
    uint32_t n_drivers = 0;
    if (drivers(&n_drivers, nullptr) != 0) n_drivers = 0;
    std::vector<void*> hs(n_drivers);
    if (n_drivers > 0 && drivers(&n_drivers, hs.data()) != 0) n_drivers = 0;
    uint32_t total = 0;
    for (uint32_t i = 0; i < n_drivers; ++i) {
        uint32_t n = 0;
        if (devices(hs[i], &n, nullptr) != 0) continue;
        for (uint32_t k = 0; k < n; ++k) {
            Device d;
            d.id = fmt::format("level-zero:{}", total++);
            d.name = "Level Zero device";
            d.description = "found by Level Zero (accel reads only the device count)";
            d.vendor = VendorDetails{};
        d.vendor->probe = "level-zero";
            r.devices.push_back(std::move(d));
        }
    }
    r.note = fmt::format("{} driver(s), {} device(s)", n_drivers, total);
    return r;
}

// ---- OpenVINO runtime: presence only ----
ProbeReport probe_openvino() {
    ProbeReport r;
    r.probe = "openvino";
    r.library = "libopenvino.so";
    Library lib = open_library(r.library.c_str());
    r.loaded = static_cast<bool>(lib);
    r.note = r.loaded ? "OpenVINO runtime present (no ggml backend in this build uses it)" : "libopenvino.so not found";
    return r;
}

// ---- Vulkan loader (libvulkan.so.1) ----
struct VkInstanceCreateInfo {
    uint32_t s_type;
    const void* p_next;
    uint32_t flags;
    const void* app_info;
    uint32_t n_layers;
    const char* const* layers;
    uint32_t n_extensions;
    const char* const* extensions;
};
struct VkPropertiesPrefix {  // the start of VkPhysicalDeviceProperties
    uint32_t api_version;
    uint32_t driver_version;
    uint32_t vendor_id;
    uint32_t device_id;
    uint32_t device_type;
    char device_name[256];
};
struct VkMemoryHeap {
    uint64_t size;
    uint32_t flags;
};
struct VkMemoryProperties {
    uint32_t n_types;
    uint32_t types[32][2];
    uint32_t n_heaps;
    VkMemoryHeap heaps[16];
};

DeviceType from_vk(uint32_t t) {
    switch (t) {
        case 1: return DeviceType::igpu;
        case 2: return DeviceType::gpu;
        case 4: return DeviceType::cpu;
        default: return DeviceType::other;
    }
}

ProbeReport probe_vulkan() {
    ProbeReport r;
    r.probe = "vulkan";
    r.library = "libvulkan.so.1";
    Library lib = open_library(r.library.c_str());
    if (!lib) {
        r.note = "libvulkan.so.1 not found";
        return r;
    }
    auto create = symbol<int (*)(const VkInstanceCreateInfo*, const void*, void**)>(lib, "vkCreateInstance");
    auto destroy = symbol<void (*)(void*, const void*)>(lib, "vkDestroyInstance");
    auto enumerate = symbol<int (*)(void*, uint32_t*, void**)>(lib, "vkEnumeratePhysicalDevices");
    auto props = symbol<void (*)(void*, void*)>(lib, "vkGetPhysicalDeviceProperties");
    auto mem_props = symbol<void (*)(void*, VkMemoryProperties*)>(lib, "vkGetPhysicalDeviceMemoryProperties");
    if (create == nullptr || destroy == nullptr || enumerate == nullptr || props == nullptr || mem_props == nullptr) {
        r.note = "libvulkan.so.1 lacks the Vulkan 1.0 entry points accel needs";
        return r;
    }
    VkInstanceCreateInfo info{};
    info.s_type = 1;  // VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
    void* instance = nullptr;
    if (const int rc = create(&info, nullptr, &instance); rc != 0) {
        r.note = fmt::format("vkCreateInstance failed ({}): no Vulkan driver", rc);
        return r;
    }
    r.loaded = true;
    uint32_t n = 0;
    if (enumerate(instance, &n, nullptr) != 0) n = 0;
    std::vector<void*> physical(n);
    if (n > 0 && enumerate(instance, &n, physical.data()) < 0) n = 0;
    for (uint32_t i = 0; i < n; ++i) {
        // The full VkPhysicalDeviceProperties is 824 bytes on LP64; give the driver room to spare.
        alignas(16) std::array<unsigned char, 2048> raw{};
        props(physical[i], raw.data());
        VkPropertiesPrefix p{};
        std::memcpy(&p, raw.data(), sizeof(p));
        p.device_name[sizeof(p.device_name) - 1] = '\0';
        VkMemoryProperties m{};
        mem_props(physical[i], &m);
        Device d;
        d.id = fmt::format("vulkan:{}", i);
        d.name = p.device_name;
        d.type = from_vk(p.device_type);
        for (uint32_t h = 0; h < std::min<uint32_t>(m.n_heaps, 16); ++h) {
            if ((m.heaps[h].flags & 1U) != 0) d.memory_total_bytes += m.heaps[h].size;  // DEVICE_LOCAL
        }
        d.description = fmt::format("{} (Vulkan {}.{})", d.name, p.api_version >> 22, (p.api_version >> 12) & 0x3ff);
        d.vendor = VendorDetails{};
        d.vendor->probe = "vulkan";
        r.devices.push_back(std::move(d));
    }
    destroy(instance, nullptr);
    r.note = fmt::format("{} device(s)", n);
    return r;
}

// The ggml backend that would drive what each probe sees, and how to name the probe in a reason.
struct ProbeBackend {
    const char* probe;
    const char* backend;
    const char* label;
};
constexpr std::array<ProbeBackend, 4> probe_backends = {{{"nvml", "CUDA", "NVML"},
                                                         {"rocm-smi", "ROCm", "ROCm SMI"},
                                                         {"level-zero", "SYCL", "Level Zero"},
                                                         {"vulkan", "Vulkan", "the Vulkan loader"}}};

}  // namespace

std::vector<ProbeReport> run_vendor_probes() {
    std::vector<ProbeReport> reports;
    reports.push_back(probe_nvml());
    reports.push_back(probe_rocm_smi());
    reports.push_back(probe_level_zero());
    reports.push_back(probe_openvino());
    reports.push_back(probe_vulkan());
#if defined(__APPLE__)
    ProbeReport metal;
    metal.probe = "metal";
    metal.note = "Metal devices are listed by ggml's Metal backend when compiled in";
    reports.push_back(metal);
#endif
    return reports;
}

void merge_probed(std::vector<Device>& devices, const std::vector<ProbeReport>& reports,
                  const std::vector<std::string>& compiled) {
    for (const auto& report : reports) {
        const auto* pb = std::find_if(probe_backends.begin(), probe_backends.end(),
                                      [&](const ProbeBackend& b) { return report.probe == b.probe; });
        if (pb == probe_backends.end()) continue;
        const bool has_backend = std::find(compiled.begin(), compiled.end(), pb->backend) != compiled.end();
        for (const auto& probed : report.devices) {
            auto match = std::find_if(devices.begin(), devices.end(), [&](const Device& d) {
                if (!d.pci_bus_id.empty() && d.pci_bus_id == probed.pci_bus_id) return true;
                return d.backend == pb->backend && d.description == probed.name;
            });
            if (match != devices.end()) {
                if (!match->vendor) match->vendor = probed.vendor;
                continue;
            }
            // Another probe already listed it (Vulkan sees the GPUs that NVML sees): keep the first.
            const bool listed = std::any_of(devices.begin(), devices.end(), [&](const Device& d) {
                return d.backend.empty() && d.name == probed.name && d.type == probed.type;
            });
            if (listed) continue;
            Device d = probed;
            d.usable = false;
            d.reason = has_backend ? fmt::format("{} found by {}; the {} backend does not list it", d.name, pb->label, pb->backend)
                                   : fmt::format("{} found by {}; this build has no {} backend", d.name, pb->label, pb->backend);
            devices.push_back(std::move(d));
        }
    }
}

}  // namespace accel::hw
