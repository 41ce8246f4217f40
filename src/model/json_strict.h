#pragma once
// Internal to model/: JSON parsing that rejects what nlohmann accepts silently (duplicate keys).
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"

namespace accel::model::detail {

// Parses `text` as JSON, throwing Error{invalid_input} "<source>: ..." on a syntax error, invalid UTF-8 (nlohmann
// validates strings) or, when `reject_duplicates`, a key that appears twice in one object.
inline nlohmann::json parse_json(std::string_view text, const std::string& source, bool reject_duplicates) {
    std::vector<std::set<std::string>> open;
    std::string duplicate;
    auto cb = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
        using E = nlohmann::json::parse_event_t;
        if (ev == E::object_start) open.emplace_back();
        if (ev == E::object_end && !open.empty()) open.pop_back();
        if (ev == E::key && !open.empty() && duplicate.empty()) {
            const auto& k = parsed.get_ref<const std::string&>();
            if (!open.back().insert(k).second) duplicate = k;
        }
        return true;
    };
    try {
        auto j = reject_duplicates ? nlohmann::json::parse(text.begin(), text.end(), cb)
                                   : nlohmann::json::parse(text.begin(), text.end());
        if (!duplicate.empty())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: duplicate JSON key '{}'", source, duplicate));
        return j;
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: invalid JSON: {}", source, e.what()));
    }
}

}  // namespace accel::model::detail
