#pragma once

#include <string>

#include "accel/report/report_data.h"

namespace accel::report {

// The report as one self-contained HTML document: inline CSS (screen and print), inline SVG charts
// (svg_chart.h) and a small inline self-check script that marks <body data-selfcheck="ok N"> when every chart
// has its data points. No external reference of any kind, so it works offline and from file://. Every value from
// the database is HTML-escaped. Pure; thread-safe.
std::string render_html(const ReportData& data);

}  // namespace accel::report
