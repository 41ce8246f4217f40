// Across machines and devices: the headline figure of each model and test on every machine and device in scope.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/report/report_analysis.h"
#include "accel/report/report_sections.h"

namespace accel::report {
namespace {

// "<machine id, 12 characters> (<cpu model>) · <device>".
std::string column_of(const ReportData& d, const ResultRow& r) {
    std::string cpu;
    for (const auto& m : d.machines)
        if (m.id == r.machine_id) cpu = m.cpu_model;
    const std::string id = r.machine_id.size() > 12 ? r.machine_id.substr(0, 12) : r.machine_id;
    return fmt::format("{}{} · {}", id.empty() ? "unknown machine" : id, cpu.empty() ? "" : " (" + cpu + ")",
                       r.device);
}

}  // namespace

MachineMatrix machine_matrix(const ReportData& d) {
    MachineMatrix m;
    auto& best = m.best;
    auto& rows = m.rows;
    std::set<std::string> columns;
    for (const ResultRow* r : perf_rows(d)) {
        if (!r->valid || !r->avg_ts || r->platform == "native") continue;
        const std::pair<std::string, std::string> row{r->model_name,
                                                      fmt::format("{} p={} n={}", r->scenario, r->n_prompt.value_or(0),
                                                                  r->n_gen.value_or(0))};
        if (!best.count(row)) rows.push_back(row);
        const std::string col = column_of(d, *r);
        columns.insert(col);
        const ResultRow*& cell = best[row][col];
        if (!cell || *r->avg_ts > *cell->avg_ts) cell = r;
    }
    m.columns.assign(columns.begin(), columns.end());
    return m;
}

Section machines_section(const ReportData& d) {
    Section s{.id = "machines", .title = "Across machines and devices"};
    MachineMatrix m = machine_matrix(d);
    const auto& rows = m.rows;
    const auto& columns = m.columns;
    auto& best = m.best;
    if (columns.size() < 2) {
        s.no_data = "results of one machine and device in scope: merge other machines' exports (`accel db import`) "
                    "or bench another device to compare them";
        return s;
    }
    TextTable t{.columns = {"model", "test"}, .link_prefix = "pt-"};
    for (const auto& c : columns) t.columns.push_back(c);
    t.columns.emplace_back("evidence");
    t.link_col = static_cast<int>(t.columns.size()) - 1;
    std::vector<const ResultRow*> used;
    for (const auto& row : rows) {
        std::vector<std::string> cells{row.first, row.second};
        std::string ev;
        for (const auto& c : columns) {
            const auto it = best[row].find(c);
            if (it == best[row].end()) {
                cells.emplace_back("-");
                continue;
            }
            cells.push_back(fmt::format("{} {}", format_number(*it->second->avg_ts), throughput_unit(*it->second)));
            ev += (ev.empty() ? "" : ",") + it->second->id;
            used.push_back(it->second);
        }
        cells.push_back(ev);
        t.rows.push_back(std::move(cells));
    }
    s.notes.push_back("Each cell: the highest mean throughput among the valid results of that model and test on that "
                      "machine and device (any configuration); the evidence column links to each cell's result.");
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, used);
    return s;
}

}  // namespace accel::report
