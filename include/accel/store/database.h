#pragma once

#include <chrono>
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
    std::vector<std::string> columns{};
    std::vector<ColumnKind> column_kinds{};  // how JSON output should render each column
    std::vector<std::vector<std::optional<std::string>>> rows{};
};

struct OpenOptions {
    // How long to retry while another process holds the file's lock; 0 fails at once with Error{busy}.
    std::chrono::milliseconds lock_wait{0};
    // Apply the schema migrations (schema.h) and mark runs of dead processes interrupted. Off only in tests
    // that build an old schema by hand.
    bool migrate = true;
};

// A connection to a DuckDB database file, opened read-write and created on first use.
// All Database objects on one file in a process share one duckdb_database through a process-wide registry keyed
// by the canonical path (DuckDB issue #17343: two instances on one file can corrupt it). The file, and its lock,
// is released when the last Database on it is destroyed, so hold one only for as long as you need it.
// A Database is not thread-safe; give each thread its own (they share the instance).
class Database {
public:
    // Creates parent folders. Throws Error{busy} when another process holds the file past opts.lock_wait,
    // Error{io} naming the path when it cannot be opened (read-only, full, not a database).
    static Database open(const std::filesystem::path& path, const OpenOptions& opts = {});
    ~Database();
    Database(Database&&) noexcept;
    Database& operator=(Database&&) noexcept;

    // Runs one or more statements; returns the last one's result.
    // Throws Error{invalid_input} with DuckDB's message for SQL errors (syntax, unknown table),
    // Error{io} for I/O failures (disk full, read-only file).
    QueryResult query(std::string_view sql);
    // As query(), discarding the result.
    void exec(std::string_view sql);

    const std::filesystem::path& path() const;

    struct Impl;
    Impl& impl() { return *impl_; }

private:
    explicit Database(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_{};
};

// A transaction on db: BEGIN now, ROLLBACK when destroyed without commit(). Not reentrant.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();  // Throws Error{io} when the commit fails (e.g. disk full); the transaction is then rolled back.

private:
    Database& db_;
    bool done_ = false;
};

// How many distinct database files this process holds open (for tests of the registry).
size_t open_instance_count();

// DuckDB's library version, e.g. "v1.4.4".
std::string duckdb_version();

// Quotes text as an SQL string literal ('it''s').
std::string sql_quote(std::string_view text);

}  // namespace accel::store
