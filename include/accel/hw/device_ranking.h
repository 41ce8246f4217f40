#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accel/hw/device.h"
#include "accel/hw/roofline.h"

namespace accel::hw {

// What a model needs from a device, in plain terms (hw/ knows nothing of model/).
struct Requirements {
    uint64_t bytes_per_device = 0;              // memory the model's share needs on one device
    std::vector<std::string> tensor_types;      // ggml type names of its weights: "f16", "q4_0", ...
    std::vector<DeviceType> preferred_kinds;    // earlier is better; kinds not listed rank after listed ones
};

struct RankedDevice {
    std::string id;
    bool feasible = false;  // usable, fits the free memory, and the backend supports every tensor type
    std::string reason;     // one line: fit, type support, measured throughput, preference
};

// Whether `device`'s backend supports mul_mat with weights of `type`; nullopt when that cannot be told.
using TypeSupport = std::function<std::optional<bool>(const Device& device, std::string_view type)>;

// Asks ggml (ggml_backend_dev_supports_op on a mul_mat node) for devices it lists; nullopt for others and for
// type names ggml does not know. Thread-safe.
std::optional<bool> ggml_type_support(const Device& device, std::string_view type);

// Ranks every device: feasible ones first; then by preferred kind; then by measured matmul GFLOP/s for the
// first required type (from `measured`, when given); then by free memory. Pure apart from `support`.
std::vector<RankedDevice> rank_devices(const std::vector<Device>& devices, const Requirements& req,
                                       const Roofline* measured = nullptr,
                                       const TypeSupport& support = ggml_type_support);

}  // namespace accel::hw
