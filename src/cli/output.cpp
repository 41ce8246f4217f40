#include "accel/core/version.h"
#include "output.h"

#include "accel/model/hf_convert.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

namespace accel::cli {

Format FormatOption::resolve() const {
    if (json) return Format::json;
    if (text == "json") return Format::json;
    if (text == "jsonl") return Format::jsonl;
    if (text == "csv") return Format::csv;
    if (text == "markdown") return Format::markdown;
    return Format::table;
}

void add_format_option(CLI::App& cmd, FormatOption& opt, const std::vector<std::string>& allowed) {
    cmd.add_option("--format", opt.text, "Output format")->check(CLI::IsMember(allowed))->default_val("table");
    cmd.add_flag("--json", opt.json, "Shorthand for --format json");
}

namespace {

std::string cell(const std::optional<std::string>& v, const char* null_text) { return v ? *v : null_text; }

std::string csv_quote(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace

std::string render_table(const Table& t) {
    std::vector<size_t> width(t.columns.size());
    for (size_t c = 0; c < t.columns.size(); ++c) width[c] = t.columns[c].size();
    for (const auto& row : t.rows) {
        for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], cell(row[c], "NULL").size());
    }
    std::string out;
    const auto line = [&](const std::vector<std::string>& cells) {
        for (size_t c = 0; c < cells.size(); ++c) {
            const bool right = c < t.numeric.size() && t.numeric[c];
            out += right ? fmt::format("{:>{}}", cells[c], width[c]) : fmt::format("{:<{}}", cells[c], width[c]);
            out += c + 1 < cells.size() ? "  " : "";
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        out += '\n';
    };
    line(t.columns);
    std::vector<std::string> rule;
    for (size_t w : width) rule.emplace_back(w, '-');
    line(rule);
    for (const auto& row : t.rows) {
        std::vector<std::string> cells;
        for (const auto& v : row) cells.push_back(cell(v, "NULL"));
        line(cells);
    }
    return out;
}

std::string render_csv(const Table& t) {
    std::string out;
    for (size_t c = 0; c < t.columns.size(); ++c) out += (c ? "," : "") + csv_quote(t.columns[c]);
    out += '\n';
    for (const auto& row : t.rows) {
        for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + csv_quote(cell(row[c], ""));
        out += '\n';
    }
    return out;
}

std::string render_markdown(const Table& t) {
    std::string out = "|";
    for (const auto& c : t.columns) out += " " + c + " |";
    out += "\n|";
    for (size_t c = 0; c < t.columns.size(); ++c) out += (c < t.numeric.size() && t.numeric[c]) ? "---:|" : "---|";
    out += '\n';
    for (const auto& row : t.rows) {
        out += "|";
        for (const auto& v : row) out += " " + cell(v, "") + " |";
        out += '\n';
    }
    return out;
}

nlohmann::json table_to_json(const Table& t) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : t.rows) {
        nlohmann::json obj = nlohmann::json::object();
        for (size_t c = 0; c < row.size(); ++c) {
            const auto& v = row[c];
            if (!v) {
                obj[t.columns[c]] = nullptr;
            } else if (c < t.numeric.size() && t.numeric[c]) {
                nlohmann::json n = nlohmann::json::parse(*v, nullptr, false);
                obj[t.columns[c]] = n.is_discarded() ? nlohmann::json(*v) : n;
            } else {
                obj[t.columns[c]] = *v;
            }
        }
        rows.push_back(std::move(obj));
    }
    return {{"schema_version", json_schema_version}, {"columns", t.columns}, {"rows", std::move(rows)}};
}

std::string render_as(const Table& t, Format format) {
    switch (format) {
        case Format::csv:
            return render_csv(t);
        case Format::markdown:
            return render_markdown(t);
        default:
            return render_table(t);
    }
}

void print_table(const Table& t, Format format) {
    if (format == Format::json) {
        print_json(table_to_json(t));
    } else {
        fmt::print("{}", render_as(t, format));
    }
}

void print_json(const nlohmann::json& doc) {
    const std::string text = doc.dump(2);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
}

HfSupportView hf_support_of(const std::vector<std::string>& architectures) {
    const model::HfSupport h = model::hf_support(architectures);
    return {h.convertible, h.architecture, h.runs_with, h.reason};
}

std::string hf_support_line(const HfSupportView& s) {
    if (!s.convertible) return "accel convert:  no: " + s.reason;
    return "accel convert:  yes (" + s.architecture + "; runs with " + s.runs_with + ")";
}

nlohmann::json hf_support_json(const HfSupportView& s) {
    return {{"convertible", s.convertible}, {"architecture", s.architecture}, {"runs_with", s.runs_with},
            {"reason", s.reason}};
}

}  // namespace accel::cli
