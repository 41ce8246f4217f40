#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accel::hw {

// ggml's device types (ggml_backend_dev_type), plus "other" for a probed device of no known kind.
enum class DeviceType : uint8_t { cpu, gpu, igpu, accel, meta, other };

std::string_view to_string(DeviceType type);

// A --device value as every command takes it (STYLE.md §6): ggml's device id in any case, returned in lower case
// ("CUDA0" -> "cuda0"); "auto" comes back as "auto" for the commands that pick a device themselves. Whether such a
// device exists is the caller's check. Throws Error{invalid_input} for an empty value or one with a blank, comma or
// quote, which no device id has.
std::string parse_device_id(std::string_view text);

// What a vendor library (NVML, ROCm SMI, Level Zero, Vulkan) says about a device. Empty: not reported.
struct VendorDetails {
    std::string probe;               // "nvml", "rocm-smi", "level-zero", "vulkan"
    std::string driver_version;      // e.g. NVML's "550.54.15"
    std::string runtime_version;     // e.g. the CUDA driver API version "12.4"
    std::string compute_capability;  // e.g. "9.0"
    std::optional<uint64_t> memory_total_bytes;  // the vendor's total (NVML, ROCm SMI): part of the fingerprint
    std::optional<double> power_limit_w;
    std::optional<int32_t> pcie_gen;
    std::optional<int32_t> pcie_width;
};

struct Device {
    // ggml's device name in lower case ("cpu", "cuda0", "vulkan0"). A device that only a vendor probe sees has
    // the id "<probe>:<index>" ("nvml:0"), which no ggml backend uses.
    std::string id;
    std::string name;
    std::string description;
    DeviceType type = DeviceType::other;
    std::string backend;  // the ggml backend that drives it ("CPU", "CUDA"); "" when no compiled backend can
    uint64_t memory_total_bytes = 0;
    uint64_t memory_free_bytes = 0;
    std::string pci_bus_id;  // "0000:c1:00.0", "" when unknown
    bool usable = false;
    std::string reason;  // one line: why it is usable or not
    std::optional<VendorDetails> vendor;
};

// Every device the compiled ggml backends expose, in ggml's order, all usable. Registers the backends on the
// first call (thread-safe: ggml's registry is a function-local static).
std::vector<Device> ggml_devices();

// The feature list a ggml backend reports through its "ggml_backend_get_features" proc address, as
// "NAME=value" strings; empty when the backend has none or is not compiled in.
std::vector<std::string> ggml_backend_features(const std::string& backend);

// The library file that holds a ggml backend ("libggml-cpu.so.0" or, in a GGML_BACKEND_DL build, the variant
// picked at load time, e.g. "libggml-cpu-haswell.so"); "" when it cannot be found.
std::string ggml_backend_library(const std::string& backend);

// Applies an ACCEL_DEVICES-style allow-list ("cpu,cuda0", case-insensitive, blanks ignored): devices not in
// it become unusable with a reason naming the variable. An empty list allows everything. Returns the ids in
// the list that match no device (nothing is invented for them).
std::vector<std::string> apply_allow_list(std::vector<Device>& devices, std::string_view allow_list);

}  // namespace accel::hw
