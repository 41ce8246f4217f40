#include "accel/net/security.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::net {

std::string random_token() {
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        const ssize_t r = ::getrandom(b + got, sizeof b - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorKind::io, fmt::format("net: getrandom failed: {}", std::strerror(errno)));
        }
        got += static_cast<size_t>(r);
    }
    std::string s;
    for (unsigned char c : b) s += fmt::format("{:02x}", c);
    return s;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    // The length is not secret; every byte of the shorter is compared without an early exit.
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

}  // namespace accel::net
