// The `db` command group: query, import, export, merge and ingest over the results warehouse (store/); compare is in
// db_compare.cpp.
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "accel/core/version.h"
#include "accel/fleet/campaign_merge.h"
#include "accel/store/database.h"
#include "accel/store/exporter.h"
#include "accel/store/importer.h"
#include "accel/store/result_writer.h"
#include "campaign_report.h"
#include "commands.h"
#include "db_commands.h"
#include "output.h"

namespace accel::cli {
namespace {

std::optional<std::string> num(int64_t v) {
    return std::to_string(v);
}

struct QueryOptions {
    std::string sql;
    std::string db;
    FormatOption format;
};

int run_query(const QueryOptions& o) {
    store::Database db = store::Database::open(resolve_db(o.db));
    const store::QueryResult r = db.query(o.sql);
    Table t{.columns = r.columns, .numeric = {}, .rows = r.rows};
    for (auto k : r.column_kinds) t.numeric.push_back(k != store::ColumnKind::text);
    print_table(t, o.format.resolve());
    return exit_ok;
}

struct ImportOptions {
    std::vector<std::string> files;
    std::string db;
    FormatOption format;
};

int run_import(const ImportOptions& o) {
    // Parse every file before writing any: one malformed file stops the command with nothing stored from it.
    std::vector<std::pair<std::string, store::ParsedImport>> parsed;
    for (const auto& f : o.files) parsed.emplace_back(f, store::parse_import(f));
    store::Database db = store::Database::open(resolve_db(o.db));
    Table t{.columns = {"file", "format", "runs", "machines", "builds", "models", "results", "samples", "failures",
                        "already_present"},
            .numeric = {false, false, true, true, true, true, true, true, true, true},
            .rows = {}};
    for (auto& [file, p] : parsed) {
        store::Transaction tx(db);
        const store::WriteCounts n = store::write_batch(db, p.batch);
        tx.commit();
        t.rows.push_back({file, p.format, num(n.runs), num(n.machines), num(n.builds), num(n.models), num(n.results),
                          num(n.samples), num(n.failures), num(n.skipped_results)});
    }
    print_table(t, o.format.resolve());
    return exit_ok;
}

struct ExportCli {
    std::string db;
    std::string format = "parquet";
    std::string out;
    std::string where;
};

int run_export(const ExportCli& o) {
    store::Database db = store::Database::open(resolve_db(o.db));
    const int64_t n = store::export_results(db, {.format = o.format, .out_dir = o.out, .where = o.where});
    fmt::print("exported {} results to {} ({})\n", n, o.out, o.format);
    return exit_ok;
}

struct MergeOptions {
    std::vector<std::string> sources;
    std::string db;
    FormatOption format;
};

int run_merge(const MergeOptions& o) {
    store::Database db = store::Database::open(resolve_db(o.db));
    std::vector<std::filesystem::path> src;
    int campaign_exit = exit_ok;
    for (const auto& s : o.sources) {  // campaign folders (fleet/) merge shard by shard
        const auto campaigns = fleet::campaign_dirs(s);
        if (campaigns.empty()) src.emplace_back(s);
        for (const auto& c : campaigns) {
            if (print_campaign_merge(fleet::merge_campaign(db, c), o.format.resolve()) != exit_ok) {
                campaign_exit = exit_check;
            }
        }
    }
    if (src.empty()) return campaign_exit;
    const store::WriteCounts n = store::merge_sources(db, src);
    Table t{.columns = {"runs", "machines", "builds", "models", "results", "samples", "failures", "already_present"},
            .numeric = std::vector<bool>(8, true),
            .rows = {{num(n.runs), num(n.machines), num(n.builds), num(n.models), num(n.results), num(n.samples),
                      num(n.failures), num(n.skipped_results)}}};
    print_table(t, o.format.resolve());
    return campaign_exit;
}

struct IngestOptions {
    std::vector<std::string> inputs;
    std::string db;
    FormatOption format;
};

int run_ingest(const IngestOptions& o) {
    std::vector<std::filesystem::path> in(o.inputs.begin(), o.inputs.end());
    if (in.empty()) in.push_back(paths::data_dir() / "spool");
    std::error_code ec;
    if (o.inputs.empty() && !std::filesystem::exists(in[0], ec)) in.clear();
    const store::IngestReport r = store::ingest_spool(resolve_db(o.db), in);
    Table t{.columns = {"files", "runs", "results", "samples", "failures", "already_present", "truncated_lines"},
            .numeric = std::vector<bool>(7, true),
            .rows = {{num(r.files), num(r.runs), num(r.results), num(r.samples), num(r.failures),
                      num(r.skipped_results), num(r.truncated_lines)}}};
    print_table(t, o.format.resolve());
    return exit_ok;
}

}  // namespace

void register_db(CLI::App& app, int& exit_code) {
    auto* db = app.add_subcommand("db", "The results warehouse (DuckDB): query, import, export, merge, compare");
    db->require_subcommand(1);

    auto q = std::make_shared<QueryOptions>();
    auto* query = db->add_subcommand(
        "query",
        "Run SQL against the results database and print the result. Views: latest_results, best_config, "
        "metric_history, compatibility");
    query->add_option("sql", q->sql, "SQL statement(s)")->required();
    query->add_option("--db", q->db, db_help);
    add_format_option(*query, q->format, {"table", "csv", "json", "markdown"});
    query->callback([q, &exit_code] { exit_code = run_query(*q); });

    auto im = std::make_shared<ImportOptions>();
    auto* imp = db->add_subcommand("import",
                                   "Import llama-bench (json/jsonl/csv/sql), optimum-benchmark or accel "
                                   "JSON/JSONL files; prints the rows stored per table");
    imp->add_option("files", im->files, "Files to import (format detected from extension and content)")->required();
    imp->add_option("--db", im->db, db_help);
    add_format_option(*imp, im->format, {"table", "csv", "json", "markdown"});
    imp->callback([im, &exit_code] { exit_code = run_import(*im); });

    auto ex = std::make_shared<ExportCli>();
    auto* exp = db->add_subcommand("export", "Export results as Parquet or CSV, partitioned by machine and date");
    exp->add_option("--db", ex->db, db_help);
    exp->add_option("--format", ex->format, "parquet or csv")->check(CLI::IsMember({"parquet", "csv"}));
    exp->add_option("--out", ex->out, "Output folder")->required();
    exp->add_option("--where", ex->where, "SQL condition on results, as alias r (e.g. \"r.device = 'cpu'\")");
    exp->callback([ex, &exit_code] { exit_code = run_export(*ex); });

    auto mo = std::make_shared<MergeOptions>();
    auto* merge = db->add_subcommand("merge",
                                     "Merge other accel DuckDB files, Parquet export folders or campaign folders "
                                     "(accel run-shard's OUT/<campaign>: each shard's latest complete attempt once; "
                                     "exit 3 when a shard is missing, failed or unplaceable); de-duplicates by id");
    merge->add_option("sources", mo->sources, "DuckDB files, export folders or campaign folders")->required();
    merge->add_option("--db", mo->db, db_help);
    add_format_option(*merge, mo->format, {"table", "csv", "json", "markdown"});
    merge->callback([mo, &exit_code] { exit_code = run_merge(*mo); });

    auto io = std::make_shared<IngestOptions>();
    auto* ing = db->add_subcommand("ingest", "Load spooled measurements (default: ~/.local/share/accel/spool/)");
    ing->add_option("inputs", io->inputs, "Spool files or folders");
    ing->add_option("--db", io->db, db_help);
    add_format_option(*ing, io->format, {"table", "csv", "json", "markdown"});
    ing->callback([io, &exit_code] { exit_code = run_ingest(*io); });

    register_db_compare(*db, exit_code);
}

}  // namespace accel::cli
