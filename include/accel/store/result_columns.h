#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "accel/store/database.h"
#include "accel/store/records.h"

// The one mapping between ResultRecord and the warehouse's results table: one entry per column, in table order.
// The table's DDL, the writer's appender calls, accel's record JSON (spool, import, export) and the shared row
// reader below are all derived from it; a new column is one entry here (plus a migration adding it).
namespace accel::store {

// How a column holds its record field.
struct TimestampNs {
    int64_t ResultRecord::*field;  // ns since the epoch; 0 is "now" when written
};
struct JsonText {
    std::string ResultRecord::*field;  // a JSON document's text
};
struct SampleCount {};  // samples.size(), written only (the samples themselves are a table of their own)

using ResultField = std::variant<std::string ResultRecord::*, std::optional<std::string> ResultRecord::*,
                                 std::optional<int32_t> ResultRecord::*, std::optional<double> ResultRecord::*,
                                 std::optional<bool> ResultRecord::*, bool ResultRecord::*, TimestampNs, JsonText,
                                 SampleCount>;

// A visitor over a ResultField from one lambda per alternative: std::visit(Overload{…}, column.field).
template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

struct ResultColumn {
    std::string_view name;      // the column
    std::string_view sql_type;  // as the schema declares it
    ResultField field;
    bool not_null = false;
    int since = 1;  // the schema version that added it (a later one: its migration adds the column)
    bool empty_is_null = false;  // std::string fields: "" is stored as NULL (and NULL reads back as "")
    bool json_required = false;  // accel's record JSON must carry it
    std::string_view json_key{};  // the key in accel's record JSON when it is not the column's name
    // A parameter of the measured point's shape: its short label in point names ("p", "ctk"), "" otherwise.
    std::string_view shape_label{};
    int shape_rank = 0;  // the label's place in point names
    bool llama_bench = false;  // llama-bench has a field of this name and meaning (its importer maps it here)

    std::string_view key() const { return json_key.empty() ? name : json_key; }
};

const std::vector<ResultColumn>& result_columns();

// "id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, …": the definitions of the columns added in schema `version`
// (version 1: the table as it was created).
std::string result_columns_ddl(int version = 1);

// The columns as a SELECT list over the table alias (`alias.id, alias.run_id, …`; created_at as epoch
// nanoseconds), in table order. A query whose rows begin with it is read by result_from_row.
std::string result_select_list(std::string_view alias = "r");

// The shape columns (`alias.n_prompt, alias.n_gen, …`), for PARTITION BY and GROUP BY.
std::string result_shape_columns(std::string_view alias = "r");

// The shape's labelled parts ("'p=' || alias.n_prompt, 'n=' || alias.n_gen, …"), for concat_ws(' ', …): one text
// per row, "p=512 n=128 d=0 b=2048 …", with NULL parts left out, for matching and naming points.
std::string result_shape_label_sql(std::string_view alias = "r");

// A record from the first result_columns().size() cells of a row selected with result_select_list (samples
// empty). Throws Error{internal} for a cell that does not parse as its column's type.
using TextRow = std::vector<std::optional<std::string>>;
ResultRecord result_from_row(const TextRow& row);

// The results matching `where_sql` (over alias r, e.g. "r.run_id = '…'"), ordered by created_at and id, each with
// its samples in seq order.
std::vector<ResultRecord> read_results(Database& db, std::string_view where_sql);

// Fills each record's samples, ordered by seq, from the samples table.
void read_samples(Database& db, std::vector<ResultRecord>& records);

}  // namespace accel::store
