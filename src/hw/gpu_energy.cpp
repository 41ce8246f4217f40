// NVML is declared by hand with only the entry points read here (see vendor_probe.cpp), so the build needs no
// NVIDIA header and the binary no NVIDIA library.
#include "accel/hw/gpu_energy.h"

#include <dlfcn.h>

#include <fmt/core.h>

namespace accel::hw {

struct GpuEnergyCounter::Nvml {
    void* lib = nullptr;
    void* device = nullptr;
    int (*shutdown)() = nullptr;
    int (*energy)(void*, unsigned long long*) = nullptr;
    bool initialized = false;
    ~Nvml() {
        if (initialized && shutdown != nullptr) shutdown();
        if (lib != nullptr) dlclose(lib);
    }
};

GpuEnergyCounter::GpuEnergyCounter(const std::string& pci_bus_id) : nvml_(std::make_unique<Nvml>()) {
    if (pci_bus_id.empty()) {
        reason_ = "the device has no PCI bus id to find it in NVML";
        return;
    }
    nvml_->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (nvml_->lib == nullptr) {
        reason_ = "NVML (libnvidia-ml.so.1) not found";
        return;
    }
    auto sym = [&](const char* name) { return dlsym(nvml_->lib, name); };
    auto init = reinterpret_cast<int (*)()>(sym("nvmlInit_v2"));
    auto by_bus = reinterpret_cast<int (*)(const char*, void**)>(sym("nvmlDeviceGetHandleByPciBusId_v2"));
    nvml_->shutdown = reinterpret_cast<int (*)()>(sym("nvmlShutdown"));
    nvml_->energy = reinterpret_cast<int (*)(void*, unsigned long long*)>(sym("nvmlDeviceGetTotalEnergyConsumption"));
    if (init == nullptr || by_bus == nullptr || nvml_->energy == nullptr) {
        reason_ = "this NVML has no energy counter (nvmlDeviceGetTotalEnergyConsumption)";
        return;
    }
    if (const int rc = init(); rc != 0) {
        reason_ = fmt::format("nvmlInit_v2 failed (NVML error {})", rc);
        return;
    }
    nvml_->initialized = true;
    if (const int rc = by_bus(pci_bus_id.c_str(), &nvml_->device); rc != 0) {
        reason_ = fmt::format("NVML does not know the GPU at {} (NVML error {})", pci_bus_id, rc);
        return;
    }
    unsigned long long mj = 0;
    if (const int rc = nvml_->energy(nvml_->device, &mj); rc != 0) {
        // 3 is NVML_ERROR_NOT_SUPPORTED: GPUs before Volta, and some virtual GPUs.
        reason_ = rc == 3 ? "the GPU has no energy counter (NVML: not supported)"
                          : fmt::format("reading the GPU energy counter failed (NVML error {})", rc);
    }
}

GpuEnergyCounter::~GpuEnergyCounter() = default;

std::optional<uint64_t> GpuEnergyCounter::read_mj() const {
    if (!available()) return std::nullopt;
    unsigned long long mj = 0;
    if (nvml_->energy(nvml_->device, &mj) != 0) return std::nullopt;
    return static_cast<uint64_t>(mj);
}

}  // namespace accel::hw
