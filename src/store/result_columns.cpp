// The results table, column by column (result_columns.h), and everything derived from it: DDL, appender row,
// SELECT list and row reader.
#include "accel/store/result_columns.h"

#include <algorithm>
#include <charconv>
#include <map>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "process_identity.h"
#include "result_table.h"

namespace accel::store {
namespace {

using R = ResultRecord;

ResultColumn shape(ResultColumn c, std::string_view label, int rank) {
    c.shape_label = label;
    c.shape_rank = rank;
    c.llama_bench = true;
    return c;
}

ResultColumn llama_bench(ResultColumn c) {
    c.llama_bench = true;
    return c;
}

template <class T>
T parse_number(std::string_view column, const std::string& text) {
    T v{};
    if constexpr (std::is_floating_point_v<T>) {
        try {
            size_t used = 0;
            v = static_cast<T>(std::stod(text, &used));
            if (used == text.size()) return v;
        } catch (const std::exception&) {  // reported below
        }
    } else {
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc() && end == text.data() + text.size()) return v;
    }
    throw Error(ErrorKind::internal, fmt::format("results.{}: '{}' is not a number", column, text));
}

bool parse_bool(const std::string& text) { return text == "true" || text == "1"; }

}  // namespace

const std::vector<ResultColumn>& result_columns() {
    static const std::vector<ResultColumn> columns = {
        {.name = "id", .sql_type = "VARCHAR", .field = &R::id, .not_null = true, .json_required = true},
        {.name = "run_id", .sql_type = "VARCHAR", .field = &R::run_id, .not_null = true, .json_required = true},
        {.name = "machine_id", .sql_type = "VARCHAR", .field = &R::machine_id, .empty_is_null = true},
        {.name = "build_id", .sql_type = "VARCHAR", .field = &R::build_id, .empty_is_null = true},
        {.name = "model_id", .sql_type = "VARCHAR", .field = &R::model_id, .empty_is_null = true},
        {.name = "model_sha256", .sql_type = "VARCHAR", .field = &R::model_sha256},
        {.name = "model_name", .sql_type = "VARCHAR", .field = &R::model_name, .empty_is_null = true},
        {.name = "scenario", .sql_type = "VARCHAR", .field = &R::scenario, .json_required = true},
        {.name = "device", .sql_type = "VARCHAR", .field = &R::device},
        shape({.name = "n_prompt", .sql_type = "INTEGER", .field = &R::n_prompt}, "p", 1),
        shape({.name = "n_gen", .sql_type = "INTEGER", .field = &R::n_gen}, "n", 2),
        shape({.name = "n_batch", .sql_type = "INTEGER", .field = &R::n_batch}, "b", 4),
        shape({.name = "n_ubatch", .sql_type = "INTEGER", .field = &R::n_ubatch}, "ub", 5),
        shape({.name = "n_threads", .sql_type = "INTEGER", .field = &R::n_threads}, "t", 6),
        shape({.name = "n_gpu_layers", .sql_type = "INTEGER", .field = &R::n_gpu_layers}, "ngl", 7),
        shape({.name = "n_depth", .sql_type = "INTEGER", .field = &R::n_depth}, "d", 3),
        shape({.name = "type_k", .sql_type = "VARCHAR", .field = &R::type_k, .empty_is_null = true}, "ctk", 8),
        shape({.name = "type_v", .sql_type = "VARCHAR", .field = &R::type_v, .empty_is_null = true}, "ctv", 9),
        shape({.name = "flash_attn", .sql_type = "BOOLEAN", .field = &R::flash_attn}, "fa", 10),
        llama_bench({.name = "avg_ts", .sql_type = "DOUBLE", .field = &R::avg_ts}),
        llama_bench({.name = "stddev_ts", .sql_type = "DOUBLE", .field = &R::stddev_ts}),
        llama_bench({.name = "avg_ns", .sql_type = "DOUBLE", .field = &R::avg_ns}),
        {.name = "p50_ns", .sql_type = "DOUBLE", .field = &R::p50_ns},
        {.name = "p90_ns", .sql_type = "DOUBLE", .field = &R::p90_ns},
        {.name = "p99_ns", .sql_type = "DOUBLE", .field = &R::p99_ns},
        {.name = "ttft_ns", .sql_type = "DOUBLE", .field = &R::ttft_ns},
        {.name = "n_samples", .sql_type = "INTEGER", .field = SampleCount{}},
        {.name = "valid", .sql_type = "BOOLEAN", .field = &R::valid, .not_null = true},
        {.name = "created_at", .sql_type = "TIMESTAMP", .field = TimestampNs{&R::created_at_ns},
         .json_key = "created_at_ns"},
        {.name = "extra", .sql_type = "JSON", .field = JsonText{&R::extra_json}},
    };
    return columns;
}

std::string result_columns_ddl(int version) {
    std::string out;
    for (const auto& c : result_columns()) {
        if (c.since != version) continue;
        out += fmt::format("{}{} {}{}", out.empty() ? "" : ", ", c.name, c.sql_type, c.not_null ? " NOT NULL" : "");
    }
    return out;
}

std::string result_select_list(std::string_view alias) {
    std::string out;
    for (const auto& c : result_columns()) {
        const std::string col = fmt::format("{}.{}", alias, c.name);
        out += out.empty() ? "" : ", ";
        out += std::holds_alternative<TimestampNs>(c.field) ? fmt::format("epoch_ns({})", col) : col;
    }
    return out;
}

namespace {

// The shape columns in label order (llama-bench's: p, n, d, b, ub, t, ngl, ctk, ctv, fa).
std::vector<const ResultColumn*> shape_columns() {
    std::vector<const ResultColumn*> out;
    for (const auto& c : result_columns()) {
        if (!c.shape_label.empty()) out.push_back(&c);
    }
    std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->shape_rank < b->shape_rank; });
    return out;
}

}  // namespace

std::string result_shape_columns(std::string_view alias) {
    std::string out;
    for (const auto* c : shape_columns()) out += fmt::format("{}{}.{}", out.empty() ? "" : ", ", alias, c->name);
    return out;
}

std::string result_shape_label_sql(std::string_view alias) {
    std::string out;
    for (const auto* p : shape_columns()) {
        const ResultColumn& c = *p;
        std::string value = fmt::format("{}.{}", alias, c.name);
        if (c.sql_type == "VARCHAR") value = fmt::format("nullif({}, '')", value);
        if (c.sql_type == "BOOLEAN") value += "::INTEGER";
        out += fmt::format("{}'{}=' || {}", out.empty() ? "" : ", ", c.shape_label, value);
    }
    return out;
}

ResultRecord result_from_row(const TextRow& row) {
    const auto& columns = result_columns();
    if (row.size() < columns.size()) {
        throw Error(ErrorKind::internal,
                    fmt::format("a results row has {} cells, the table {} columns", row.size(), columns.size()));
    }
    ResultRecord r;
    for (size_t i = 0; i < columns.size(); ++i) {
        const ResultColumn& c = columns[i];
        const std::optional<std::string>& cell = row[i];
        std::visit(Overload{
                       [&](std::string R::*f) { r.*f = cell.value_or(""); },
                       [&](std::optional<std::string> R::*f) { r.*f = cell; },
                       [&](std::optional<int32_t> R::*f) {
                           if (cell) r.*f = parse_number<int32_t>(c.name, *cell);
                       },
                       [&](std::optional<double> R::*f) {
                           if (cell) r.*f = parse_number<double>(c.name, *cell);
                       },
                       [&](std::optional<bool> R::*f) {
                           if (cell) r.*f = parse_bool(*cell);
                       },
                       [&](bool R::*f) { r.*f = cell && parse_bool(*cell); },
                       [&](TimestampNs t) { r.*t.field = cell ? parse_number<int64_t>(c.name, *cell) : 0; },
                       [&](JsonText t) { r.*t.field = cell.value_or("{}"); },
                       [](SampleCount) {},
                   },
                   c.field);
    }
    return r;
}

void read_samples(Database& db, std::vector<ResultRecord>& records) {
    std::map<std::string, ResultRecord*> by_id;
    for (auto& r : records) by_id[r.id] = &r;
    constexpr size_t chunk = 2000;  // ids per query, so the SQL stays small
    for (auto it = by_id.begin(); it != by_id.end();) {
        std::string list;
        for (size_t n = 0; n < chunk && it != by_id.end(); ++n, ++it) list += (n > 0 ? "," : "") + sql_quote(it->first);
        const auto q = db.query("SELECT result_id, seq, duration_ns, n_tokens FROM samples WHERE result_id IN (" +
                                list + ") ORDER BY result_id, seq");
        for (const auto& row : q.rows) {
            SampleRecord s{.seq = parse_number<int32_t>("samples.seq", row.at(1).value_or("")),
                           .duration_ns = parse_number<int64_t>("samples.duration_ns", row.at(2).value_or(""))};
            if (row.at(3)) s.n_tokens = parse_number<int32_t>("samples.n_tokens", *row[3]);
            by_id.at(row.at(0).value_or(""))->samples.push_back(s);
        }
    }
}

std::vector<ResultRecord> read_results(Database& db, std::string_view where_sql) {
    const auto q = db.query(fmt::format("SELECT {} FROM results r WHERE {} ORDER BY r.created_at, r.id",
                                        result_select_list("r"), where_sql));
    std::vector<ResultRecord> out;
    out.reserve(q.rows.size());
    for (const auto& row : q.rows) out.push_back(result_from_row(row));
    read_samples(db, out);
    return out;
}

void append_result(Appender& a, const ResultRecord& r) {
    for (const auto& c : result_columns()) {
        std::visit(Overload{
                       [&](std::string R::*f) {
                           if (c.empty_is_null) {
                               a.nullable_text(r.*f);
                           } else {
                               a.text(r.*f);
                           }
                       },
                       [&](std::optional<std::string> R::*f) { a.opt_text(r.*f); },
                       [&](std::optional<int32_t> R::*f) { a.i32(r.*f); },
                       [&](std::optional<double> R::*f) { a.f64(r.*f); },
                       [&](std::optional<bool> R::*f) { a.boolean(r.*f); },
                       [&](bool R::*f) { a.boolean(r.*f); },
                       [&](TimestampNs t) { a.timestamp_ns(r.*t.field != 0 ? r.*t.field : now_ns()); },
                       [&](JsonText t) { a.text(r.*t.field); },
                       [&](SampleCount) { a.i32(static_cast<int32_t>(r.samples.size())); },
                   },
                   c.field);
    }
    a.end_row();
}

}  // namespace accel::store
