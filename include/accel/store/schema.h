#pragma once

#include "accel/store/database.h"

namespace accel::store {

// The schema version this build writes. Database::open applies every migration from the file's version up to it,
// in order, each in its own transaction; the version lives in the table schema_version.
inline constexpr int schema_version_latest = 3;

// The file's schema version: 0 for a new, empty database.
int schema_version(Database& db);

// Applies migrations up to `target` (never downwards). Throws Error{invalid_input} for a file newer than this
// build, Error{io} when a migration cannot be written (the file is left at the last complete version).
void migrate(Database& db, int target = schema_version_latest);

}  // namespace accel::store
