#include "accel/store/record_batch.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "appender.h"
#include "machine_identity.h"
#include "process_identity.h"
#include "result_table.h"

namespace accel::store {
namespace {

std::string join_tags(const std::vector<std::string>& tags) {
    std::string out;
    for (const auto& t : tags) out += (out.empty() ? "" : ",") + t;
    return out;
}

// The subset of `ids` already in `table`, looked up in chunks so the SQL stays small.
std::set<std::string> existing_ids(Database& db, const char* table, const std::vector<std::string>& ids) {
    std::set<std::string> found;
    constexpr size_t chunk = 2000;
    for (size_t i = 0; i < ids.size(); i += chunk) {
        std::string list;
        for (size_t j = i; j < std::min(ids.size(), i + chunk); ++j) list += (j > i ? "," : "") + sql_quote(ids[j]);
        const auto r = db.query(fmt::format("SELECT id FROM {} WHERE id IN ({})", table, list));
        for (const auto& row : r.rows) found.insert(row[0].value_or(""));
    }
    return found;
}

template <class T>
std::vector<std::string> ids_of(const std::vector<T>& v) {
    std::vector<std::string> out;
    out.reserve(v.size());
    for (const auto& x : v) out.push_back(x.id);
    return out;
}

int64_t or_now(int64_t ns) {
    return ns != 0 ? ns : now_ns();
}

}  // namespace

std::string_view to_string(RunStatus s) {
    switch (s) {
        case RunStatus::running:
            return "running";
        case RunStatus::complete:
            return "complete";
        case RunStatus::failed:
            return "failed";
        case RunStatus::interrupted:
            return "interrupted";
    }
    return "running";
}

std::optional<RunStatus> parse_run_status(std::string_view text) {
    for (auto s : {RunStatus::running, RunStatus::complete, RunStatus::failed, RunStatus::interrupted}) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

std::string build_id(const BuildRecord& b) {
    return sha256_hex(fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}", b.tool, b.accel_version, b.git_commit,
                                  b.llama_cpp_commit, b.compiler, b.build_type, b.cxx_flags, b.backends))
        .substr(0, 16);
}

bool RecordBatch::empty() const {
    return machines.empty() && builds.empty() && models.empty() && runs.empty() && results.empty() &&
           failures.empty() && ends.empty();
}

WriteCounts& WriteCounts::operator+=(const WriteCounts& o) {
    machines += o.machines;
    builds += o.builds;
    models += o.models;
    runs += o.runs;
    results += o.results;
    samples += o.samples;
    failures += o.failures;
    skipped_results += o.skipped_results;
    return *this;
}

namespace {

// Every result, failure and run end names a run that exists or comes with the batch.
void check_run_references(Database& db, const RecordBatch& batch) {
    std::set<std::string> runs_here;
    for (const auto& r : batch.runs) {
        if (r.id.empty()) throw Error(ErrorKind::invalid_input, "a run record has no id");
        runs_here.insert(r.id);
    }
    std::set<std::string> wanted;
    const auto want = [&](const std::string& run_id) {
        if (!runs_here.count(run_id)) wanted.insert(run_id);
    };
    for (const auto& r : batch.results) want(r.run_id);
    for (const auto& f : batch.failures) want(f.run_id);
    for (const auto& e : batch.ends) want(e.run_id);
    if (wanted.empty()) return;
    const auto have = existing_ids(db, "runs", {wanted.begin(), wanted.end()});
    for (const auto& id : wanted) {
        if (!have.count(id)) throw Error(ErrorKind::invalid_input, "unknown run id '" + id + "'");
    }
}

int64_t write_machines(Database& db, const std::vector<MachineRecord>& machines) {
    // A machine already stored must be the same machine: one id with two descriptions is refused.
    std::map<std::string, MachineRecord> have;
    for (auto& m : read_machines(db, "machines", ids_of(machines))) have.emplace(m.id, std::move(m));
    for (const auto& m : machines) {
        const auto it = have.find(m.id);
        if (it != have.end()) check_same_machine(it->second, m, "the records being written");
    }
    Appender a(db, "machines");
    std::set<std::string> done;
    int64_t n = 0;
    for (const auto& m : machines) {
        if (have.count(m.id) || !done.insert(m.id).second) continue;
        a.text(m.id).text(m.cpu_model).i32(m.n_logical_cores).u64(m.memory_total_bytes).text(m.device_names);
        a.text(m.hostname).text(m.inventory_json).timestamp_ns(now_ns()).end_row();
        ++n;
    }
    a.close();
    return n;
}

// Appends the records whose id is not stored yet, once each, with `row` (which ends the row); returns how many.
template <class T, class RowFn>
int64_t append_new(Database& db, const char* table, const std::vector<T>& records, RowFn row) {
    const auto have = existing_ids(db, table, ids_of(records));
    Appender a(db, table);
    std::set<std::string> done;
    int64_t n = 0;
    for (const auto& x : records) {
        if (have.count(x.id) || !done.insert(x.id).second) continue;
        row(a, x);
        ++n;
    }
    a.close();
    return n;
}

int64_t write_builds(Database& db, std::vector<BuildRecord> builds) {
    for (auto& b : builds) {
        if (b.id.empty()) b.id = build_id(b);
    }
    return append_new(db, "builds", builds, [](Appender& a, const BuildRecord& b) {
        a.text(b.id).text(b.tool).text(b.accel_version).text(b.git_commit).text(b.llama_cpp_commit);
        a.text(b.compiler).text(b.build_type).text(b.cxx_flags).text(b.backends).end_row();
    });
}

int64_t write_models(Database& db, const std::vector<ModelRecord>& models) {
    for (const auto& m : models) {
        if (m.id.empty()) throw Error(ErrorKind::invalid_input, "a model record has no id");
    }
    return append_new(db, "models", models, [](Appender& a, const ModelRecord& m) {
        a.text(m.id).opt_text(m.sha256).text(m.path).text(m.name).text(m.architecture).text(m.family);
        a.text(m.subfamily).i64(m.n_params).text(m.file_type).i64(m.size_bytes).end_row();
    });
}

int64_t write_runs(Database& db, const std::vector<RunRecord>& runs) {
    return append_new(db, "runs", runs, [](Appender& a, const RunRecord& r) {
        a.text(r.id).text(r.command).timestamp_ns(or_now(r.started_at_ns)).timestamp_ns(r.ended_at_ns);
        a.text(to_string(r.status)).text(join_tags(r.tags)).nullable_text(r.git_commit);
        a.nullable_text(r.machine_id).nullable_text(r.build_id).i64(r.pid).nullable_text(r.boot_id);
        a.nullable_text(r.host).text(r.source).text(r.extra_json);
        a.i64(r.pid == this_process().pid ? this_process().start_ticks : std::nullopt).end_row();
    });
}

// Results through the column table (result_columns.h), each with its samples.
void write_results(Database& db, const RecordBatch& batch, WriteCounts& n) {
    std::set<std::string> have;
    if (!batch.fresh_ids) have = existing_ids(db, "results", ids_of(batch.results));
    Appender a(db, "results");
    Appender s(db, "samples");
    for (const auto& r : batch.results) {
        if (r.id.empty()) throw Error(ErrorKind::invalid_input, "a result record has no id");
        if (have.count(r.id)) {
            ++n.skipped_results;
            continue;
        }
        append_result(a, r);
        ++n.results;
        for (const auto& x : r.samples) {
            s.text(r.id).i32(x.seq).i64(x.duration_ns).i32(x.n_tokens).end_row();
            ++n.samples;
        }
    }
    a.close();
    s.close();
}

int64_t write_failures(Database& db, const RecordBatch& batch) {
    std::set<std::string> have;
    if (!batch.fresh_ids) have = existing_ids(db, "failures", ids_of(batch.failures));
    Appender a(db, "failures");
    int64_t n = 0;
    for (const auto& f : batch.failures) {
        if (f.id.empty()) throw Error(ErrorKind::invalid_input, "a failure record has no id");
        if (have.count(f.id)) continue;
        a.text(f.id).text(f.run_id).nullable_text(f.machine_id).nullable_text(f.model_id).text(f.scenario);
        a.text(f.device).text(f.stage).text(f.reason).text(f.params_json).timestamp_ns(or_now(f.created_at_ns));
        a.end_row();
        ++n;
    }
    a.close();
    return n;
}

void write_run_ends(Database& db, const std::vector<RunEnd>& ends) {
    for (const auto& e : ends) {
        db.exec(fmt::format("UPDATE runs SET status = {}, ended_at = make_timestamp({}) WHERE id = {}",
                            sql_quote(to_string(e.status)), or_now(e.ended_at_ns) / 1000, sql_quote(e.run_id)));
    }
}

}  // namespace

WriteCounts write_batch(Database& db, const RecordBatch& batch) {
    WriteCounts n;
    // Records from an older accel (a spool file, an export) name their machine by its old id: before the
    // references are checked and again once the batch's machines are stored.
    if (!batch.machines.empty()) remap_machine_ids(db, ids_of(batch.machines));
    check_run_references(db, batch);
    if (!batch.machines.empty()) n.machines = write_machines(db, batch.machines);
    if (!batch.builds.empty()) n.builds = write_builds(db, batch.builds);
    if (!batch.models.empty()) n.models = write_models(db, batch.models);
    if (!batch.runs.empty()) n.runs = write_runs(db, batch.runs);
    if (!batch.results.empty()) write_results(db, batch, n);
    if (!batch.failures.empty()) n.failures = write_failures(db, batch);
    if (!batch.machines.empty()) remap_machine_ids(db, ids_of(batch.machines));
    write_run_ends(db, batch.ends);
    return n;
}

}  // namespace accel::store
