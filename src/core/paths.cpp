#include "accel/core/paths.h"

#include <cstdlib>
#include <system_error>

#include "accel/core/error.h"

namespace accel::paths {
namespace {

const char* env_nonempty(const char* name) {
    const char* value = std::getenv(name);
    return (value != nullptr && value[0] != '\0') ? value : nullptr;
}

std::filesystem::path home() {
    const char* h = env_nonempty("HOME");
    if (h == nullptr) {
        throw Error(ErrorKind::invalid_input, "HOME is not set; set HOME or the ACCEL_* directory variables");
    }
    return h;
}

std::filesystem::path xdg(const char* override_var, const char* xdg_var, const char* fallback) {
    if (const char* v = env_nonempty(override_var)) return v;
    if (const char* v = env_nonempty(xdg_var)) return std::filesystem::path(v) / "accel";
    return home() / fallback / "accel";
}

}  // namespace

std::filesystem::path cache_dir() { return xdg("ACCEL_CACHE_DIR", "XDG_CACHE_HOME", ".cache"); }

std::filesystem::path data_dir() { return xdg("ACCEL_DATA_DIR", "XDG_DATA_HOME", ".local/share"); }

std::filesystem::path config_file() {
    if (const char* v = env_nonempty("ACCEL_CONFIG")) return v;
    if (const char* v = env_nonempty("XDG_CONFIG_HOME")) return std::filesystem::path(v) / "accel" / "config.toml";
    return home() / ".config" / "accel" / "config.toml";
}

std::filesystem::path default_db() {
    if (const char* v = env_nonempty("ACCEL_DB")) return v;
    return data_dir() / "results.duckdb";
}

void ensure_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw Error(ErrorKind::io, "cannot create directory " + dir.string() + ": " + ec.message());
    }
}

}  // namespace accel::paths
