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

WriteCounts write_batch(Database& db, const RecordBatch& batch) {
    WriteCounts n;
    // References first: every result, failure and run end names a run that exists or comes with the batch.
    std::set<std::string> runs_here;
    for (const auto& r : batch.runs) {
        if (r.id.empty()) throw Error(ErrorKind::invalid_input, "a run record has no id");
        runs_here.insert(r.id);
    }
    std::set<std::string> wanted;
    for (const auto& r : batch.results) {
        if (!runs_here.count(r.run_id)) wanted.insert(r.run_id);
    }
    for (const auto& f : batch.failures) {
        if (!runs_here.count(f.run_id)) wanted.insert(f.run_id);
    }
    // Records from an older accel (a spool file, an export) name their machine by its old id.
    if (!batch.machines.empty()) remap_machine_ids(db, ids_of(batch.machines));
    for (const auto& e : batch.ends) {
        if (!runs_here.count(e.run_id)) wanted.insert(e.run_id);
    }
    if (!wanted.empty()) {
        const auto have = existing_ids(db, "runs", {wanted.begin(), wanted.end()});
        for (const auto& id : wanted) {
            if (!have.count(id)) throw Error(ErrorKind::invalid_input, "unknown run id '" + id + "'");
        }
    }

    if (!batch.machines.empty()) {
        // A machine already stored must be the same machine: one id with two descriptions is refused.
        std::map<std::string, MachineRecord> have;
        for (auto& m : read_machines(db, "machines", ids_of(batch.machines))) have.emplace(m.id, std::move(m));
        for (const auto& m : batch.machines) {
            if (const auto it = have.find(m.id); it != have.end()) check_same_machine(it->second, m, "the records being written");
        }
        Appender a(db, "machines");
        std::set<std::string> done;
        for (const auto& m : batch.machines) {
            if (have.count(m.id) || !done.insert(m.id).second) continue;
            a.text(m.id).text(m.cpu_model).i32(m.n_logical_cores).u64(m.memory_total_bytes).text(m.device_names);
            a.text(m.hostname).text(m.inventory_json).timestamp_ns(now_ns()).end_row();
            ++n.machines;
        }
        a.close();
    }
    if (!batch.builds.empty()) {
        std::vector<BuildRecord> builds = batch.builds;
        for (auto& b : builds) {
            if (b.id.empty()) b.id = build_id(b);
        }
        const auto have = existing_ids(db, "builds", ids_of(builds));
        Appender a(db, "builds");
        std::set<std::string> done;
        for (const auto& b : builds) {
            if (have.count(b.id) || !done.insert(b.id).second) continue;
            a.text(b.id).text(b.tool).text(b.accel_version).text(b.git_commit).text(b.llama_cpp_commit);
            a.text(b.compiler).text(b.build_type).text(b.cxx_flags).text(b.backends).end_row();
            ++n.builds;
        }
        a.close();
    }
    if (!batch.models.empty()) {
        const auto have = existing_ids(db, "models", ids_of(batch.models));
        Appender a(db, "models");
        std::set<std::string> done;
        for (const auto& m : batch.models) {
            if (m.id.empty()) throw Error(ErrorKind::invalid_input, "a model record has no id");
            if (have.count(m.id) || !done.insert(m.id).second) continue;
            a.text(m.id).opt_text(m.sha256).text(m.path).text(m.name).text(m.architecture).text(m.family);
            a.text(m.subfamily).i64(m.n_params).text(m.file_type).i64(m.size_bytes).end_row();
            ++n.models;
        }
        a.close();
    }
    if (!batch.runs.empty()) {
        const auto have = existing_ids(db, "runs", ids_of(batch.runs));
        Appender a(db, "runs");
        for (const auto& r : batch.runs) {
            if (have.count(r.id)) continue;
            a.text(r.id).text(r.command).timestamp_ns(or_now(r.started_at_ns)).timestamp_ns(r.ended_at_ns);
            a.text(to_string(r.status)).text(join_tags(r.tags)).nullable_text(r.git_commit);
            a.nullable_text(r.machine_id).nullable_text(r.build_id).i64(r.pid).nullable_text(r.boot_id);
            a.nullable_text(r.host).text(r.source).text(r.extra_json);
            a.i64(r.pid == this_process().pid ? this_process().start_ticks : std::nullopt).end_row();
            ++n.runs;
        }
        a.close();
    }
    if (!batch.results.empty()) {
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
            a.text(r.id).text(r.run_id).nullable_text(r.machine_id).nullable_text(r.build_id);
            a.nullable_text(r.model_id).opt_text(r.model_sha256).nullable_text(r.model_name).text(r.scenario);
            a.text(r.device).i32(r.n_prompt).i32(r.n_gen).i32(r.n_batch).i32(r.n_ubatch).i32(r.n_threads);
            a.i32(r.n_gpu_layers).i32(r.n_depth).nullable_text(r.type_k).nullable_text(r.type_v).boolean(r.flash_attn);
            a.f64(r.avg_ts).f64(r.stddev_ts).f64(r.avg_ns).f64(r.p50_ns).f64(r.p90_ns).f64(r.p99_ns).f64(r.ttft_ns);
            a.i32(static_cast<int32_t>(r.samples.size())).boolean(r.valid).timestamp_ns(or_now(r.created_at_ns));
            a.text(r.extra_json).end_row();
            ++n.results;
            for (const auto& x : r.samples) {
                s.text(r.id).i32(x.seq).i64(x.duration_ns).i32(x.n_tokens).end_row();
                ++n.samples;
            }
        }
        a.close();
        s.close();
    }
    if (!batch.failures.empty()) {
        std::set<std::string> have;
        if (!batch.fresh_ids) have = existing_ids(db, "failures", ids_of(batch.failures));
        Appender a(db, "failures");
        for (const auto& f : batch.failures) {
            if (f.id.empty()) throw Error(ErrorKind::invalid_input, "a failure record has no id");
            if (have.count(f.id)) continue;
            a.text(f.id).text(f.run_id).nullable_text(f.machine_id).nullable_text(f.model_id).text(f.scenario);
            a.text(f.device).text(f.stage).text(f.reason).text(f.params_json).timestamp_ns(or_now(f.created_at_ns));
            a.end_row();
            ++n.failures;
        }
        a.close();
    }
    // Records from an older accel (a spool file, an export) name their machine by its old id.
    if (!batch.machines.empty()) remap_machine_ids(db, ids_of(batch.machines));
    for (const auto& e : batch.ends) {
        db.exec(fmt::format("UPDATE runs SET status = {}, ended_at = make_timestamp({}) WHERE id = {}",
                            sql_quote(to_string(e.status)), or_now(e.ended_at_ns) / 1000, sql_quote(e.run_id)));
    }
    return n;
}

}  // namespace accel::store
