#pragma once

#include <string>
#include <string_view>

namespace accel {

// A copy of `s` with ASCII letters in lower case (bytes >= 0x80 are left alone, so UTF-8 stays valid).
std::string lower(std::string_view s);

}  // namespace accel
