#include "accel/core/units.h"

#include <algorithm>

#include <fmt/format.h>

namespace accel {

std::string mib(uint64_t bytes, int decimals) {
    return fmt::format("{:.{}f} MiB", to_mib(bytes), std::clamp(decimals, 0, 6));
}

}  // namespace accel
