#include "accel/store/importer.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/core/text.h"
#include "accel/store/result_columns.h"
#include "accel/store/uuid.h"
#include "process_identity.h"
#include "record_json.h"

namespace accel::store {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& why) {
    throw Error(ErrorKind::invalid_input, where + ": " + why);
}

// The state of one import: the run it creates and the machines, builds and models it has seen.
struct ImportContext {
    std::filesystem::path file;
    std::string content_hash;
    std::string format;
    RecordBatch batch;
    RunRecord run;
    std::map<std::string, bool> seen;

    ImportContext(const std::filesystem::path& f, const std::string& text, std::string fmt_name)
        : file(f), content_hash(sha256_hex(text)), format(std::move(fmt_name)) {
        run.id = uuid_from_name("run\n" + content_hash);
        run.command = "accel db import " + f.filename().string();
        run.status = RunStatus::complete;
        run.source = "import:" + format;
        run.tags = {"import", format};
        run.started_at_ns = now_ns();
        run.ended_at_ns = run.started_at_ns;
    }
    std::string row_id(size_t row) const { return uuid_from_name(fmt::format("result\n{}\n{}", content_hash, row)); }
    void add_machine(const MachineRecord& m) {
        if (seen.emplace("m:" + m.id, true).second) batch.machines.push_back(m);
    }
    void add_build(const BuildRecord& b) {
        if (seen.emplace("b:" + b.id, true).second) batch.builds.push_back(b);
    }
    void add_model(const ModelRecord& m) {
        if (seen.emplace("o:" + m.id, true).second) batch.models.push_back(m);
    }
    RecordBatch finish() {
        if (batch.results.empty() && batch.failures.empty()) bad(file.string(), "no results found");
        if (run.machine_id.empty() && !batch.machines.empty()) run.machine_id = batch.machines.front().id;
        if (run.build_id.empty() && !batch.builds.empty()) run.build_id = batch.builds.front().id;
        batch.runs.insert(batch.runs.begin(), run);
        return std::move(batch);
    }
};

// ---- llama-bench: one row of fields, whatever the output format ----

using Row = std::map<std::string, std::string>;  // field → value as llama-bench prints it (JSON values stringified)

int32_t int_field(const Row& r, const std::string& k, const std::string& where, bool required) {
    auto it = r.find(k);
    if (it == r.end() || it->second.empty()) {
        if (required) bad(where, "field '" + k + "': missing");
        return 0;
    }
    try {
        size_t used = 0;
        const long long v = std::stoll(it->second, &used);
        if (used != it->second.size()) throw std::invalid_argument("trailing");
        return static_cast<int32_t>(v);
    } catch (const std::exception&) {
        bad(where, "field '" + k + "': expected an integer, got '" + it->second + "'");
    }
}

std::optional<double> real_field(const Row& r, const std::string& k, const std::string& where, bool required) {
    auto it = r.find(k);
    if (it == r.end() || it->second.empty()) {
        if (required) bad(where, "field '" + k + "': missing");
        return std::nullopt;
    }
    try {
        size_t used = 0;
        const double v = std::stod(it->second, &used);
        if (used != it->second.size()) throw std::invalid_argument("trailing");
        return v;
    } catch (const std::exception&) {
        bad(where, "field '" + k + "': expected a number, got '" + it->second + "'");
    }
}

std::string str_field(const Row& r, const std::string& k) {
    auto it = r.find(k);
    return it == r.end() ? std::string() : it->second;
}

bool bool_field(const Row& r, const std::string& k) {
    const std::string v = lower(str_field(r, k));
    return v == "1" || v == "true";
}

// A llama-bench field kept in a results column of the same name (result_columns.h), or in the machine or build.
bool stored_elsewhere(const std::string& field) {
    if (field == "cpu_info" || field == "gpu_info" || field == "build_commit") return true;
    return std::any_of(result_columns().begin(), result_columns().end(),
                       [&](const ResultColumn& c) { return c.llama_bench && c.name == field; });
}

void add_llama_bench_row(ImportContext& ctx, const Row& row, const std::vector<int64_t>& samples_ns,
                         const std::string& where, size_t index) {
    MachineRecord m;
    m.cpu_model = str_field(row, "cpu_info");
    m.device_names = str_field(row, "gpu_info");
    m.id = sha256_hex("llama-bench\n" + m.cpu_model + "\n" + m.device_names).substr(0, 16);
    ctx.add_machine(m);
    BuildRecord b;
    b.tool = "llama-bench";
    b.llama_cpp_commit = str_field(row, "build_commit");
    b.accel_version = "";
    b.build_type = "build " + str_field(row, "build_number");
    b.backends = str_field(row, "backends");
    b.id = build_id(b);
    ctx.add_build(b);
    ModelRecord model;
    model.name = str_field(row, "model_filename");
    if (model.name.empty()) model.name = str_field(row, "model_type");
    model.path = str_field(row, "model_filename");
    model.file_type = str_field(row, "model_type");
    if (auto v = real_field(row, "model_size", where, false)) model.size_bytes = static_cast<int64_t>(*v);
    if (auto v = real_field(row, "model_n_params", where, false)) model.n_params = static_cast<int64_t>(*v);
    model.id = "name:" + model.name;
    ctx.add_model(model);

    ResultRecord r;
    r.id = ctx.row_id(index);
    r.run_id = ctx.run.id;
    r.machine_id = m.id;
    r.build_id = b.id;
    r.model_id = model.id;
    r.model_name = model.name;
    r.n_prompt = int_field(row, "n_prompt", where, true);
    r.n_gen = int_field(row, "n_gen", where, true);
    r.n_depth = int_field(row, "n_depth", where, false);
    r.scenario = *r.n_gen == 0 ? "pp" : (*r.n_prompt == 0 ? "tg" : "pg");
    r.n_batch = int_field(row, "n_batch", where, false);
    r.n_ubatch = int_field(row, "n_ubatch", where, false);
    r.n_threads = int_field(row, "n_threads", where, false);
    r.n_gpu_layers = int_field(row, "n_gpu_layers", where, false);
    r.type_k = str_field(row, "type_k");
    r.type_v = str_field(row, "type_v");
    r.flash_attn = bool_field(row, "flash_attn");
    const std::string devices = lower(str_field(row, "devices"));
    r.device = !devices.empty() && devices != "auto"
                   ? devices
                   : (*r.n_gpu_layers > 0 && !m.device_names.empty() ? lower(b.backends) : "cpu");
    r.avg_ts = real_field(row, "avg_ts", where, true);
    r.stddev_ts = real_field(row, "stddev_ts", where, false);
    r.avg_ns = real_field(row, "avg_ns", where, false);
    const int32_t n_tokens = *r.n_prompt + *r.n_gen;
    for (size_t i = 0; i < samples_ns.size(); ++i) {
        if (samples_ns[i] <= 0) bad(where, fmt::format("field 'samples_ns': sample {} is not positive", i));
        r.samples.push_back(
            SampleRecord{.seq = static_cast<int32_t>(i), .duration_ns = samples_ns[i], .n_tokens = n_tokens});
    }
    json extra = json::object();
    for (const auto& [k, v] : row) {
        if (!stored_elsewhere(k)) extra[k] = v;
    }
    r.extra_json = extra.dump();
    const auto t = str_field(row, "test_time");
    (void)t;  // kept in extra; created_at is the import time, test_time says when it was measured
    ctx.batch.results.push_back(std::move(r));
}

Row row_from_json(const json& j, const std::string& where) {
    if (!j.is_object()) bad(where, "expected a JSON object");
    Row row;
    for (const auto& [k, v] : j.items()) {
        if (k == "samples_ns" || k == "samples_ts") continue;
        if (v.is_string())
            row[k] = v.get<std::string>();
        else if (v.is_boolean())
            row[k] = v.get<bool>() ? "1" : "0";
        else if (v.is_number_integer())
            row[k] = std::to_string(v.get<int64_t>());
        else if (v.is_number())
            row[k] = fmt::format("{}", v.get<double>());
        else if (!v.is_null())
            row[k] = v.dump();
    }
    return row;
}

std::vector<int64_t> samples_from_json(const json& j, const std::string& where) {
    std::vector<int64_t> out;
    if (!j.contains("samples_ns")) return out;
    if (!j["samples_ns"].is_array()) bad(where, "field 'samples_ns': expected an array");
    for (const auto& v : j["samples_ns"]) {
        if (!v.is_number()) bad(where, "field 'samples_ns': expected numbers");
        out.push_back(v.get<int64_t>());
    }
    return out;
}

// RFC 4180 fields, as llama-bench's csv printer writes them (every value quoted, "" for a quote).
std::vector<std::string> csv_split(const std::string& line, const std::string& where) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cur += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.push_back(std::move(cur));
            cur.clear();
        } else if (c != '\r') {
            cur += c;
        }
    }
    if (quoted) bad(where, "unterminated quoted field");
    out.push_back(std::move(cur));
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

void parse_llama_bench_csv(ImportContext& ctx, const std::string& text) {
    const auto lines = lines_of(text);
    if (lines.empty()) bad(ctx.file.string(), "empty file");
    const auto header = csv_split(lines[0], ctx.file.string() + ":1");
    for (const char* need : {"n_prompt", "n_gen", "avg_ts"}) {
        if (std::find(header.begin(), header.end(), need) == header.end()) {
            bad(ctx.file.string() + ":1", std::string("header has no '") + need + "' column; not llama-bench CSV");
        }
    }
    for (size_t i = 1; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        const std::string where = fmt::format("{}:{}", ctx.file.string(), i + 1);
        const auto cells = csv_split(lines[i], where);
        if (cells.size() != header.size()) {
            bad(where, fmt::format("{} fields, the header has {}", cells.size(), header.size()));
        }
        Row row;
        for (size_t c = 0; c < cells.size(); ++c) row[header[c]] = cells[c];
        add_llama_bench_row(ctx, row, {}, where, i);
    }
}

// llama-bench's sql printer: a CREATE TABLE, then one INSERT INTO llama_bench (cols) VALUES ('v', ...); per line.
std::vector<std::string> sql_list(const std::string& s, size_t& pos, bool values, const std::string& where) {
    while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos >= s.size() || s[pos] != '(') bad(where, "expected '('");
    ++pos;
    std::vector<std::string> out;
    std::string cur;
    for (;;) {
        while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
        if (pos >= s.size()) bad(where, "unterminated list");
        if (values) {
            if (s[pos] != '\'') bad(where, "expected a quoted value");
            ++pos;
            cur.clear();
            for (;;) {
                if (pos >= s.size()) bad(where, "unterminated string");
                if (s[pos] == '\'' && pos + 1 < s.size() && s[pos + 1] == '\'') {
                    cur += '\'';
                    pos += 2;
                } else if (s[pos] == '\'') {
                    ++pos;
                    break;
                } else {
                    cur += s[pos++];
                }
            }
        } else {
            const size_t start = pos;
            while (pos < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_')) ++pos;
            if (pos == start) bad(where, "expected a column name");
            cur = s.substr(start, pos - start);
        }
        out.push_back(cur);
        while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
        if (pos < s.size() && s[pos] == ',') {
            ++pos;
            continue;
        }
        if (pos < s.size() && s[pos] == ')') {
            ++pos;
            return out;
        }
        bad(where, "expected ',' or ')'");
    }
}

void parse_llama_bench_sql(ImportContext& ctx, const std::string& text) {
    const auto lines = lines_of(text);
    bool in_create = false;
    size_t n = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        const std::string where = fmt::format("{}:{}", ctx.file.string(), i + 1);
        if (l.rfind("CREATE TABLE", 0) == 0) {
            in_create = true;
            continue;
        }
        if (in_create) {
            if (l.rfind(");", 0) == 0) in_create = false;
            continue;
        }
        if (l.find_first_not_of(" \t\r") == std::string::npos) continue;
        static const std::string prefix = "INSERT INTO llama_bench ";
        if (l.rfind(prefix, 0) != 0) bad(where, "expected 'INSERT INTO llama_bench (...) VALUES (...);'");
        size_t pos = prefix.size();
        const auto cols = sql_list(l, pos, false, where);
        while (pos < l.size() && l[pos] == ' ') ++pos;
        if (l.compare(pos, 6, "VALUES") != 0) bad(where, "expected VALUES");
        pos += 6;
        const auto vals = sql_list(l, pos, true, where);
        if (cols.size() != vals.size()) bad(where, fmt::format("{} columns but {} values", cols.size(), vals.size()));
        Row row;
        for (size_t c = 0; c < cols.size(); ++c) row[cols[c]] = vals[c];
        add_llama_bench_row(ctx, row, {}, where, ++n);
    }
}

// ---- optimum-benchmark ----

void add_optimum_report(ImportContext& ctx, const json& report, const json* config, const std::string& where) {
    if (!report.is_object()) bad(where, "field 'report': expected an object");
    std::string model_name, device = "unknown";
    std::optional<int32_t> batch_size, seq_len, new_tokens;
    json extra = json::object();
    MachineRecord m;
    if (config != nullptr) {
        const json& c = *config;
        if (c.contains("backend") && c["backend"].is_object()) {
            const json& b = c["backend"];
            if (b.contains("model") && b["model"].is_string()) model_name = b["model"].get<std::string>();
            if (b.contains("device") && b["device"].is_string()) device = lower(b["device"].get<std::string>());
            if (b.contains("device_ids") && b["device_ids"].is_string()) device += b["device_ids"].get<std::string>();
            extra["backend"] = b.value("name", "");
        }
        if (c.contains("scenario") && c["scenario"].is_object()) {
            const json& s = c["scenario"];
            if (s.contains("input_shapes") && s["input_shapes"].is_object()) {
                const json& in = s["input_shapes"];
                if (in.contains("batch_size") && in["batch_size"].is_number())
                    batch_size = in["batch_size"].get<int32_t>();
                if (in.contains("sequence_length") && in["sequence_length"].is_number())
                    seq_len = in["sequence_length"].get<int32_t>();
            }
            if (s.contains("generate_kwargs") && s["generate_kwargs"].is_object()) {
                const json& g = s["generate_kwargs"];
                if (g.contains("max_new_tokens") && g["max_new_tokens"].is_number())
                    new_tokens = g["max_new_tokens"].get<int32_t>();
            }
        }
        if (c.contains("environment") && c["environment"].is_object()) {
            const json& e = c["environment"];
            m.cpu_model = e.value("cpu", "");
            m.n_logical_cores = e.value("cpu_count", 0);
            m.memory_total_bytes =
                e.value("cpu_ram_mb", 0.0) > 0 ? static_cast<uint64_t>(e.value("cpu_ram_mb", 0.0) * 1e6) : 0;
            if (e.contains("gpu") && e["gpu"].is_array()) {
                for (const auto& g : e["gpu"]) {
                    if (g.is_string()) m.device_names += (m.device_names.empty() ? "" : ",") + g.get<std::string>();
                }
            }
            m.inventory_json = e.dump();
        }
    }
    if (batch_size) extra["batch_size"] = *batch_size;
    m.id = sha256_hex("optimum-benchmark\n" + m.cpu_model + "\n" + m.device_names).substr(0, 16);
    ctx.add_machine(m);
    BuildRecord b;
    b.tool = "optimum-benchmark";
    b.id = build_id(b);
    ctx.add_build(b);
    ModelRecord model;
    model.name = model_name.empty() ? "unknown" : model_name;
    model.id = "name:" + model.name;
    ctx.add_model(model);

    size_t index = 0;
    for (const auto& [section, body] : report.items()) {
        ++index;
        if (!body.is_object() || !body.contains("latency") || body["latency"].is_null()) continue;
        const std::string sw = where + ": report." + section + ".latency";
        const json& lat = body["latency"];
        if (!lat.is_object()) bad(sw, "expected an object");
        const std::string unit = lat.value("unit", "s");
        if (unit != "s") bad(sw, "field 'unit': expected 's', got '" + unit + "'");
        ResultRecord r;
        r.id = ctx.row_id(index);
        r.run_id = ctx.run.id;
        r.machine_id = m.id;
        r.build_id = b.id;
        r.model_id = model.id;
        r.model_name = model.name;
        r.scenario = section;
        r.device = device;
        r.n_prompt = seq_len;
        r.n_gen = new_tokens;
        const auto sec = [&](const char* k) -> std::optional<double> {
            if (!lat.contains(k) || lat[k].is_null()) return std::nullopt;
            if (!lat[k].is_number()) bad(sw, std::string("field '") + k + "': expected a number");
            return lat[k].get<double>() * 1e9;
        };
        r.avg_ns = sec("mean");
        r.p50_ns = sec("p50");
        r.p90_ns = sec("p90");
        r.p99_ns = sec("p99");
        if (lat.contains("values")) {
            if (!lat["values"].is_array()) bad(sw, "field 'values': expected an array");
            int32_t seq = 0;
            for (const auto& v : lat["values"]) {
                if (!v.is_number() || v.get<double>() <= 0) bad(sw, "field 'values': expected positive numbers");
                r.samples.push_back(SampleRecord{.seq = seq++,
                                                 .duration_ns = static_cast<int64_t>(v.get<double>() * 1e9),
                                                 .n_tokens = std::nullopt});
            }
        }
        if (body.contains("throughput") && body["throughput"].is_object()) {
            const json& t = body["throughput"];
            if (t.contains("value") && t["value"].is_number() &&
                t.value("unit", "").find("tokens/s") != std::string::npos) {
                r.avg_ts = t["value"].get<double>();
            }
            extra["throughput"] = t;
        }
        if (body.contains("memory") && !body["memory"].is_null()) extra["memory"] = body["memory"];
        if (body.contains("energy") && !body["energy"].is_null()) extra["energy"] = body["energy"];
        r.extra_json = extra.dump();
        ctx.batch.results.push_back(std::move(r));
        extra.erase("throughput");
        extra.erase("memory");
        extra.erase("energy");
    }
}

std::string read_all(const std::filesystem::path& file) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        throw Error(ErrorKind::invalid_input, file.string() + " is a folder; import takes files (an export folder "
                                                              "goes in with accel db merge)");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "cannot read " + file.string());
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

ParsedImport parse_import(const std::filesystem::path& file) {
    const std::string text = read_all(file);
    const std::string ext = lower(file.extension().string());
    const std::string name = file.string();
    if (ext == ".csv") {
        ImportContext ctx(file, text, "llama-bench-csv");
        parse_llama_bench_csv(ctx, text);
        return {ctx.format, ctx.finish()};
    }
    if (ext == ".sql") {
        ImportContext ctx(file, text, "llama-bench-sql");
        parse_llama_bench_sql(ctx, text);
        return {ctx.format, ctx.finish()};
    }
    if (ext == ".jsonl" || ext == ".ndjson") {
        const auto lines = lines_of(text);
        std::vector<std::pair<size_t, json>> docs;
        for (size_t i = 0; i < lines.size(); ++i) {
            if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
            auto j = json::parse(lines[i], nullptr, false);
            if (j.is_discarded()) bad(fmt::format("{}:{}", name, i + 1), "not valid JSON");
            docs.emplace_back(i + 1, std::move(j));
        }
        if (docs.empty()) bad(name, "empty file");
        if (docs.front().second.is_object() && docs.front().second.contains("kind")) {
            ParsedImport out{"accel-jsonl", {}};
            for (const auto& [ln, j] : docs) add_json_line(j, fmt::format("{}:{}", name, ln), out.batch);
            if (out.batch.results.empty() && out.batch.failures.empty()) bad(name, "no results found");
            return out;
        }
        ImportContext ctx(file, text, "llama-bench-jsonl");
        for (const auto& [ln, j] : docs) {
            const std::string where = fmt::format("{}:{}", name, ln);
            add_llama_bench_row(ctx, row_from_json(j, where), samples_from_json(j, where), where, ln);
        }
        return {ctx.format, ctx.finish()};
    }
    if (ext == ".json") {
        json j;
        try {
            j = json::parse(text);
        } catch (const json::parse_error& e) {
            // nlohmann reports a byte offset; turn it into a line number.
            const size_t at = std::min<size_t>(e.byte, text.size());
            const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
            bad(fmt::format("{}:{}", name, line), "not valid JSON");
        }
        if (j.is_array()) {
            ImportContext ctx(file, text, "llama-bench-json");
            for (size_t i = 0; i < j.size(); ++i) {
                const std::string where = fmt::format("{}: [{}]", name, i);
                add_llama_bench_row(ctx, row_from_json(j[i], where), samples_from_json(j[i], where), where, i);
            }
            return {ctx.format, ctx.finish()};
        }
        if (!j.is_object()) bad(name, "expected a JSON object or array");
        if (j.contains("schema_version") && (j.contains("results") || j.contains("runs"))) {
            ParsedImport out{"accel-json", {}};
            add_json_document(j, name, out.batch);
            if (out.batch.results.empty() && out.batch.failures.empty()) bad(name, "no results found");
            return out;
        }
        if (j.contains("report") && j.contains("config")) {
            ImportContext ctx(file, text, "optimum-benchmark");
            add_optimum_report(ctx, j["report"], &j["config"], name);
            return {ctx.format, ctx.finish()};
        }
        for (const char* k : {"prefill", "decode", "per_token", "forward", "load", "generate", "call"}) {
            if (j.contains(k)) {
                ImportContext ctx(file, text, "optimum-benchmark");
                add_optimum_report(ctx, j, nullptr, name);
                return {ctx.format, ctx.finish()};
            }
        }
        bad(name, "unrecognised JSON: not llama-bench output, an optimum-benchmark report or an accel export");
    }
    bad(name, "unknown format '" + ext + "': expected .json, .jsonl, .csv or .sql");
}

ImportReport import_file(Database& db, const std::filesystem::path& file) {
    ParsedImport p = parse_import(file);
    Transaction tx(db);
    const WriteCounts n = write_batch(db, p.batch);
    tx.commit();
    return {p.format, n};
}

}  // namespace accel::store
