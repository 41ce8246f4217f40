#pragma once

#include <string>
#include <vector>

namespace accel::hw {

// Names of the ggml backends compiled into (or loaded by) this build, e.g. {"CPU"} or {"CUDA", "CPU"}.
// Thread-safe after the first call; the first call registers the backends.
std::vector<std::string> compiled_backends();

}  // namespace accel::hw
