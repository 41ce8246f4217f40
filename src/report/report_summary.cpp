#include "accel/report/report_summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>

#include "accel/bench/point_result.h"
#include "accel/bench/statistics.h"
#include "accel/report/report.h"
#include "accel/report/report_analysis.h"
#include "accel/report/sample_ratio.h"

namespace accel::report {
namespace {

// The link of a line: the row anchor when the document has it, else the section.
class Linker {
public:
    explicit Linker(const std::vector<Section>& sections) {
        for (const auto& a : section_anchors(sections)) anchors_.insert(a);
    }
    SummaryLine line(std::string text, const std::string& kind, const std::string& id, const std::string& section,
                     std::initializer_list<const char*> prefixes) const {
        SummaryLine l{.text = std::move(text), .evidence = id.empty() ? "" : kind + " " + id, .section = section,
                      .anchor = section};
        for (const char* p : prefixes) {
            if (id.empty() || !anchors_.count(anchor_id(p, id))) continue;
            l.anchor = anchor_id(p, id);
            break;
        }
        return l;
    }

private:
    std::set<std::string> anchors_;
};

// The measured test a configuration ran: everything of the point but the configuration.
std::string test_label(const ResultRow& r) {
    std::string s = r.scenario;
    const auto add = [&](const char* k, const std::optional<int64_t>& v) {
        if (v && *v != 0) s += fmt::format(" {}={}", k, *v);
    };
    add("p", r.n_prompt);
    add("n", r.n_gen);
    add("d", r.n_depth);
    add(r.scenario == "vision" ? "batch" : "texts", r.embed_batch);  // vision: images (xclip: clips) per pass
    add("par", r.n_parallel);
    if (!r.lengths.empty()) s += " lengths=" + r.lengths;
    return s;
}

std::string config_of(const ResultRow& r) {
    return r.config.empty() ? point_shape(r) + " (requested settings not stored)" : r.config;
}

// The most lines an alert block shows; the rest are counted in one line that links to the section with all.
constexpr size_t max_alert_lines = 12;

SummaryBlock failed_block(const ReportData& d, const Linker& link) {
    SummaryBlock b{.id = "summary-failed",
                   .title = "Failed checks and INVALID results",
                   .alert = true,
                   .empty = "none: every point in scope ran, passed its check and stayed under its roof"};
    size_t n_unsupported = 0;
    for (const auto& f : d.failures) {
        if (f.stage == "unsupported") {  // not a failure: the device or llama.cpp does not offer it
            ++n_unsupported;
            continue;
        }
        b.lines.push_back(link.line(fmt::format("{} · {} {}: failed at {}: {}", f.model, f.device, f.scenario, f.stage,
                                                f.reason),
                                    "failure", f.id, "compat", {"ev-"}));
    }
    for (const auto& r : d.results) {
        if (r.valid) continue;
        b.lines.push_back(link.line(fmt::format("{} {} {}: INVALID, the result failed its check", group_label(r),
                                                r.scenario, point_shape(r)),
                                    "result", r.id, "perf", {"pt-", "ev-"}));
    }
    for (const auto& r : d.results) {
        if (r.roofline_defect.empty()) continue;
        b.lines.push_back(link.line(fmt::format("{} {} {}: above its measured roof, so the roof is wrong: {}",
                                                group_label(r), r.scenario, point_shape(r), r.roofline_defect),
                                    "result", r.id, "roofline", {"pt-"}));
    }
    if (b.lines.size() > max_alert_lines) {
        const size_t more = b.lines.size() - max_alert_lines;
        b.lines.resize(max_alert_lines);
        b.lines.push_back(link.line(fmt::format("and {} more failed or INVALID point(s)", more), "", "", "compat", {}));
    }
    if (n_unsupported > 0) {
        b.note = fmt::format("{} case(s) are unsupported where they were tried (not failures; the reasons are in the "
                             "compatibility evidence).",
                             n_unsupported);
    }
    return b;
}

std::optional<double> throughput_of(const ResultRow& r) { return r.avg_ts; }
std::optional<double> p99_of(const ResultRow& r) {
    const auto st = sample_stats(r.samples_ns);
    return st ? std::optional<double>(st->p99) : std::nullopt;
}
std::optional<double> memory_of(const ResultRow& r) { return r.peak_rss_bytes; }
std::optional<double> energy_of(const ResultRow& r) { return r.joules_per_token; }

// An objective of the summary: its figure of a result and how to write it. Lower is better but for throughput.
// `sampled`: the figure comes from the raw per-repetition times, so its ratio to the default has an interval.
struct Objective {
    const char* name;
    std::optional<double> (*value)(const ResultRow&);
    std::string (*text)(const ResultRow&, double);
    bool higher_better = false;
    bool sampled = false;
};
const Objective objectives[] = {
    {"throughput", throughput_of,
     [](const ResultRow& r, double v) { return fmt::format("{} {}", format_number(v), throughput_unit(r)); }, true,
     true},
    {"latency", p99_of,
     [](const ResultRow&, double v) { return fmt::format("p99 {} ms per repetition", format_number(v / 1e6)); },
     false, true},
    {"memory", memory_of, [](const ResultRow&, double v) { return "peak RSS " + format_bytes(v); }},
    {"energy", energy_of,
     [](const ResultRow&, double v) { return fmt::format("{} J/token (upper bound)", format_number(v)); }},
};

// How the best compares with the default, from the raw samples where the figure has them.
std::string versus_default(const Objective& o, const ResultRow& best, const ResultRow& def, double vb, double vd) {
    if (!o.sampled) {
        const std::string vd_text = o.value == memory_of ? format_bytes(vd) : format_number(vd) + " J/token";
        return fmt::format("{:.2f}x the default's ({}; one measurement each, no interval)", vb / vd, vd_text);
    }
    // Throughput: the default's time over the best's (the speed-up); latency: the best's time over the default's.
    const auto r = o.higher_better ? time_ratio(def.samples_ns, best.samples_ns)
                                   : time_ratio(best.samples_ns, def.samples_ns);
    const std::string what = o.higher_better ? "the default's speed" : "the default's time per repetition";
    if (!r) return fmt::format("{:.2f}x the default's figure (no raw samples to test the difference)", vb / vd);
    return describe_ratio(*r, what);
}

// " (0.0123 per million tokens at 2.5 per machine-hour)" (per thousand images, per audio hour), or "" without a price.
std::string cost_text(const ResultRow& r, const bench::PriceTable& prices) {
    const auto c = cost_per_unit(r, prices);
    const auto price = price_of(r, prices);
    if (!c || !price) return "";
    return fmt::format(" ({} per {} at {} per machine-hour)", format_number(*c), cost_unit(r).name,
                       format_number(*price));
}

// One configuration only: its figures in one line, nothing to compare with.
SummaryLine single_line(const ResultRow& r, const bench::PriceTable& price, const Linker& link) {
    std::string figures;
    for (const Objective& o : objectives) {
        const auto v = o.value(r);
        if (v && *v > 0) figures += (figures.empty() ? "" : ", ") + o.text(r, *v);
    }
    figures += cost_text(r, price);
    return link.line(fmt::format("{}, {}: one configuration measured, {}: {}; accel recommend --search quick tries "
                                 "others",
                                 group_label(r), test_label(r), config_of(r), figures),
                     "result", r.id, "perf", {"pt-"});
}

void best_lines(const std::vector<const ResultRow*>& g, const bench::PriceTable& price, const Linker& link,
                SummaryBlock& b) {
    if (g.size() == 1) {
        b.lines.push_back(single_line(*g.front(), price, link));
        return;
    }
    const ResultRow* def = nullptr;
    for (const ResultRow* r : g)
        if (r->is_default) def = r;
    for (const Objective& o : objectives) {
        const ResultRow* best = nullptr;
        double vb = 0;
        for (const ResultRow* r : g) {
            const auto v = o.value(*r);
            if (!v || *v <= 0) continue;
            if (!best || (o.higher_better ? *v > vb : *v < vb)) best = r, vb = *v;
        }
        if (!best) continue;
        std::string text = fmt::format("{}, {}: {} best {}: {}{}", group_label(*best), test_label(*best), o.name,
                                       config_of(*best), o.text(*best, vb),
                                       o.higher_better ? cost_text(*best, price) : "");
        const auto vd = def ? o.value(*def) : std::nullopt;
        if (best == def) {
            text += fmt::format("; the default is the best of {} configurations measured", g.size());
        } else if (!def || !vd) {
            text += "; no default configuration measured to compare with";
        } else {
            text += "; " + versus_default(o, *best, *def, vb, *vd);
        }
        b.lines.push_back(link.line(std::move(text), "result", best->id, "perf", {"pt-"}));
    }
}

// Energy is ranked where a counter was read; the tests without a figure are counted with their reasons.
std::string energy_note(const std::map<std::string, std::vector<const ResultRow*>>& groups,
                        const std::vector<std::string>& order) {
    size_t n_with = 0;
    std::map<std::string, size_t> why;  // reason -> tests
    for (const auto& k : order) {
        const auto& g = groups.at(k);
        if (std::any_of(g.begin(), g.end(), [](const ResultRow* r) { return r->joules_per_token.has_value(); })) {
            ++n_with;
        } else {
            ++why[g.front()->energy_unavailable.empty() ? "no energy counter was read" : g.front()->energy_unavailable];
        }
    }
    std::string note;
    if (n_with > 0) note = std::string("Energy: ") + bench::energy_upper_bound_note + ".";
    if (why.empty()) return note;
    std::string reasons;
    for (const auto& [text, n] : why) reasons += fmt::format("{}{} ({} test(s))", reasons.empty() ? "" : "; ", text, n);
    return note + (note.empty() ? "" : " ") +
           fmt::format("Energy per token unavailable for {} of {} test(s): {}.", order.size() - n_with, order.size(),
                       reasons);
}

SummaryBlock best_block(const ReportData& d, const Linker& link) {
    SummaryBlock b{.id = "summary-best",
                   .title = "Best measured configuration per model, device and objective",
                   .empty = "no valid benchmark result in scope: run `accel bench`"};
    std::map<std::string, std::vector<const ResultRow*>> groups;
    std::vector<std::string> order;
    for (const ResultRow* r : perf_rows(d)) {
        if (!r->valid || r->platform == "native") continue;
        const std::string key = r->model + "\x1f" + r->device + "\x1f" + test_label(*r);
        if (!groups.count(key)) order.push_back(key);
        groups[key].push_back(r);
    }
    for (const auto& k : order) best_lines(groups[k], d.prices, link, b);
    b.note = energy_note(groups, order);
    return b;
}

SummaryBlock regression_block(const ReportData& d, const Linker& link) {
    SummaryBlock b{.id = "summary-regressions", .title = "Regressions against the baseline", .alert = true};
    if (!d.regressions) {
        b.empty = "no baseline given: accel report --baseline RUN compares with a run id or tag";
        return b;
    }
    if (!d.regressions->compare) {
        b.empty = fmt::format("baseline {}: {}", d.regressions->baseline, d.regressions->note);
        return b;
    }
    std::map<std::string, std::string> names;
    for (const auto& r : d.results) names.emplace(r.model, r.model_name);
    const auto& c = *d.regressions->compare;
    b.empty = fmt::format("none: {} of {} points compared with {}, no regression", c.n_tested, c.points.size(),
                          d.regressions->baseline);
    for (const auto& p : c.points) {
        if (p.verdict != store::Verdict::regression) continue;
        const auto n = names.find(p.model);
        b.lines.push_back(link.line(
            fmt::format("{} · {} {} {}: median latency {} against {} (Mann-Whitney p = {:.2g})",
                        n != names.end() ? n->second : p.model, p.device, p.scenario, p.params,
                        p.change ? format_change(*p.change) : "-", d.regressions->baseline, p.p_value.value_or(1)),
            "", "", "regressions", {}));
    }
    return b;
}

SummaryBlock noisy_block(const ReportData& d, const Linker& link) {
    SummaryBlock b{.id = "summary-noisy", .title = "Noisy points", .empty = "none flagged noisy"};
    for (const ResultRow* r : perf_rows(d)) {
        if (!r->noisy) continue;
        std::string cv;  // of the raw times, as the bench flagged it (bench::summarize)
        if (r->samples_ns.size() > 1) {
            const std::vector<double> ns(r->samples_ns.begin(), r->samples_ns.end());
            cv = fmt::format(": coefficient of variation {:.1f}% of the time per repetition",
                             100 * bench::summarize(ns).cv);
        }
        b.lines.push_back(link.line(fmt::format("{} {} {}{}; compare it only with care", group_label(*r),
                                                r->scenario, point_shape(*r), cv),
                                    "result", r->id, "latency", {"pt-"}));
    }
    return b;
}

}  // namespace

std::vector<std::string> section_anchors(const std::vector<Section>& sections) {
    std::vector<std::string> out;
    for (const auto& s : sections) {
        out.push_back(s.id);
        for (const auto& t : s.tables) {
            if (t.anchor_col < 0) continue;
            for (const auto& row : t.rows)
                if (static_cast<size_t>(t.anchor_col) < row.size())
                    out.push_back(anchor_id(t.anchor_prefix, row[static_cast<size_t>(t.anchor_col)]));
        }
    }
    return out;
}

Summary build_summary(const ReportData& d, const std::vector<Section>& sections) {
    const Linker link(sections);
    return {.blocks = {failed_block(d, link), best_block(d, link), regression_block(d, link), noisy_block(d, link)}};
}

}  // namespace accel::report
