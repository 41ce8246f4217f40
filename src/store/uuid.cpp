#include "accel/store/uuid.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>

#include "accel/core/error.h"
#include "accel/core/sha256.h"

namespace accel::store {
namespace {

std::string format_uuid(std::array<uint8_t, 16> b, uint8_t version) {
    b[6] = static_cast<uint8_t>((b[6] & 0x0F) | (version << 4));
    b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += hex[b[i] >> 4];
        out += hex[b[i] & 0x0F];
    }
    return out;
}

}  // namespace

std::string new_uuid() {
    std::array<uint8_t, 16> b{};
    size_t got = 0;
    while (got < b.size()) {
        const ssize_t n = getrandom(b.data() + got, b.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorKind::internal, "getrandom failed: cannot generate a UUID");
        }
        got += static_cast<size_t>(n);
    }
    return format_uuid(b, 4);
}

std::string uuid_from_name(std::string_view name) {
    const std::string h = sha256_hex(name);
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(std::stoi(h.substr(i * 2, 2), nullptr, 16));
    return format_uuid(b, 8);
}

}  // namespace accel::store
