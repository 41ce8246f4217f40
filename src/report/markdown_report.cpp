#include "accel/report/markdown_report.h"

#include <cctype>
#include <map>

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/report/report_sections.h"
#include "accel/report/report_summary.h"

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

// GitHub's heading anchor of one of accel's (ASCII) section titles: lower case, spaces as '-', punctuation other
// than '-' and '_' dropped.
std::string github_slug(const std::string& title) {
    std::string out;
    for (char c : title) {
        const auto u = static_cast<unsigned char>(c);
        if (c == ' ') {
            out += '-';
        } else if (std::isalnum(u) || c == '-' || c == '_') {
            out += static_cast<char>(std::tolower(u));
        }
    }
    return out;
}

std::string summary(const Summary& sum, const std::vector<Section>& sections) {
    std::map<std::string, std::string> titles;
    for (const auto& s : sections) titles[s.id] = s.title;
    std::string out = "## Summary\n\n";
    for (const auto& b : sum.blocks) {
        out += fmt::format("### {}{}\n\n", b.alert && !b.lines.empty() ? "⚠ " : "", md_escape(b.title));
        if (b.lines.empty()) out += md_escape(b.empty) + ".\n\n";
        for (const auto& l : b.lines) {
            const std::string target = titles.count(l.section) ? github_slug(titles[l.section]) : l.section;
            out += fmt::format("- {} → [{}](#{})\n", md_escape(l.text),
                               md_escape(l.evidence.empty() ? titles[l.section] : l.evidence), target);
        }
        if (!b.lines.empty()) out += "\n" + (b.note.empty() ? "" : md_escape(b.note) + "\n\n");
    }
    return out;
}

}  // namespace

std::string render_markdown(const ReportData& d) {
    std::string out = "# accel report\n\n";
    out += fmt::format(
        "Scope: {}. Data up to {} (UTC). {} result(s) shown (the newest of each point), {} older "
        "result(s) of the same points left out, {} failure(s).\n\n",
        md_escape(d.scope), d.data_until.empty() ? "-" : md_escape(d.data_until), d.results.size(), d.n_superseded,
        d.failures.size());
    const auto sections = build_sections(d);
    out += summary(build_summary(d, sections), sections);
    for (const Section& s : sections) {
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
