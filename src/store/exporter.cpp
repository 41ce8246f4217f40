#include "accel/store/exporter.h"

#include <map>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "machine_identity.h"

namespace accel::store {
namespace {

int64_t count(Database& db, const std::string& sql) {
    return std::stoll(db.query(sql).rows.at(0).at(0).value_or("0"));
}

}  // namespace

int64_t export_results(Database& db, const ExportOptions& o) {
    if (o.format != "parquet" && o.format != "csv") {
        throw Error(ErrorKind::invalid_input, "--format '" + o.format + "': expected parquet or csv");
    }
    if (o.out_dir.empty()) throw Error(ErrorKind::invalid_input, "--out is required");
    paths::ensure_dir(o.out_dir);
    const std::string where = o.where.empty() ? "TRUE" : "(" + o.where + ")";
    const std::string fmt_opt = o.format == "parquet" ? "FORMAT parquet" : "FORMAT csv, HEADER true";
    const std::string ext = o.format == "parquet" ? "parquet" : "csv";
    const auto dir = [&](const char* name) { return sql_quote((o.out_dir / name).string()); };
    // A temp table fixes the selection once, so every file describes the same results.
    db.exec("CREATE OR REPLACE TEMP TABLE export_ids AS SELECT r.id FROM results r WHERE " + where);
    const int64_t n = count(db, "SELECT count(*) FROM export_ids");
    const std::string part = "PARTITION_BY (machine_id, date), WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE true";
    db.exec(
        fmt::format("COPY (SELECT r.*, "
                    "strftime(r.created_at, '%Y-%m-%d') AS date FROM results r JOIN export_ids USING (id)) "
                    "TO {} ({}, {})",
                    dir("results"), fmt_opt, part));
    db.exec(
        fmt::format("COPY (SELECT s.*, r.machine_id, strftime(r.created_at, '%Y-%m-%d') AS date FROM samples s "
                    "JOIN results r ON r.id = s.result_id JOIN export_ids e ON e.id = r.id) TO {} ({}, {})",
                    dir("samples"), fmt_opt, part));
    const auto single = [&](const char* table, const std::string& cond) {
        db.exec(fmt::format("COPY (SELECT * FROM {} WHERE {}) TO {} ({})", table, cond,
                            sql_quote((o.out_dir / (std::string(table) + "." + ext)).string()), fmt_opt));
    };
    const std::string run_ids = "(SELECT DISTINCT run_id FROM results JOIN export_ids USING (id))";
    single("runs", "id IN " + run_ids);
    single("failures", "run_id IN " + run_ids);
    single("machines", "id IN (SELECT machine_id FROM runs WHERE id IN " + run_ids +
                           ") OR id IN (SELECT machine_id FROM results JOIN export_ids USING (id))");
    single("builds", "id IN (SELECT build_id FROM results JOIN export_ids USING (id))");
    single("models", "id IN (SELECT model_id FROM results JOIN export_ids USING (id))");
    db.exec("DROP TABLE export_ids");
    return n;
}

WriteCounts merge_sources(Database& db, const std::vector<std::filesystem::path>& sources) {
    WriteCounts total;
    Transaction tx(db);
    int k = 0;
    for (const auto& src : sources) {
        std::error_code ec;
        if (!std::filesystem::exists(src, ec))
            throw Error(ErrorKind::invalid_input, "no such file or folder: " + src.string());
        const bool parquet_dir = std::filesystem::is_directory(src, ec);
        if (!parquet_dir && std::filesystem::equivalent(src, db.path(), ec)) {
            throw Error(ErrorKind::invalid_input, "cannot merge " + src.string() + " into itself");
        }
        const std::string alias = fmt::format("merge_src_{}", k++);
        const auto rel = [&](const char* table) -> std::string {
            if (!parquet_dir) return alias + "." + table;
            const auto partitioned = src / table;
            if (std::filesystem::is_directory(partitioned, ec)) {
                return fmt::format(
                    "(SELECT * EXCLUDE (date) FROM read_parquet({}, hive_partitioning = false, "
                    "union_by_name = true))",
                    sql_quote((partitioned / "**" / "*.parquet").string()));
            }
            return fmt::format("read_parquet({})", sql_quote((src / (std::string(table) + ".parquet")).string()));
        };
        if (!parquet_dir) db.exec(fmt::format("ATTACH {} AS {} (READ_ONLY)", sql_quote(src.string()), alias));
        {
            const auto insert_new = [&](const char* table, int64_t& counter) {
                const int64_t before = count(db, fmt::format("SELECT count(*) FROM {}", table));
                db.exec(
                    fmt::format("INSERT INTO {0} BY NAME SELECT * FROM {1} s WHERE s.id NOT IN (SELECT id FROM {0}) "
                                "QUALIFY row_number() OVER (PARTITION BY s.id) = 1",
                                table, rel(table)));
                counter += count(db, fmt::format("SELECT count(*) FROM {}", table)) - before;
            };
            db.exec(
                fmt::format("CREATE OR REPLACE TEMP TABLE merge_new AS SELECT DISTINCT id FROM {} "
                            "WHERE id NOT IN (SELECT id FROM results)",
                            rel("results")));
            const int64_t n_src = count(db, fmt::format("SELECT count(DISTINCT id) FROM {}", rel("results")));
            // The same id must mean the same machine in both files; rows an older accel wrote move to their
            // current id afterwards.
            std::map<std::string, MachineRecord> incoming;
            for (auto& m : read_machines(db, rel("machines"), {})) incoming.emplace(m.id, std::move(m));
            std::vector<std::string> ids;
            for (const auto& [id, m] : incoming) ids.push_back(id);
            for (const auto& stored : read_machines(db, "machines", ids)) {
                check_same_machine(stored, incoming.at(stored.id), src.string());
            }
            insert_new("machines", total.machines);
            insert_new("builds", total.builds);
            insert_new("models", total.models);
            insert_new("runs", total.runs);
            insert_new("results", total.results);
            insert_new("failures", total.failures);
            const int64_t s_before = count(db, "SELECT count(*) FROM samples");
            db.exec(
                fmt::format("INSERT INTO samples BY NAME SELECT s.result_id, s.seq, s.duration_ns, s.n_tokens "
                            "FROM {} s WHERE s.result_id IN (SELECT id FROM merge_new)",
                            rel("samples")));
            total.samples += count(db, "SELECT count(*) FROM samples") - s_before;
            total.skipped_results += n_src - count(db, "SELECT count(*) FROM merge_new");
            db.exec("DROP TABLE merge_new");
        }
        if (!parquet_dir) db.exec("DETACH " + alias);
    }
    remap_machine_ids(db);
    tx.commit();
    return total;
}

}  // namespace accel::store
