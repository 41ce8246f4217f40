#include "appender.h"

#include "accel/core/error.h"

namespace accel::store {

Appender::Appender(Database& db, const char* table) : table_(table) {
    if (duckdb_appender_create(connection(db), nullptr, table, &app_) != DuckDBSuccess) {
        const char* e = duckdb_appender_error(app_);
        const std::string why = e != nullptr ? e : "unknown error";
        duckdb_appender_destroy(&app_);
        throw Error(ErrorKind::io, "cannot append to table " + table_ + ": " + why);
    }
}

Appender::~Appender() {
    if (app_ != nullptr) duckdb_appender_destroy(&app_);
}

void Appender::check(duckdb_state s) {
    if (s == DuckDBSuccess) return;
    const char* e = duckdb_appender_error(app_);
    const std::string why = e != nullptr ? e : "unknown error";
    const bool constraint = why.find("onstraint") != std::string::npos;
    throw Error(constraint ? ErrorKind::invalid_input : ErrorKind::io, "cannot append to " + table_ + ": " + why);
}

Appender& Appender::text(std::string_view v) {
    check(duckdb_append_varchar_length(app_, v.data(), v.size()));
    return *this;
}
Appender& Appender::opt_text(const std::optional<std::string>& v) {
    if (!v) {
        check(duckdb_append_null(app_));
        return *this;
    }
    return text(std::string_view(*v));
}
Appender& Appender::nullable_text(std::string_view v) {
    if (v.empty()) {
        check(duckdb_append_null(app_));
        return *this;
    }
    return text(v);
}
Appender& Appender::i32(std::optional<int32_t> v) {
    check(v ? duckdb_append_int32(app_, *v) : duckdb_append_null(app_));
    return *this;
}
Appender& Appender::i64(std::optional<int64_t> v) {
    check(v ? duckdb_append_int64(app_, *v) : duckdb_append_null(app_));
    return *this;
}
Appender& Appender::u64(uint64_t v) {
    check(duckdb_append_uint64(app_, v));
    return *this;
}
Appender& Appender::f64(std::optional<double> v) {
    check(v ? duckdb_append_double(app_, *v) : duckdb_append_null(app_));
    return *this;
}
Appender& Appender::boolean(std::optional<bool> v) {
    check(v ? duckdb_append_bool(app_, *v) : duckdb_append_null(app_));
    return *this;
}
Appender& Appender::timestamp_ns(std::optional<int64_t> epoch_ns) {
    check(epoch_ns ? duckdb_append_timestamp(app_, to_timestamp(*epoch_ns)) : duckdb_append_null(app_));
    return *this;
}
void Appender::end_row() { check(duckdb_appender_end_row(app_)); }

void Appender::close() {
    check(duckdb_appender_close(app_));
}

}  // namespace accel::store
