// Internal to store/: a checked RAII wrapper over duckdb_appender.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "database_impl.h"

namespace accel::store {

class Appender {
public:
    Appender(Database& db, const char* table);
    ~Appender();
    Appender(const Appender&) = delete;
    Appender& operator=(const Appender&) = delete;

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
    // Flushes and closes; throws Error{io} (or invalid_input for a constraint violation) with DuckDB's message.
    void close();

private:
    void check(duckdb_state s);
    duckdb_appender app_ = nullptr;
    std::string table_;
};

}  // namespace accel::store
