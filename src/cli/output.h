#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace accel::cli {

enum class Format { table, json, jsonl, csv, markdown };

// Adds --format (restricted to `allowed`) and --json to cmd; call resolve() after parsing.
struct FormatOption {
    std::string text = "table";
    bool json = false;
    Format resolve() const;
};
void add_format_option(CLI::App& cmd, FormatOption& opt, const std::vector<std::string>& allowed);

// A plain table of text cells; NULL cells print as empty (csv) or NULL (table).
struct Table {
    std::vector<std::string> columns;
    std::vector<bool> numeric;  // per column: right-aligned in tables, unquoted numbers in JSON
    std::vector<std::vector<std::optional<std::string>>> rows;
};

std::string render_table(const Table& t);
std::string render_csv(const Table& t);
std::string render_markdown(const Table& t);
nlohmann::json table_to_json(const Table& t);  // {"schema_version":1,"columns":[...],"rows":[{...},...]}
// render_csv or render_markdown for those formats, else render_table.
std::string render_as(const Table& t, Format format);
// The table on stdout: table_to_json printed for json, else render_as.
void print_table(const Table& t, Format format);

// Prints a JSON document (which must already hold schema_version) to stdout, indented.
void print_json(const nlohmann::json& doc);

// Whether accel converts a Hugging Face checkpoint and what runs it (model::hf_support), for inspect and classify:
// one text line ("accel convert: yes, ...") and its JSON object.
struct HfSupportView {
    bool convertible = false;
    std::string architecture, runs_with, reason;
};
HfSupportView hf_support_of(const std::vector<std::string>& architectures);
std::string hf_support_line(const HfSupportView& s);
nlohmann::json hf_support_json(const HfSupportView& s);

}  // namespace accel::cli
