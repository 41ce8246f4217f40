// Internal to store/: schema and run-state hooks that Database::open calls.
#pragma once

#include "accel/store/database.h"
#include "accel/store/schema.h"

namespace accel::store {

void apply_migrations(Database& db, int target);

// Marks runs still 'running' whose process is gone (other boot, or a dead pid on this host) 'interrupted'.
// Runs from other hosts are left alone: only their own host can tell whether they are alive.
void mark_dead_runs_interrupted(Database& db);

}  // namespace accel::store
