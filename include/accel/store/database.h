#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accel::store {

enum class ColumnKind : uint8_t { text, number, boolean };

// A query result with every value rendered as text (NULL as nullopt); for printing, not for analysis.
struct QueryResult {
    std::vector<std::string> columns;
    std::vector<ColumnKind> column_kinds;  // how JSON output should render each column
    std::vector<std::vector<std::optional<std::string>>> rows;
};

// A DuckDB database file, opened read-write and created on first use.
// One Database object per file per process (DuckDB issue #17343: two instances on one file can corrupt it).
// Not thread-safe; use one connection per thread (see docs/store.md).
class Database {
public:
    // Creates parent folders. Throws Error{io} naming the path when it cannot be opened (locked, read-only, full).
    static Database open(const std::filesystem::path& path);
    ~Database();
    Database(Database&&) noexcept;
    Database& operator=(Database&&) noexcept;

    // Runs one or more statements; returns the last one's result.
    // Throws Error{invalid_input} with DuckDB's message for SQL errors (syntax, unknown table).
    QueryResult query(std::string_view sql);

    const std::filesystem::path& path() const;

private:
    struct Impl;
    explicit Database(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// DuckDB's library version, e.g. "v1.4.4".
std::string duckdb_version();

}  // namespace accel::store
