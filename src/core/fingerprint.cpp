#include "accel/core/fingerprint.h"

#include <algorithm>

#include "accel/core/sha256.h"

namespace accel {

std::string fingerprint_id(const MachineFingerprint& fp) {
    std::vector<std::string> devices = fp.device_names;
    std::sort(devices.begin(), devices.end());
    std::string text = fp.cpu_model + "\n" + std::to_string(fp.n_logical_cores) + "\n" +
                       std::to_string(fp.memory_total_bytes);
    for (const auto& d : devices) {
        text += "\n" + d;
    }
    return sha256_hex(text).substr(0, 16);
}

}  // namespace accel
