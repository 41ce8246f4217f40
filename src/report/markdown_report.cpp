#include "accel/report/markdown_report.h"

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/report/report_sections.h"

namespace accel::report {
namespace {

std::string table(const TextTable& t) {
    std::string out;
    if (!t.caption.empty()) out += "**" + md_escape(t.caption) + "**\n\n";
    std::string head = "|", rule = "|";
    for (const auto& c : t.columns) {
        head += " " + md_escape(c) + " |";
        rule += "---|";
    }
    out += head + "\n" + rule + "\n";
    for (const auto& row : t.rows) {
        std::string line = "|";
        for (const auto& cell : row) line += " " + md_escape(cell) + " |";
        out += line + "\n";
    }
    return out + "\n";
}

}  // namespace

std::string render_markdown(const ReportData& d) {
    std::string out = "# accel report\n\n";
    out += fmt::format(
        "Scope: {}. Data up to {} (UTC). {} result(s) shown (the newest of each point), {} older "
        "result(s) of the same points left out, {} failure(s).\n\n",
        md_escape(d.scope), d.data_until.empty() ? "-" : md_escape(d.data_until), d.results.size(), d.n_superseded,
        d.failures.size());
    for (const Section& s : build_sections(d)) {
        out += "## " + md_escape(s.title) + "\n\n";
        if (!s.no_data.empty()) {
            // The command inside the message is kept as a code span: it is accel's text, not the database's.
            out += "No data: " + s.no_data + ".\n\n";
            continue;
        }
        for (const auto& n : s.notes) out += md_escape(n) + "\n\n";
        for (const auto& t : s.tables) out += table(t);
        const auto lines = source_lines(s.source);
        if (!s.source.runs.empty()) {
            out += "Source:\n";
            for (const auto& l : lines) out += "- " + md_escape(l) + "\n";
            out += "\n";
        }
    }
    return out;
}

}  // namespace accel::report
