#include "appender.h"

#include <cstring>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::store {

Appender::Appender(Database& db, const char* table) : table_(table) {
    if (duckdb_appender_create(connection(db), nullptr, table, &app_) != DuckDBSuccess) {
        const char* e = duckdb_appender_error(app_);
        const std::string why = e != nullptr ? e : "unknown error";
        duckdb_appender_destroy(&app_);
        throw Error(ErrorKind::io, "cannot append to table " + table_ + ": " + why);
    }
    const idx_t n = duckdb_appender_column_count(app_);
    std::vector<duckdb_logical_type> logical;
    for (idx_t c = 0; c < n; ++c) {
        logical.push_back(duckdb_appender_column_type(app_, c));
        types_.push_back(duckdb_get_type_id(logical.back()));
    }
    chunk_ = duckdb_create_data_chunk(logical.data(), n);
    for (auto& t : logical) duckdb_destroy_logical_type(&t);
    capacity_ = duckdb_vector_size();
}

Appender::~Appender() {
    if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
    if (app_ != nullptr) duckdb_appender_destroy(&app_);
}

void Appender::check(duckdb_state s) {
    if (s == DuckDBSuccess) return;
    const char* e = duckdb_appender_error(app_);
    const std::string why = e != nullptr ? e : "unknown error";
    const bool constraint = why.find("onstraint") != std::string::npos;
    throw Error(constraint ? ErrorKind::invalid_input : ErrorKind::io, "cannot append to " + table_ + ": " + why);
}

duckdb_vector Appender::column(duckdb_type want) {
    if (col_ >= types_.size()) {
        throw Error(ErrorKind::internal,
                    fmt::format("{}: more values than the table's {} columns", table_, types_.size()));
    }
    if (types_[col_] != want) {
        throw Error(ErrorKind::internal, fmt::format("{}: column {} has type {}, appended {}", table_, col_,
                                                     static_cast<int>(types_[col_]), static_cast<int>(want)));
    }
    return duckdb_data_chunk_get_vector(chunk_, col_++);
}

void Appender::set_null(duckdb_vector v) {
    duckdb_vector_ensure_validity_writable(v);
    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row_);
}

Appender& Appender::text(std::string_view v) {
    duckdb_vector vec = column(DUCKDB_TYPE_VARCHAR);
    duckdb_vector_assign_string_element_len(vec, row_, v.data(), v.size());
    return *this;
}
Appender& Appender::opt_text(const std::optional<std::string>& v) {
    if (v) return text(*v);
    set_null(column(DUCKDB_TYPE_VARCHAR));
    return *this;
}
Appender& Appender::nullable_text(std::string_view v) {
    if (!v.empty()) return text(v);
    set_null(column(DUCKDB_TYPE_VARCHAR));
    return *this;
}

template <class T>
static void put(duckdb_vector vec, idx_t row, T v) {
    static_cast<T*>(duckdb_vector_get_data(vec))[row] = v;
}

Appender& Appender::i32(std::optional<int32_t> v) {
    duckdb_vector vec = column(DUCKDB_TYPE_INTEGER);
    v ? put(vec, row_, *v) : set_null(vec);
    return *this;
}
Appender& Appender::i64(std::optional<int64_t> v) {
    duckdb_vector vec = column(DUCKDB_TYPE_BIGINT);
    v ? put(vec, row_, *v) : set_null(vec);
    return *this;
}
Appender& Appender::u64(uint64_t v) {
    put(column(DUCKDB_TYPE_UBIGINT), row_, v);
    return *this;
}
Appender& Appender::f64(std::optional<double> v) {
    duckdb_vector vec = column(DUCKDB_TYPE_DOUBLE);
    v ? put(vec, row_, *v) : set_null(vec);
    return *this;
}
Appender& Appender::boolean(std::optional<bool> v) {
    duckdb_vector vec = column(DUCKDB_TYPE_BOOLEAN);
    v ? put(vec, row_, *v) : set_null(vec);
    return *this;
}
Appender& Appender::timestamp_ns(std::optional<int64_t> epoch_ns) {
    duckdb_vector vec = column(DUCKDB_TYPE_TIMESTAMP);
    epoch_ns ? put(vec, row_, to_timestamp(*epoch_ns)) : set_null(vec);
    return *this;
}

void Appender::end_row() {
    if (col_ != types_.size()) {
        throw Error(ErrorKind::internal,
                    fmt::format("{}: row has {} values, the table {} columns", table_, col_, types_.size()));
    }
    col_ = 0;
    if (++row_ == capacity_) flush_chunk();
}

void Appender::flush_chunk() {
    if (row_ == 0) return;
    duckdb_data_chunk_set_size(chunk_, row_);
    check(duckdb_append_data_chunk(app_, chunk_));
    duckdb_data_chunk_reset(chunk_);
    row_ = 0;
}

void Appender::close() {
    flush_chunk();
    check(duckdb_appender_close(app_));
}

}  // namespace accel::store
