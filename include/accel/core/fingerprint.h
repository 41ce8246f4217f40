#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace accel {

// What identifies a machine across runs. hw/ fills it from the inventory; the warehouse stores it with
// every result. ACCEL_DEVICES does not change it: the devices a run actually used are stored with the run.
struct MachineFingerprint {
    std::string cpu_model;
    int32_t n_logical_cores = 0;
    uint64_t memory_total_bytes = 0;
    std::vector<std::string> device_names;  // every device found, sorted by the caller's enumeration order
};

// A stable 16-hex-digit id: sha256 over the fields above, joined with '\n' (device names sorted).
std::string fingerprint_id(const MachineFingerprint& fp);

}  // namespace accel
