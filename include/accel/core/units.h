#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace accel {

// Bytes in mebibytes (2^20 bytes).
constexpr double to_mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// "12.3 MiB": bytes in mebibytes with `decimals` digits after the point (clamped to 0..6).
std::string mib(uint64_t bytes, int decimals = 1);

// Milliseconds from `a` to `b` (negative when `b` is earlier).
template <class Clock, class Duration>
double ms_between(std::chrono::time_point<Clock, Duration> a, std::chrono::time_point<Clock, Duration> b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// Milliseconds from `t0` to now, on t0's clock.
template <class Clock, class Duration>
double ms_since(std::chrono::time_point<Clock, Duration> t0) {
    return ms_between(t0, std::chrono::time_point_cast<Duration>(Clock::now()));
}

}  // namespace accel
