// JSON helpers private to hw/.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace accel::hw::detail {

// An absent value is JSON null: the documented way to say "unavailable".
template <typename T>
nlohmann::json opt(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace accel::hw::detail
