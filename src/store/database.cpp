#include "accel/store/database.h"

#include <duckdb.h>

#include "accel/core/error.h"
#include "accel/core/paths.h"

namespace accel::store {
namespace {

ColumnKind column_kind(duckdb_type t) {
    switch (t) {
        case DUCKDB_TYPE_BOOLEAN: return ColumnKind::boolean;
        case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
        case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
        case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
        case DUCKDB_TYPE_DECIMAL:
            return ColumnKind::number;
        default: return ColumnKind::text;
    }
}

}  // namespace

struct Database::Impl {
    std::filesystem::path path;
    duckdb_database db = nullptr;
    duckdb_connection con = nullptr;
    ~Impl() {
        if (con != nullptr) duckdb_disconnect(&con);
        if (db != nullptr) duckdb_close(&db);
    }
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;

Database Database::open(const std::filesystem::path& path) {
    if (path.has_parent_path()) {
        paths::ensure_dir(path.parent_path());
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    char* err = nullptr;
    if (duckdb_open_ext(path.c_str(), &impl->db, nullptr, &err) != DuckDBSuccess) {
        std::string why = err != nullptr ? err : "unknown error";
        duckdb_free(err);
        throw Error(ErrorKind::io, "cannot open database " + path.string() + ": " + why);
    }
    if (duckdb_connect(impl->db, &impl->con) != DuckDBSuccess) {
        throw Error(ErrorKind::io, "cannot connect to database " + path.string());
    }
    return Database(std::move(impl));
}

const std::filesystem::path& Database::path() const { return impl_->path; }

QueryResult Database::query(std::string_view sql) {
    duckdb_result res;
    const std::string text(sql);
    if (duckdb_query(impl_->con, text.c_str(), &res) != DuckDBSuccess) {
        std::string why = duckdb_result_error(&res) != nullptr ? duckdb_result_error(&res) : "query failed";
        duckdb_destroy_result(&res);
        throw Error(ErrorKind::invalid_input, why);
    }
    QueryResult out;
    const idx_t n_cols = duckdb_column_count(&res);
    for (idx_t c = 0; c < n_cols; ++c) {
        out.columns.emplace_back(duckdb_column_name(&res, c));
        out.column_kinds.push_back(column_kind(duckdb_column_type(&res, c)));
    }
    // duckdb_value_varchar renders any type as DuckDB would cast it to VARCHAR.
    const idx_t n_rows = duckdb_row_count(&res);
    out.rows.reserve(n_rows);
    for (idx_t r = 0; r < n_rows; ++r) {
        std::vector<std::optional<std::string>> row;
        row.reserve(n_cols);
        for (idx_t c = 0; c < n_cols; ++c) {
            if (duckdb_value_is_null(&res, c, r)) {
                row.emplace_back(std::nullopt);
                continue;
            }
            char* v = duckdb_value_varchar(&res, c, r);
            row.emplace_back(v != nullptr ? std::optional<std::string>(v) : std::nullopt);
            duckdb_free(v);
        }
        out.rows.push_back(std::move(row));
    }
    duckdb_destroy_result(&res);
    return out;
}

std::string duckdb_version() { return duckdb_library_version(); }

}  // namespace accel::store
