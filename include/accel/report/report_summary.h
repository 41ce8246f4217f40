#pragma once

#include <string>
#include <vector>

#include "accel/report/report_data.h"
#include "accel/report/report_sections.h"

// The report's first block, the answer before the evidence: what failed, the best measured configuration per model,
// device and objective against the default (with the uncertainty of the ratio, sample_ratio.h), regressions against
// the baseline and noisy points. One data model for both renderers; every line names its evidence below.
namespace accel::report {

struct SummaryLine {
    std::string text;        // one sentence, unescaped
    std::string evidence;    // "result res-pp", "failure fail-1", "" for none
    std::string section;     // the id of the section holding the evidence ("perf", "compat", ...)
    std::string anchor;      // the HTML fragment of the evidence: an id that exists in the document
};

struct SummaryBlock {
    std::string id;          // "summary-failed", ...
    std::string title;
    bool alert = false;      // failures, regressions: drawn prominently when it has lines
    std::string empty{};     // what to say when it has no line
    std::vector<SummaryLine> lines{};
    std::string note{};      // said after the lines, when there are lines
};

struct Summary {
    std::vector<SummaryBlock> blocks{};
};

// `sections` are build_sections(d): a line links to a row anchor only when a section has it (else to the section).
Summary build_summary(const ReportData& d, const std::vector<Section>& sections);

// The fragment ids the sections give in HTML: each section's id and each anchored table row's.
std::vector<std::string> section_anchors(const std::vector<Section>& sections);

}  // namespace accel::report
