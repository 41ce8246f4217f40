// The 13 key classes at a glance: class x device x weight type from the stored conformance cases.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "accel/bench/conformance.h"
#include "accel/report/report_sections.h"

namespace accel::report {
namespace {

bench::ConformResult to_result(const ConformRecord& c) {
    bench::ConformResult r;
    r.arch = c.arch;
    r.llama_arch = c.llama_arch;
    r.device = c.device;
    r.type = c.type;
    r.status = c.status == "pass"          ? bench::ConformStatus::pass
               : c.status == "unsupported" ? bench::ConformStatus::unsupported
                                           : bench::ConformStatus::fail;
    r.reason = c.reason;
    return r;
}

// A cell for people: pass / fail / not yet run / unavailable, with the reason of a case that did not pass.
std::string cell_text(const std::string& status, const ConformRecord* failed) {
    const std::string why = failed && !failed->reason.empty() ? " (" + failed->reason + ")" : "";
    if (status == "runnable") return "pass";
    if (status == "failed") return "fail" + why;
    if (status == "not run") return "not yet run";
    if (status == "unsupported") return "unavailable: unsupported" + why;
    return "unavailable: " + status;
}

}  // namespace

Section key_classes_section(const ReportData& d) {
    Section s{.id = "classes", .title = "The 13 key classes at a glance"};
    if (d.conformance.empty()) {
        s.no_data = "no conformance cases: run `accel conform --coverage`";
        return s;
    }
    std::map<std::pair<std::string, std::string>, std::vector<const ConformRecord*>> cells;  // device, type
    std::set<std::string> runs;
    for (const auto& c : d.conformance) {
        cells[{c.device, c.type}].push_back(&c);
        runs.insert(c.run_id);
    }
    TextTable t{.columns = {"class", "llama.cpp architecture"}};
    for (const auto& [k, v] : cells) t.columns.push_back(k.first + " · " + k.second);
    t.columns.emplace_back("evidence");
    t.link_col = static_cast<int>(t.columns.size()) - 1;
    std::map<std::string, std::vector<std::string>> cell_status;  // class -> one status per cell
    std::map<std::string, std::string> arch_of, evidence;
    for (const auto& [k, recs] : cells) {
        std::vector<bench::ConformResult> results;
        for (const auto* r : recs) results.push_back(to_result(*r));
        for (const auto& kt : bench::compute_coverage(results).key_types) {
            arch_of[kt.model_type] = kt.llama_arch;
            const ConformRecord* first = nullptr;
            const ConformRecord* failed = nullptr;
            for (const auto* r : recs) {
                if (r->llama_arch != kt.llama_arch || kt.llama_arch.empty()) continue;
                if (!first || (r->status == "pass" && first->status != "pass")) first = r;  // a pass first
                if (r->status != "pass" && !failed) failed = r;
            }
            cell_status[kt.model_type].push_back(cell_text(kt.status, kt.status == "runnable" ? nullptr : failed));
            if (first) evidence[kt.model_type] += (evidence[kt.model_type].empty() ? "" : ",") + first->id;
        }
    }
    for (const auto& k : bench::coverage_key_types()) {
        std::vector<std::string> row{k, arch_of[k].empty() ? "-" : arch_of[k]};
        for (const auto& c : cell_status[k]) row.push_back(c);
        row.push_back(evidence[k]);
        t.rows.push_back(std::move(row));
    }
    s.notes.push_back(
        "Each cell: the stored `accel conform` cases of the class's llama.cpp architecture on that device and weight "
        "type. pass: a case passed against its reference (llama.cpp's CPU f32 output of the same random-weight "
        "model, within the type's nmse and top-1 thresholds stored with the case; see docs/conform.md); fail: "
        "measured outside them or crashed; not yet run: no case in scope; unavailable: the reason.");
    s.tables.push_back(std::move(t));
    s.source = source_of(d, runs);
    return s;
}

}  // namespace accel::report
