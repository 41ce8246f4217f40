#pragma once

#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "accel/core/paths.h"

namespace accel::cli {

inline constexpr const char* db_help = "Database file (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)";

// --db, or the default database.
inline std::filesystem::path resolve_db(const std::string& flag) {
    return flag.empty() ? paths::default_db() : std::filesystem::path(flag);
}

// Adds `accel db compare` to the db command group.
void register_db_compare(CLI::App& db, int& exit_code);

}  // namespace accel::cli
