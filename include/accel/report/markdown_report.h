#pragma once

#include <string>

#include "accel/report/report_data.h"

namespace accel::report {

// The report as GitHub-flavoured Markdown: the same sections and figures as the HTML, as tables, for terminals
// and CI comments. Deterministic: the same data gives the same text (no clock, no host paths). Every value from
// the database is escaped (md_escape). Pure; thread-safe.
std::string render_markdown(const ReportData& data);

}  // namespace accel::report
