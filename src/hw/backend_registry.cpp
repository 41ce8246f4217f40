#include "accel/hw/backend_registry.h"

#include <ggml-backend.h>

namespace accel::hw {

std::vector<std::string> compiled_backends() {
    std::vector<std::string> names;
    const size_t n = ggml_backend_reg_count();
    names.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        names.emplace_back(ggml_backend_reg_name(ggml_backend_reg_get(i)));
    }
    return names;
}

}  // namespace accel::hw
