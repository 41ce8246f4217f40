#include "accel/core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace accel {
namespace {
std::atomic<LogLevel> g_level{LogLevel::warn};
std::mutex g_write_mutex;
}  // namespace

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }

LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

std::optional<LogLevel> parse_log_level(std::string_view text) {
    if (text == "debug") return LogLevel::debug;
    if (text == "info") return LogLevel::info;
    if (text == "warn") return LogLevel::warn;
    if (text == "error") return LogLevel::error;
    if (text == "off") return LogLevel::off;
    return std::nullopt;
}

void log_write(LogLevel level, std::string_view message) {
    static constexpr std::string_view prefixes[] = {"debug", "info", "warn", "error", ""};
    std::string_view prefix = prefixes[static_cast<int>(level)];
    // Backend logs arrive with their own trailing newline; do not double it.
    if (!message.empty() && message.back() == '\n') {
        message.remove_suffix(1);
    }
    std::lock_guard lock(g_write_mutex);
    std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(prefix.size()), prefix.data(), static_cast<int>(message.size()),
                 message.data());
}

}  // namespace accel
