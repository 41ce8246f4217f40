#pragma once

#include <filesystem>

namespace accel::paths {

// Each directory has an environment override; none is created by these functions.
//   cache:  $ACCEL_CACHE_DIR, else $XDG_CACHE_HOME/accel, else ~/.cache/accel   (deps/, models/, measure/)
//   data:   $ACCEL_DATA_DIR,  else $XDG_DATA_HOME/accel,  else ~/.local/share/accel (results.duckdb, spool/)
//   config: $ACCEL_CONFIG (a file), else $XDG_CONFIG_HOME/accel/config.toml, else ~/.config/accel/config.toml
// Throws Error{invalid_input} when HOME is needed and unset.
std::filesystem::path cache_dir();
std::filesystem::path data_dir();
std::filesystem::path config_file();

// The results database: $ACCEL_DB, else data_dir()/results.duckdb.
std::filesystem::path default_db();

// Creates the directory (and parents) if needed. Throws Error{io} naming the path on failure.
void ensure_dir(const std::filesystem::path& dir);

}  // namespace accel::paths
