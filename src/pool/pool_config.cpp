#include "accel/pool/pool_config.h"

#include <toml++/toml.h>

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "accel/core/error.h"
#include "accel/core/text.h"

namespace accel::pool {
namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw Error(ErrorKind::invalid_input, where + ": " + what);
}

uint64_t bytes_or_throw(const std::string& text, const std::string& where) {
    auto v = parse_bytes(text);
    if (!v) bad(where, "'" + text + "' is not a size (use e.g. 512MiB, 2GiB, 1.5GB)");
    return *v;
}

LowMemoryMode parse_low_memory(const std::string& text, const std::string& where) {
    if (text == "auto") return LowMemoryMode::auto_;
    if (text == "on" || text == "true") return LowMemoryMode::on;
    if (text == "off" || text == "false") return LowMemoryMode::off;
    bad(where, "'" + text + "' must be auto, on or off");
}

std::chrono::milliseconds seconds(double s) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(s * 1000.0)));
}

// One setting from TOML: a string or a number, reported with its source position on error.
struct TomlReader {
    const toml::table& table;
    std::string file;

    std::string where(const char* key) const {
        const auto* node = table.get(key);
        const auto& src = node != nullptr ? node->source() : table.source();
        return file + ":" + std::to_string(src.begin.line) + ": pool." + key;
    }
    std::optional<std::string> text(const char* key) const {
        const auto* node = table.get(key);
        if (node == nullptr) return std::nullopt;
        if (auto s = node->value<std::string>()) return *s;
        if (auto i = node->value<int64_t>()) return std::to_string(*i);
        if (auto d = node->value<double>()) return std::to_string(*d);
        bad(where(key), "expected a string or a number");
    }
    std::optional<double> number(const char* key) const {
        const auto* node = table.get(key);
        if (node == nullptr) return std::nullopt;
        if (auto d = node->value<double>()) return *d;
        bad(where(key), "expected a number");
    }
};

bool parse_on_off(const std::string& text, const std::string& where) {
    if (text == "on" || text == "1") return true;
    if (text == "off" || text == "0") return false;
    bad(where, "'" + text + "' must be on or off");
}

void apply_env(PoolConfig& c) {
    const auto env = [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (v == nullptr || v[0] == '\0') return std::nullopt;
        return std::string(v);
    };
    if (auto v = env("ACCEL_POOL_MARGIN")) c.margin_bytes = bytes_or_throw(*v, "ACCEL_POOL_MARGIN");
    if (auto v = env("ACCEL_POOL_KEEP_ALIVE_S")) {
        char* end = nullptr;
        const double s = std::strtod(v->c_str(), &end);
        if (end == v->c_str() || *end != '\0') bad("ACCEL_POOL_KEEP_ALIVE_S", "'" + *v + "' is not a number of seconds");
        c.keep_alive = seconds(s);
    }
    if (auto v = env("ACCEL_POOL_FALLBACK")) c.fallback = parse_fallback(*v);
    if (auto v = env("ACCEL_POOL_VALIDATED_LOAD")) c.validated_load = parse_on_off(*v, "ACCEL_POOL_VALIDATED_LOAD");
    if (auto v = env("ACCEL_POOL_LOW_MEMORY")) c.low_memory = parse_low_memory(*v, "ACCEL_POOL_LOW_MEMORY");
    if (auto v = env("ACCEL_POOL_MAX_LOADED")) c.max_loaded = static_cast<uint32_t>(std::strtoul(v->c_str(), nullptr, 10));
    if (auto v = env("ACCEL_POOL_QUEUE_SIZE")) c.queue_size = static_cast<uint32_t>(std::strtoul(v->c_str(), nullptr, 10));
    // ACCEL_POOL_BUDGET_CPU=2GiB, ACCEL_POOL_BUDGET_CUDA0=20GiB, ...
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string kv = *e;
        static const std::string prefix = "ACCEL_POOL_BUDGET_";
        if (kv.rfind(prefix, 0) != 0) continue;
        const auto eq = kv.find('=');
        const std::string dev = lower(kv.substr(prefix.size(), eq - prefix.size()));
        c.budget_bytes[dev] = bytes_or_throw(kv.substr(eq + 1), kv.substr(0, eq));
    }
}

}  // namespace

std::optional<uint64_t> parse_bytes(const std::string& text) {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || !(v >= 0) || !std::isfinite(v)) return std::nullopt;
    std::string unit = lower(std::string(end));
    while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
    double mult = 1;
    if (unit.empty() || unit == "b") {
        mult = 1;
    } else if (unit == "k" || unit == "kib") {
        mult = 1024.0;
    } else if (unit == "kb") {
        mult = 1e3;
    } else if (unit == "m" || unit == "mib") {
        mult = 1024.0 * 1024;
    } else if (unit == "mb") {
        mult = 1e6;
    } else if (unit == "g" || unit == "gib") {
        mult = 1024.0 * 1024 * 1024;
    } else if (unit == "gb") {
        mult = 1e9;
    } else if (unit == "t" || unit == "tib") {
        mult = 1024.0 * 1024 * 1024 * 1024;
    } else {
        return std::nullopt;
    }
    return static_cast<uint64_t>(std::llround(v * mult));
}

Fallback parse_fallback(const std::string& text) {
    if (text == "allow") return Fallback::allow;
    if (text == "forbid") return Fallback::forbid;
    if (text == "wait") return Fallback::wait;
    throw Error(ErrorKind::invalid_input, "fallback policy '" + text + "' must be allow, forbid or wait");
}

const char* to_string(Fallback f) {
    switch (f) {
        case Fallback::allow: return "allow";
        case Fallback::forbid: return "forbid";
        case Fallback::wait: return "wait";
    }
    return "allow";
}

PoolConfig load_pool_config(const std::filesystem::path& file) {
    PoolConfig c;
    std::error_code ec;
    if (!file.empty() && std::filesystem::exists(file, ec)) {
        toml::table root;
        try {
            root = toml::parse_file(file.string());
        } catch (const toml::parse_error& e) {
            throw Error(ErrorKind::invalid_input, file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                                                      std::string(e.description()));
        }
        if (const toml::table* pool = root["pool"].as_table()) {
            const TomlReader r{*pool, file.string()};
            if (auto v = r.text("margin")) c.margin_bytes = bytes_or_throw(*v, r.where("margin"));
            if (auto v = r.number("margin_fraction")) {
                if (*v < 0 || *v >= 1) bad(r.where("margin_fraction"), "must be in [0, 1)");
                c.margin_fraction = *v;
            }
            if (auto v = r.number("keep_alive_s")) c.keep_alive = seconds(*v);
            if (auto v = r.text("fallback")) c.fallback = parse_fallback(*v);
            if (auto v = r.number("max_loaded")) c.max_loaded = static_cast<uint32_t>(*v);
            if (auto v = r.number("queue_size")) c.queue_size = static_cast<uint32_t>(*v);
            if (auto v = r.text("low_memory")) c.low_memory = parse_low_memory(*v, r.where("low_memory"));
            if (auto v = r.text("low_memory_threshold")) {
                c.low_memory_threshold_bytes = bytes_or_throw(*v, r.where("low_memory_threshold"));
            }
            if (auto v = r.number("low_memory_keep_alive_s")) c.low_memory_keep_alive = seconds(*v);
            if (auto v = r.number("unload_wait_s")) c.unload_wait = seconds(*v);
            if (auto v = r.text("validated_load")) c.validated_load = parse_on_off(*v, r.where("validated_load"));
            if (const toml::table* budget = (*pool)["budget"].as_table()) {
                for (const auto& [key, node] : *budget) {
                    const std::string where = file.string() + ":" + std::to_string(node.source().begin.line) +
                                              ": pool.budget." + std::string(key.str());
                    auto s = node.value<std::string>();
                    if (!s) bad(where, "expected a size string such as \"8GiB\"");
                    c.budget_bytes[lower(std::string(key.str()))] = bytes_or_throw(*s, where);
                }
            }
        }
    }
    apply_env(c);
    return c;
}

}  // namespace accel::pool
