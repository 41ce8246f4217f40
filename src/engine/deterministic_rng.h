#pragma once
// Private to engine/: the random numbers behind synthetic and conformance models.

#include <cmath>
#include <cstdint>

namespace accel::engine::detail {

// SplitMix64 and Box-Muller instead of <random>'s distributions, whose output is implementation-defined: the same
// seed must give the same model file with any standard library.
struct Rng {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }  // (0,1)
    double normal() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * M_PI * uniform()); }
};

// FNV-1a: a tensor name's share of the seed, stable across standard libraries (unlike std::hash).
inline uint64_t fnv1a(const char* s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s != '\0'; ++s) {
        h ^= static_cast<unsigned char>(*s);
        h *= 0x100000001b3ULL;
    }
    return h;
}

}  // namespace accel::engine::detail
