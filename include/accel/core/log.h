#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/core.h>

namespace accel {

enum class LogLevel : uint8_t { debug, info, warn, error, off };

// The process-wide threshold. Thread-safe (atomic). Default: warn.
void set_log_level(LogLevel level);
LogLevel log_level();
std::optional<LogLevel> parse_log_level(std::string_view text);

// Writes one line to stderr with a level prefix. Thread-safe; lines are not interleaved.
void log_write(LogLevel level, std::string_view message);

}  // namespace accel

// The level is tested before anything is formatted, so a disabled log costs one atomic load.
#define ACCEL_LOG(level, ...)                                                  \
    do {                                                                       \
        if ((level) >= ::accel::log_level()) {                                 \
            ::accel::log_write((level), ::fmt::format(__VA_ARGS__));           \
        }                                                                      \
    } while (0)
#define ACCEL_LOG_DEBUG(...) ACCEL_LOG(::accel::LogLevel::debug, __VA_ARGS__)
#define ACCEL_LOG_INFO(...) ACCEL_LOG(::accel::LogLevel::info, __VA_ARGS__)
#define ACCEL_LOG_WARN(...) ACCEL_LOG(::accel::LogLevel::warn, __VA_ARGS__)
#define ACCEL_LOG_ERROR(...) ACCEL_LOG(::accel::LogLevel::error, __VA_ARGS__)
