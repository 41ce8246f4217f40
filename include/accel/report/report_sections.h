#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "accel/report/report_analysis.h"
#include "accel/report/report_data.h"

// The report's sections as plain text tables, built once and rendered by both markdown_report and html_report,
// so the two formats always say the same thing. Cells are unescaped text; the renderers escape them.
namespace accel::report {

struct TextTable {
    std::string caption{};
    std::vector<std::string> columns{};
    std::vector<std::vector<std::string>> rows{};
    int anchor_col = -1;  // this column holds an id: HTML gives the row id="<anchor_prefix><id>" (anchor_id)
    std::string anchor_prefix = "ev-";
    int link_col = -1;  // this column holds comma-separated ids: HTML links each to #<link_prefix><id>
    std::string link_prefix = "ev-";
    bool collapsed = false;  // detail for the curious: HTML folds it into <details>, its caption the summary
};

struct Section {
    std::string id;  // the HTML fragment: "perf", "compat", ...
    std::string title;
    std::string no_data{};  // non-empty: nothing to show, and the command that would produce it
    std::vector<std::string> notes{};
    std::vector<TextTable> tables{};
    Source source{};
};

std::vector<Section> build_sections(const ReportData& data);

// Sections with a file of their own.
Section key_classes_section(const ReportData& data);  // classes_section.cpp
Section machines_section(const ReportData& data);     // machines_section.cpp
Section media_section(const ReportData& data);        // media_section.cpp: vision and audio points' own figures

// The headline figure across machines and devices: the best valid mean throughput of each model and test (rows)
// on each "<machine> (<cpu>) · <device>" (columns); machines_section's table and the HTML grouped bars.
struct MachineMatrix {
    std::vector<std::pair<std::string, std::string>> rows{};  // (model, test), in first-seen order
    std::vector<std::string> columns{};                       // sorted
    std::map<std::pair<std::string, std::string>, std::map<std::string, const ResultRow*>> best{};
};
MachineMatrix machine_matrix(const ReportData& data);  // machines_section.cpp

// One line per run: "run <id>: <command>"; "no run" when empty.
std::vector<std::string> source_lines(const Source& s);

// Shared cell formats.
std::string ms(std::optional<double> ns);  // ns -> "12.3" ms, "-" when absent
std::string pct(std::optional<double> p);  // 12.345 -> "12.3%"

}  // namespace accel::report
