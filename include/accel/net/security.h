#pragma once

#include <string>
#include <string_view>

namespace accel::net {

// 128 random bits from the OS, as 32 lowercase hex digits. Throws Error{io} when no randomness is available.
std::string random_token();
// Compares two secrets in time that depends only on their lengths (no early exit on the first difference).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace accel::net
