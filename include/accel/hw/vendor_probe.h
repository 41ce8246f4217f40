#pragma once

#include <string>
#include <vector>

#include "accel/hw/device.h"

namespace accel::hw {

// What one vendor library, loaded at run time with dlopen, reported. accel never links these libraries.
struct ProbeReport {
    std::string probe;       // "nvml", "rocm-smi", "level-zero", "openvino", "vulkan", "metal"
    std::string library;     // the file dlopen was asked for
    bool loaded = false;     // the library was found and its entry points resolved
    std::string note;        // one line: "not found", the driver version, or the call that failed
    std::vector<Device> devices;  // usable=false, backend="" until merge_probed() matches them
};

// Runs every probe. Each takes milliseconds when its library is absent; none starts a program.
// Not thread-safe with itself (vendor libraries keep global state); call from one thread.
std::vector<ProbeReport> run_vendor_probes();

// Folds probed devices into the ggml list: a probed device that matches a ggml device (same PCI bus id, or the
// same name on the backend the vendor maps to) adds its VendorDetails there; one that matches nothing is
// appended as present but not usable, with the reason ("NVIDIA H100 found by NVML; this build has no CUDA
// backend"). `compiled` holds the ggml backend names of this build.
void merge_probed(std::vector<Device>& devices, const std::vector<ProbeReport>& reports,
                  const std::vector<std::string>& compiled);

}  // namespace accel::hw
