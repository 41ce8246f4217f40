// Internal to store/: the DuckDB handles behind accel::store::Database.
#pragma once

#include <duckdb.h>

#include <memory>
#include <string>

#include "accel/store/database.h"

namespace accel::store {

// One duckdb_database per canonical path, shared through the registry in database.cpp.
struct Instance;

struct Database::Impl {
    std::filesystem::path path;
    std::shared_ptr<Instance> instance;
    duckdb_connection con = nullptr;
    ~Impl();
};

inline duckdb_connection connection(Database& db) {
    return db.impl().con;
}

// Throws Error naming `what`: io for DuckDB I/O, permission and fatal errors, invalid_input otherwise.
[[noreturn]] void throw_result_error(duckdb_result& res, const std::string& what);

// Milliseconds-precision UTC timestamps at the DuckDB boundary.
duckdb_timestamp to_timestamp(int64_t epoch_ns);

}  // namespace accel::store
