// Internal to store/: a checked RAII wrapper over duckdb_appender that fills DuckDB data chunks directly and hands
// them over whole (duckdb_append_data_chunk); the per-value duckdb_append_* calls build a Value each and are several
// times slower (see docs/benchmarks.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "database_impl.h"

namespace accel::store {

class Appender {
public:
    Appender(Database& db, const char* table);
    ~Appender();
    Appender(const Appender&) = delete;
    Appender& operator=(const Appender&) = delete;

    // Each setter fills the next column of the current row; its type must match the table's.
    Appender& text(std::string_view v);
    Appender& opt_text(const std::optional<std::string>& v);
    Appender& nullable_text(std::string_view v);  // empty → NULL
    Appender& i32(std::optional<int32_t> v);
    Appender& i64(std::optional<int64_t> v);
    Appender& u64(uint64_t v);
    Appender& f64(std::optional<double> v);
    Appender& boolean(std::optional<bool> v);
    Appender& timestamp_ns(std::optional<int64_t> epoch_ns);
    void end_row();
    // Appends what is buffered and closes; throws Error{io} (or invalid_input for a constraint violation).
    void close();

private:
    duckdb_vector column(duckdb_type want);
    void set_null(duckdb_vector v);
    void flush_chunk();
    void check(duckdb_state s);
    duckdb_appender app_ = nullptr;
    duckdb_data_chunk chunk_ = nullptr;
    std::vector<duckdb_type> types_;
    std::string table_;
    idx_t row_ = 0;
    idx_t col_ = 0;
    idx_t capacity_ = 0;
};

}  // namespace accel::store
