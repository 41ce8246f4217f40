#include "record_json.h"

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/store/result_columns.h"

namespace accel::store {
namespace {

using nlohmann::json;

template <class T>
void put(json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
}

json to_json(const MachineRecord& m) {
    return {{"id", m.id},
            {"cpu_model", m.cpu_model},
            {"n_logical_cores", m.n_logical_cores},
            {"memory_total_bytes", m.memory_total_bytes},
            {"device_names", m.device_names},
            {"hostname", m.hostname},
            {"inventory", json::parse(m.inventory_json, nullptr, false)}};
}

json to_json(const BuildRecord& b) {
    return {{"id", b.id.empty() ? build_id(b) : b.id},
            {"tool", b.tool},
            {"accel_version", b.accel_version},
            {"git_commit", b.git_commit},
            {"llama_cpp_commit", b.llama_cpp_commit},
            {"compiler", b.compiler},
            {"build_type", b.build_type},
            {"cxx_flags", b.cxx_flags},
            {"backends", b.backends}};
}

json to_json(const ModelRecord& m) {
    json j = {
        {"id", m.id},         {"path", m.path},           {"name", m.name},          {"architecture", m.architecture},
        {"family", m.family}, {"subfamily", m.subfamily}, {"file_type", m.file_type}};
    put(j, "sha256", m.sha256);
    put(j, "n_params", m.n_params);
    put(j, "size_bytes", m.size_bytes);
    return j;
}

json to_json(const RunRecord& r) {
    json j = {{"id", r.id},
              {"command", r.command},
              {"started_at_ns", r.started_at_ns},
              {"status", std::string(to_string(r.status))},
              {"tags", r.tags},
              {"git_commit", r.git_commit},
              {"machine_id", r.machine_id},
              {"build_id", r.build_id},
              {"pid", r.pid},
              {"boot_id", r.boot_id},
              {"host", r.host},
              {"source", r.source},
              {"extra", json::parse(r.extra_json, nullptr, false)}};
    put(j, "ended_at_ns", r.ended_at_ns);
    return j;
}

// Every column (result_columns.h) under its key: text always, optional values when set; then the samples.
json to_json(const ResultRecord& r) {
    json j = json::object();
    for (const auto& c : result_columns()) {
        const std::string key(c.key());
        std::visit(Overload{
                       [&](std::string ResultRecord::*f) { j[key] = r.*f; },
                       [&](bool ResultRecord::*f) { j[key] = r.*f; },
                       [&](TimestampNs t) { j[key] = r.*t.field; },
                       [&](JsonText t) { j[key] = json::parse(r.*t.field, nullptr, false); },
                       [](SampleCount) {},
                       [&](auto f) { put(j, key.c_str(), r.*f); },
                   },
                   c.field);
    }
    json s = json::array();
    for (const auto& x : r.samples) {
        json e = {{"seq", x.seq}, {"duration_ns", x.duration_ns}};
        put(e, "n_tokens", x.n_tokens);
        s.push_back(std::move(e));
    }
    j["samples"] = std::move(s);
    return j;
}

json to_json(const FailureRecord& f) {
    return {{"id", f.id},
            {"run_id", f.run_id},
            {"machine_id", f.machine_id},
            {"model_id", f.model_id},
            {"scenario", f.scenario},
            {"device", f.device},
            {"stage", f.stage},
            {"reason", f.reason},
            {"params", json::parse(f.params_json, nullptr, false)},
            {"created_at_ns", f.created_at_ns}};
}

json to_json(const RunEnd& e) {
    return {{"run_id", e.run_id}, {"status", std::string(to_string(e.status))}, {"ended_at_ns", e.ended_at_ns}};
}

// Field readers that name the field and where it came from.
class Reader {
public:
    Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {
        if (!j_.is_object()) fail("", "expected a JSON object");
    }
    [[noreturn]] void fail(const std::string& field, const std::string& why) const {
        throw Error(ErrorKind::invalid_input, field.empty() ? fmt::format("{}: {}", where_, why)
                                                            : fmt::format("{}: field '{}': {}", where_, field, why));
    }
    std::string str(const char* k, bool required = false) const {
        if (!j_.contains(k) || j_[k].is_null()) {
            if (required) fail(k, "missing");
            return {};
        }
        if (!j_[k].is_string()) fail(k, "expected a string");
        return j_[k].get<std::string>();
    }
    std::optional<std::string> opt_str(const char* k) const {
        if (!j_.contains(k) || j_[k].is_null()) return std::nullopt;
        return str(k);
    }
    template <class T>
    std::optional<T> num(const char* k) const {
        if (!j_.contains(k) || j_[k].is_null()) return std::nullopt;
        if (!j_[k].is_number()) fail(k, "expected a number");
        return j_[k].get<T>();
    }
    template <class T>
    T num_or(const char* k, T dflt) const {
        return num<T>(k).value_or(dflt);
    }
    std::optional<bool> opt_bool(const char* k) const {
        if (!j_.contains(k) || j_[k].is_null()) return std::nullopt;
        if (!j_[k].is_boolean()) fail(k, "expected true or false");
        return j_[k].get<bool>();
    }
    std::string json_text(const char* k) const {
        if (!j_.contains(k) || j_[k].is_null()) return "{}";
        return j_[k].dump();
    }
    const json& raw() const { return j_; }
    const std::string& where() const { return where_; }

private:
    const json& j_;
    std::string where_;
};

MachineRecord machine_from(const Reader& r) {
    MachineRecord m;
    m.id = r.str("id", true);
    m.cpu_model = r.str("cpu_model");
    m.n_logical_cores = r.num_or<int32_t>("n_logical_cores", 0);
    m.memory_total_bytes = r.num_or<uint64_t>("memory_total_bytes", 0);
    m.device_names = r.str("device_names");
    m.hostname = r.str("hostname");
    m.inventory_json = r.json_text("inventory");
    return m;
}

BuildRecord build_from(const Reader& r) {
    BuildRecord b;
    b.id = r.str("id");
    b.tool = r.str("tool");
    b.accel_version = r.str("accel_version");
    b.git_commit = r.str("git_commit");
    b.llama_cpp_commit = r.str("llama_cpp_commit");
    b.compiler = r.str("compiler");
    b.build_type = r.str("build_type");
    b.cxx_flags = r.str("cxx_flags");
    b.backends = r.str("backends");
    return b;
}

ModelRecord model_from(const Reader& r) {
    ModelRecord m;
    m.id = r.str("id", true);
    m.sha256 = r.opt_str("sha256");
    m.path = r.str("path");
    m.name = r.str("name");
    m.architecture = r.str("architecture");
    m.family = r.str("family");
    m.subfamily = r.str("subfamily");
    m.n_params = r.num<int64_t>("n_params");
    m.file_type = r.str("file_type");
    m.size_bytes = r.num<int64_t>("size_bytes");
    return m;
}

RunStatus status_from(const Reader& r) {
    const auto s = parse_run_status(r.str("status", true));
    if (!s) r.fail("status", "expected running, complete, failed or interrupted");
    return *s;
}

RunRecord run_from(const Reader& r) {
    RunRecord x;
    x.id = r.str("id", true);
    x.command = r.str("command");
    x.started_at_ns = r.num_or<int64_t>("started_at_ns", 0);
    x.ended_at_ns = r.num<int64_t>("ended_at_ns");
    x.status = status_from(r);
    if (r.raw().contains("tags")) {
        if (!r.raw()["tags"].is_array()) r.fail("tags", "expected an array of strings");
        for (const auto& t : r.raw()["tags"]) {
            if (!t.is_string()) r.fail("tags", "expected an array of strings");
            x.tags.push_back(t.get<std::string>());
        }
    }
    x.git_commit = r.str("git_commit");
    x.machine_id = r.str("machine_id");
    x.build_id = r.str("build_id");
    x.pid = r.num_or<int64_t>("pid", 0);
    x.boot_id = r.str("boot_id");
    x.host = r.str("host");
    x.source = r.str("source");
    if (x.source.empty()) x.source = "accel";
    x.extra_json = r.json_text("extra");
    return x;
}

ResultRecord result_from(const Reader& r) {
    ResultRecord x;
    for (const auto& c : result_columns()) {
        const std::string key(c.key());
        const char* k = key.c_str();
        std::visit(Overload{
                       [&](std::string ResultRecord::*f) { x.*f = r.str(k, c.json_required); },
                       [&](std::optional<std::string> ResultRecord::*f) { x.*f = r.opt_str(k); },
                       [&](std::optional<int32_t> ResultRecord::*f) { x.*f = r.num<int32_t>(k); },
                       [&](std::optional<double> ResultRecord::*f) { x.*f = r.num<double>(k); },
                       [&](std::optional<bool> ResultRecord::*f) { x.*f = r.opt_bool(k); },
                       [&](bool ResultRecord::*f) { x.*f = r.opt_bool(k).value_or(x.*f); },
                       [&](TimestampNs t) { x.*t.field = r.num_or<int64_t>(k, 0); },
                       [&](JsonText t) { x.*t.field = r.json_text(k); },
                       [](SampleCount) {},
                   },
                   c.field);
    }
    if (r.raw().contains("samples")) {
        const auto& s = r.raw()["samples"];
        if (!s.is_array()) r.fail("samples", "expected an array");
        for (size_t i = 0; i < s.size(); ++i) {
            Reader e(s[i], fmt::format("{}: samples[{}]", r.where(), i));
            SampleRecord sr;
            sr.seq = e.num_or<int32_t>("seq", static_cast<int32_t>(i));
            const auto d = e.num<int64_t>("duration_ns");
            if (!d || *d <= 0) e.fail("duration_ns", "expected a positive number");
            sr.duration_ns = *d;
            sr.n_tokens = e.num<int32_t>("n_tokens");
            x.samples.push_back(sr);
        }
    }
    return x;
}

FailureRecord failure_from(const Reader& r) {
    FailureRecord f;
    f.id = r.str("id", true);
    f.run_id = r.str("run_id", true);
    f.machine_id = r.str("machine_id");
    f.model_id = r.str("model_id");
    f.scenario = r.str("scenario");
    f.device = r.str("device");
    f.stage = r.str("stage");
    f.reason = r.str("reason", true);
    f.params_json = r.json_text("params");
    f.created_at_ns = r.num_or<int64_t>("created_at_ns", 0);
    return f;
}

RunEnd end_from(const Reader& r) {
    return RunEnd{
        .run_id = r.str("run_id", true), .status = status_from(r), .ended_at_ns = r.num_or<int64_t>("ended_at_ns", 0)};
}

void check_version(const Reader& r) {
    const auto v = r.num<int>("schema_version");
    if (!v) r.fail("schema_version", "missing");
    if (*v != json_schema_version) r.fail("schema_version", fmt::format("unsupported version {}", *v));
}

template <class T, class F>
void read_array(const Reader& doc, const char* key, std::vector<T>& out, F from) {
    if (!doc.raw().contains(key)) return;
    const auto& a = doc.raw()[key];
    if (!a.is_array()) doc.fail(key, "expected an array");
    for (size_t i = 0; i < a.size(); ++i)
        out.push_back(from(Reader(a[i], fmt::format("{}: {}[{}]", doc.where(), key, i))));
}

}  // namespace

std::string batch_to_jsonl(const RecordBatch& b) {
    std::string out;
    const auto line = [&](const char* kind, json body) {
        json j = {{"schema_version", json_schema_version}, {"kind", kind}};
        j.update(body);
        out += j.dump() + '\n';
    };
    for (const auto& x : b.machines) line("machine", to_json(x));
    for (const auto& x : b.builds) line("build", to_json(x));
    for (const auto& x : b.models) line("model", to_json(x));
    for (const auto& x : b.runs) line("run", to_json(x));
    for (const auto& x : b.results) line("result", to_json(x));
    for (const auto& x : b.failures) line("failure", to_json(x));
    for (const auto& x : b.ends) line("end", to_json(x));
    return out;
}

json batch_to_json(const RecordBatch& b) {
    json j = {{"schema_version", json_schema_version}};
    const auto arr = [](const auto& v) {
        json a = json::array();
        for (const auto& x : v) a.push_back(to_json(x));
        return a;
    };
    j["machines"] = arr(b.machines);
    j["builds"] = arr(b.builds);
    j["models"] = arr(b.models);
    j["runs"] = arr(b.runs);
    j["results"] = arr(b.results);
    j["failures"] = arr(b.failures);
    j["ends"] = arr(b.ends);
    return j;
}

void add_json_line(const json& line, const std::string& where, RecordBatch& batch) {
    const Reader r(line, where);
    check_version(r);
    const std::string kind = r.str("kind", true);
    if (kind == "machine")
        batch.machines.push_back(machine_from(r));
    else if (kind == "build")
        batch.builds.push_back(build_from(r));
    else if (kind == "model")
        batch.models.push_back(model_from(r));
    else if (kind == "run")
        batch.runs.push_back(run_from(r));
    else if (kind == "result")
        batch.results.push_back(result_from(r));
    else if (kind == "failure")
        batch.failures.push_back(failure_from(r));
    else if (kind == "end")
        batch.ends.push_back(end_from(r));
    else
        r.fail("kind", "unknown kind '" + kind + "'");
}

void add_json_document(const json& doc, const std::string& where, RecordBatch& batch) {
    const Reader r(doc, where);
    check_version(r);
    read_array(r, "machines", batch.machines, machine_from);
    read_array(r, "builds", batch.builds, build_from);
    read_array(r, "models", batch.models, model_from);
    read_array(r, "runs", batch.runs, run_from);
    read_array(r, "results", batch.results, result_from);
    read_array(r, "failures", batch.failures, failure_from);
    read_array(r, "ends", batch.ends, end_from);
}

}  // namespace accel::store
