#pragma once

#include <string>
#include <string_view>

namespace accel::store {

// A random UUID (version 4) from getrandom(2), the kernel's CSPRNG; lower-case 8-4-4-4-12 hex.
// Throws Error{internal} if the kernel cannot supply randomness.
std::string new_uuid();

// A name-based UUID (version 8, RFC 9562): the first 128 bits of sha256(name) with the version and variant set.
// Imports use it so the same row of the same file gets the same id, and a second import de-duplicates.
std::string uuid_from_name(std::string_view name);

}  // namespace accel::store
