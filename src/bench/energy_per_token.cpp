#include "accel/bench/energy_per_token.h"

#include <algorithm>

namespace accel::bench {

EnergyPerToken energy_per_token(const std::vector<std::pair<std::string, double>>& energy_j,
                                const std::string& energy_unavailable, double n_tokens) {
    if (energy_j.empty()) {
        return {.unavailable = energy_unavailable.empty() ? "no energy counter was read" : energy_unavailable};
    }
    double package = 0, top = 0, other = 0;
    bool have_package = false;
    for (const auto& [domain, joules] : energy_j) {
        // RAPL domains are "name(zone)": zone intel-rapl:0 is top level, intel-rapl:0:0 a part of it.
        const size_t open = domain.find('(');
        const std::string zone = open == std::string::npos ? domain : domain.substr(open + 1);
        if (zone.rfind("intel-rapl", 0) != 0 && zone.rfind("amd-rapl", 0) != 0) {
            other += joules;  // another counter (a GPU's): not inside a package
            continue;
        }
        if (std::count(zone.begin(), zone.end(), ':') != 1) continue;
        top += joules;
        if (domain.rfind("package", 0) == 0) {
            package += joules;
            have_package = true;
        }
    }
    const double joules = (have_package ? package : top) + other;
    if (n_tokens <= 0 || joules <= 0) {
        return {.unavailable = "the energy counters did not advance during the measurement"};
    }
    return {.joules_per_token = joules / n_tokens};
}

}  // namespace accel::bench
