#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace accel::hw {

// The energy counter of one NVIDIA GPU: NVML's nvmlDeviceGetTotalEnergyConsumption, millijoules since the driver
// loaded (Volta and newer). NVML is opened with dlopen, as the probes do; accel never links it.
class GpuEnergyCounter {
public:
    // For the GPU with this PCI bus id (a hw::Device's pci_bus_id, "0000:c1:00.0"). Never throws: when NVML, the
    // device or the counter is missing, available() is false and reason() says which.
    explicit GpuEnergyCounter(const std::string& pci_bus_id);
    ~GpuEnergyCounter();
    GpuEnergyCounter(const GpuEnergyCounter&) = delete;
    GpuEnergyCounter& operator=(const GpuEnergyCounter&) = delete;

    bool available() const { return reason_.empty(); }
    const std::string& reason() const { return reason_; }
    std::optional<uint64_t> read_mj() const;  // nullopt when unavailable or when this read failed

private:
    struct Nvml;
    std::unique_ptr<Nvml> nvml_;
    std::string reason_;
};

}  // namespace accel::hw
