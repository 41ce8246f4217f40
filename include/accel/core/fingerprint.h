#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accel {

// One accelerator as part of a machine's identity: what is fixed about the part, never its driver or runtime
// version (those go into each run's provenance, so a driver update does not split a machine's history).
struct AcceleratorIdentity {
    std::string model;               // "NVIDIA H200": ggml's device description, else the vendor probe's name
    uint64_t memory_total_mib = 0;   // total device memory in MiB (the vendor probe's figure when it has one)
    std::string compute_capability;  // "9.0" (NVML); "" when no probe reports one
    friend bool operator==(const AcceleratorIdentity&, const AcceleratorIdentity&) = default;
};

// What an inventory says about one device: the input of accelerators_of(). hw/ fills it from its Device, and
// fingerprint_from_inventory_json() from the stored inventory, so both apply the same rule.
struct DeviceFacts {
    std::string type;     // hw's DeviceType as text: "cpu", "gpu", "igpu", "accel", "meta", "other"
    std::string backend;  // the ggml backend that drives it; "" for a device only a vendor probe sees
    std::string name;
    std::string description;
    std::string pci_bus_id;
    uint64_t memory_total_bytes = 0;
    std::optional<uint64_t> vendor_memory_total_bytes{};
    std::string compute_capability;
};

// The machine's accelerators: GPUs and integrated GPUs that ggml drives, and every non-CPU device a vendor probe
// found that no backend drives. Left out: the CPU (its model is already part of the identity) and ggml's
// software "accel"/"meta" devices (BLAS, ...), whose presence depends on the build. One entry per physical device
// (devices with the same PCI bus id count once, so a CUDA and a Vulkan build of the same machine agree), sorted.
std::vector<AcceleratorIdentity> accelerators_of(const std::vector<DeviceFacts>& devices);

// What identifies a machine across runs. hw/ fills it from the inventory; the warehouse stores it with
// every result. ACCEL_DEVICES does not change it: the devices a run actually used are stored with the run.
struct MachineFingerprint {
    std::string cpu_model;
    int32_t n_logical_cores = 0;
    uint64_t memory_total_bytes = 0;
    std::vector<AcceleratorIdentity> accelerators;
    std::vector<std::string> device_names;  // every ggml/probe device name, for display only: not in the id
};

// A stable 16-hex-digit id: sha256 over "accel-machine-v2", the CPU model, logical cores, total memory and each
// accelerator (model, memory MiB, compute capability; sorted), joined with '\n'.
std::string fingerprint_id(const MachineFingerprint& fp);

// The id accel computed before accelerators were part of it (CPU, cores, memory and the sorted device names).
// Only for finding what older versions stored: the roofline cache and the warehouse migration.
std::string fingerprint_id_v1(const MachineFingerprint& fp);

// The fingerprint of a stored `accel detect --json` inventory (hw::inventory_json); nullopt when the text is not
// one (no cpu.model, cpu.logical_cores or memory.total_bytes: e.g. "{}" for an imported llama-bench machine).
std::optional<MachineFingerprint> fingerprint_from_inventory_json(std::string_view inventory_json);

// "NVIDIA H200 (140 GiB, cc 9.0)"-style text of the accelerators, "; "-separated; "none" when there are none.
std::string accelerators_text(const std::vector<AcceleratorIdentity>& accelerators);

}  // namespace accel
