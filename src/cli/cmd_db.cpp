#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "accel/core/paths.h"
#include "accel/store/database.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct QueryOptions {
    std::string sql;
    std::string db;
    FormatOption format;
};

std::filesystem::path resolve_db(const std::string& flag) { return flag.empty() ? paths::default_db() : std::filesystem::path(flag); }

int run_query(const QueryOptions& o) {
    store::Database db = store::Database::open(resolve_db(o.db));
    const store::QueryResult r = db.query(o.sql);
    Table t{.columns = r.columns, .numeric = {}, .rows = r.rows};
    for (auto k : r.column_kinds) t.numeric.push_back(k != store::ColumnKind::text);
    switch (o.format.resolve()) {
        case Format::json: print_json(table_to_json(t)); break;
        case Format::csv: fmt::print("{}", render_csv(t)); break;
        case Format::markdown: fmt::print("{}", render_markdown(t)); break;
        default: fmt::print("{}", render_table(t)); break;
    }
    return exit_ok;
}

}  // namespace

void register_db(CLI::App& app, int& exit_code) {
    auto* db = app.add_subcommand("db", "The results warehouse (DuckDB)");
    db->require_subcommand(1);
    auto q = std::make_shared<QueryOptions>();
    auto* query = db->add_subcommand("query", "Run SQL against the results database and print the result");
    query->add_option("sql", q->sql, "SQL statement(s)")->required();
    query->add_option("--db", q->db, "Database file (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)");
    add_format_option(*query, q->format, {"table", "csv", "json", "markdown"});
    query->callback([q, &exit_code] { exit_code = run_query(*q); });
}

}  // namespace accel::cli
