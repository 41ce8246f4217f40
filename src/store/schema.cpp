#include "accel/store/schema.h"

#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/store/result_columns.h"
#include "machine_identity.h"
#include "schema_internal.h"

namespace accel::store {
namespace {

// No FOREIGN KEY constraints: DuckDB cannot ALTER a table that others reference. References are checked by the
// writer (it writes the run, machine, build and model rows before results) and by tests.
// The results table's columns come from the column table (result_columns.h), every one of them there since v1.
constexpr const char* v1_sql = R"sql(
CREATE TABLE machines (
    id VARCHAR PRIMARY KEY, cpu_model VARCHAR, n_logical_cores INTEGER, memory_total_bytes UBIGINT,
    device_names VARCHAR, hostname VARCHAR, inventory JSON, first_seen TIMESTAMP);
CREATE TABLE builds (
    id VARCHAR PRIMARY KEY, tool VARCHAR, accel_version VARCHAR, git_commit VARCHAR, llama_cpp_commit VARCHAR,
    compiler VARCHAR, build_type VARCHAR, cxx_flags VARCHAR, backends VARCHAR);
CREATE TABLE models (
    id VARCHAR PRIMARY KEY, sha256 VARCHAR, path VARCHAR, name VARCHAR, architecture VARCHAR, family VARCHAR,
    subfamily VARCHAR, n_params BIGINT, file_type VARCHAR, size_bytes BIGINT);
CREATE TABLE runs (
    id VARCHAR PRIMARY KEY, command VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, status VARCHAR NOT NULL,
    tags VARCHAR, git_commit VARCHAR, machine_id VARCHAR, build_id VARCHAR, pid BIGINT, boot_id VARCHAR,
    host VARCHAR, source VARCHAR, extra JSON);
CREATE TABLE samples (result_id VARCHAR NOT NULL, seq INTEGER NOT NULL, duration_ns BIGINT NOT NULL, n_tokens INTEGER);
CREATE TABLE failures (
    id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, machine_id VARCHAR, model_id VARCHAR, scenario VARCHAR,
    device VARCHAR, stage VARCHAR, reason VARCHAR, params JSON, created_at TIMESTAMP);
)sql";

// v2: the process start time, so a reused pid is not taken for a live run, and the named views.
constexpr const char* v2_sql = R"sql(
ALTER TABLE runs ADD COLUMN pid_start_ticks BIGINT;
CREATE VIEW latest_results AS
    SELECT * FROM results WHERE valid
    QUALIFY row_number() OVER (PARTITION BY coalesce(model_sha256, model_name), device, scenario,
                                            n_prompt, n_gen, n_depth
                               ORDER BY created_at DESC, id) = 1;
CREATE VIEW best_config AS
    SELECT * FROM results WHERE valid AND avg_ts IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY coalesce(model_sha256, model_name), scenario, n_prompt, n_gen, n_depth
                               ORDER BY avg_ts DESC, created_at DESC, id) = 1;
CREATE VIEW metric_history AS
    SELECT r.created_at, r.machine_id, coalesce(r.model_sha256, r.model_name) AS model, r.model_name, r.device,
           r.scenario, r.n_prompt, r.n_gen, r.n_batch, r.n_ubatch, r.n_threads, r.n_depth, r.type_k, r.type_v,
           r.flash_attn, r.avg_ts, r.stddev_ts, r.avg_ns, r.p50_ns, r.p99_ns, r.ttft_ns, r.run_id, r.id AS result_id,
           b.accel_version, b.llama_cpp_commit
    FROM results r LEFT JOIN builds b ON b.id = r.build_id
    WHERE r.valid ORDER BY r.created_at;
CREATE VIEW compatibility AS
    WITH points AS (
        SELECT coalesce(m.architecture, '') AS architecture, coalesce(m.family, '') AS family, r.device,
               coalesce(m.file_type, '') AS type, CASE WHEN r.valid THEN 'ok' ELSE 'invalid' END AS status, r.id
        FROM results r LEFT JOIN models m ON m.id = r.model_id
        UNION ALL
        SELECT coalesce(m.architecture, ''), coalesce(m.family, ''), f.device, coalesce(m.file_type, ''),
               'failed:' || coalesce(f.stage, ''), f.id
        FROM failures f LEFT JOIN models m ON m.id = f.model_id)
    SELECT architecture, family, device, type, status, count(*) AS n, list(id ORDER BY id) AS evidence
    FROM points GROUP BY ALL ORDER BY ALL;
)sql";

// v3: machine ids include each accelerator's model, memory and compute capability (core's fingerprint_id): every
// machine row with an inventory accel wrote moves to its new id, with the runs, results and failures naming it.
void v3_remap_machine_ids(Database& db) { remap_machine_ids(db); }

void v1_create_results(Database& db) { db.exec("CREATE TABLE results (" + result_columns_ddl() + ")"); }

struct Migration {
    const char* sql = "";
    void (*step)(Database&) = nullptr;  // what SQL alone cannot do, run after `sql`
};

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> m = {{v1_sql, v1_create_results}, {v2_sql}, {"", v3_remap_machine_ids}};
    return m;
}

}  // namespace

int schema_version(Database& db) {
    const auto t = db.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version'");
    if (t.rows.empty() || t.rows[0][0] != "1") return 0;
    const auto v = db.query("SELECT coalesce(max(version), 0) FROM schema_version");
    return std::stoi(v.rows.at(0).at(0).value_or("0"));
}

void apply_migrations(Database& db, int target) {
    const int have = schema_version(db);
    if (have > schema_version_latest) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("database {} has schema version {}, newer than this accel ({}); upgrade accel",
                                db.path().string(), have, schema_version_latest));
    }
    for (int v = have + 1; v <= target && v <= static_cast<int>(migrations().size()); ++v) {
        Transaction tx(db);
        try {
            if (v == 1) db.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)");
            const Migration& m = migrations()[static_cast<size_t>(v - 1)];
            if (*m.sql != '\0') db.exec(m.sql);
            if (m.step != nullptr) m.step(db);
            // Columns of the results table that this version added (result_columns.h).
            for (const auto& c : result_columns()) {
                if (v == 1 || c.since != v) continue;
                db.exec(fmt::format("ALTER TABLE results ADD COLUMN {} {}", c.name, c.sql_type));
            }
            db.exec(fmt::format("INSERT INTO schema_version VALUES ({}, now())", v));
        } catch (const Error& e) {
            throw Error(e.kind(),
                        fmt::format("cannot upgrade {} to schema version {}: {}", db.path().string(), v, e.what()));
        }
        tx.commit();
    }
}

void migrate(Database& db, int target) {
    apply_migrations(db, target);
}

}  // namespace accel::store
