#include "accel/store/database.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "database_impl.h"
#include "schema_internal.h"

namespace accel::store {

struct Instance {
    std::string key;
    duckdb_database db = nullptr;
    // Migrations and the dead-run sweep run once per instance: concurrent ALTERs from two connections conflict.
    std::mutex setup_mu{};
    bool set_up = false;
};

namespace {

ColumnKind column_kind(duckdb_type t) {
    switch (t) {
        case DUCKDB_TYPE_BOOLEAN:
            return ColumnKind::boolean;
        case DUCKDB_TYPE_TINYINT:
        case DUCKDB_TYPE_SMALLINT:
        case DUCKDB_TYPE_INTEGER:
        case DUCKDB_TYPE_BIGINT:
        case DUCKDB_TYPE_UTINYINT:
        case DUCKDB_TYPE_USMALLINT:
        case DUCKDB_TYPE_UINTEGER:
        case DUCKDB_TYPE_UBIGINT:
        case DUCKDB_TYPE_HUGEINT:
        case DUCKDB_TYPE_UHUGEINT:
        case DUCKDB_TYPE_FLOAT:
        case DUCKDB_TYPE_DOUBLE:
        case DUCKDB_TYPE_DECIMAL:
            return ColumnKind::number;
        default:
            return ColumnKind::text;
    }
}

// The registry. An entry lives from duckdb_open until duckdb_close has returned, so an open of the same path
// waits for a pending close instead of racing it with a second instance.
struct Registry {
    std::mutex mu;
    std::condition_variable closed;
    std::map<std::string, std::weak_ptr<Instance>> open;
};

Registry& registry() {
    static Registry* r = new Registry();  // never destroyed: Database objects may outlive static destruction order
    return *r;
}

void release(Instance* inst) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    duckdb_close(&inst->db);
    r.open.erase(inst->key);
    r.closed.notify_all();
    delete inst;
}

std::string canonical_key(const std::filesystem::path& path) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec);
    if (ec) return path.string();
    auto canon = std::filesystem::weakly_canonical(abs, ec);
    return ec ? abs.lexically_normal().string() : canon.string();
}

// Returns the shared instance, opening the file if this process does not hold it yet. Sets `locked` when the
// file is held by another process (the caller may retry).
std::shared_ptr<Instance> acquire(const std::string& key, const std::filesystem::path& shown, bool& locked) {
    Registry& r = registry();
    std::unique_lock lock(r.mu);
    for (;;) {
        auto it = r.open.find(key);
        if (it == r.open.end()) break;
        if (auto live = it->second.lock()) return live;
        r.closed.wait(lock);  // the last user is closing it right now
    }
    auto* inst = new Instance{.key = key};
    char* err = nullptr;
    if (duckdb_open_ext(key.c_str(), &inst->db, nullptr, &err) != DuckDBSuccess) {
        std::string why = err != nullptr ? err : "unknown error";
        duckdb_free(err);
        delete inst;
        if (why.find("Could not set lock") != std::string::npos || why.find("Conflicting lock") != std::string::npos) {
            locked = true;
            throw Error(ErrorKind::busy, "database " + shown.string() + " is in use by another process: " + why);
        }
        throw Error(ErrorKind::io, "cannot open database " + shown.string() + ": " + why);
    }
    std::shared_ptr<Instance> sp(inst, release);
    r.open[key] = sp;
    return sp;
}

}  // namespace

Database::Impl::~Impl() {
    if (con != nullptr) duckdb_disconnect(&con);
    // `instance` is released after this, closing the file when it was the last user.
}

void throw_result_error(duckdb_result& res, const std::string& what) {
    const char* e = duckdb_result_error(&res);
    std::string why = e != nullptr ? e : "query failed";
    const duckdb_error_type type = duckdb_result_error_type(&res);
    duckdb_destroy_result(&res);
    const bool io = type == DUCKDB_ERROR_IO || type == DUCKDB_ERROR_PERMISSION || type == DUCKDB_ERROR_FATAL ||
                    type == DUCKDB_ERROR_INTERNAL || type == DUCKDB_ERROR_OUT_OF_MEMORY;
    throw Error(io ? ErrorKind::io : ErrorKind::invalid_input, what.empty() ? why : what + ": " + why);
}

duckdb_timestamp to_timestamp(int64_t epoch_ns) {
    return duckdb_timestamp{.micros = epoch_ns / 1000};
}

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;

Database Database::open(const std::filesystem::path& path, const OpenOptions& opts) {
    if (path.has_parent_path()) {
        paths::ensure_dir(path.parent_path());
    }
    const std::string key = canonical_key(path);
    const auto deadline = std::chrono::steady_clock::now() + opts.lock_wait;
    std::shared_ptr<Instance> inst;
    for (auto pause = std::chrono::milliseconds(5);;) {
        bool locked = false;
        try {
            inst = acquire(key, path, locked);
            break;
        } catch (const Error&) {
            if (!locked || std::chrono::steady_clock::now() + pause > deadline) throw;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->instance = std::move(inst);
    if (duckdb_connect(impl->instance->db, &impl->con) != DuckDBSuccess) {
        throw Error(ErrorKind::io, "cannot connect to database " + path.string());
    }
    Database db(std::move(impl));
    if (opts.migrate) {
        Instance& inst_ref = *db.impl().instance;
        std::lock_guard lock(inst_ref.setup_mu);
        if (!inst_ref.set_up) {
            apply_migrations(db, schema_version_latest);
            mark_dead_runs_interrupted(db);
            inst_ref.set_up = true;
        }
    }
    return db;
}

const std::filesystem::path& Database::path() const {
    return impl_->path;
}

QueryResult Database::query(std::string_view sql) {
    duckdb_result res;
    const std::string text(sql);
    if (duckdb_query(impl_->con, text.c_str(), &res) != DuckDBSuccess) {
        throw_result_error(res, "");
    }
    QueryResult out;
    const idx_t n_cols = duckdb_column_count(&res);
    for (idx_t c = 0; c < n_cols; ++c) {
        out.columns.emplace_back(duckdb_column_name(&res, c));
        out.column_kinds.push_back(column_kind(duckdb_column_type(&res, c)));
    }
    // duckdb_value_varchar renders any type as DuckDB would cast it to VARCHAR (deprecated, but the only C call
    // that renders every type, LISTs and STRUCTs included, the way DuckDB's own shell does).
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

void Database::exec(std::string_view sql) {
    duckdb_result res;
    const std::string text(sql);
    if (duckdb_query(impl_->con, text.c_str(), &res) != DuckDBSuccess) {
        throw_result_error(res, "");
    }
    duckdb_destroy_result(&res);
}

Transaction::Transaction(Database& db) : db_(db) {
    db_.exec("BEGIN TRANSACTION");
}

Transaction::~Transaction() {
    if (done_) return;
    duckdb_result res;
    if (duckdb_query(connection(db_), "ROLLBACK", &res) != DuckDBSuccess) {
        ACCEL_LOG_WARN("rollback on {} failed: {}", db_.path().string(),
                       duckdb_result_error(&res) != nullptr ? duckdb_result_error(&res) : "unknown");
    }
    duckdb_destroy_result(&res);
}

void Transaction::commit() {
    done_ = true;
    duckdb_result res;
    if (duckdb_query(connection(db_), "COMMIT", &res) != DuckDBSuccess) {
        const char* e = duckdb_result_error(&res);
        std::string why = e != nullptr ? e : "commit failed";
        duckdb_destroy_result(&res);
        duckdb_result rb;
        duckdb_query(connection(db_), "ROLLBACK", &rb);
        duckdb_destroy_result(&rb);
        throw Error(ErrorKind::io, "cannot commit to " + db_.path().string() + " (rolled back): " + why);
    }
    duckdb_destroy_result(&res);
}

size_t open_instance_count() {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    return r.open.size();
}

std::string duckdb_version() {
    return duckdb_library_version();
}

std::string sql_quote(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

}  // namespace accel::store
