// accel db compare: two runs (or tags) point by point on raw samples; exit 3 when a regression is found.
#include <memory>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/store/compare.h"
#include "accel/store/database.h"
#include "commands.h"
#include "db_commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct CompareCli {
    std::string db;
    store::CompareOptions opts;
    double threshold_pct = 5;
    FormatOption format;
};

std::optional<std::string> fixed(const std::optional<double>& v, int digits) {
    if (!v) return std::nullopt;
    return fmt::format("{:.{}f}", *v, digits);
}

int run_compare(CompareCli& o) {
    o.opts.threshold = o.threshold_pct / 100;
    store::Database db = store::Database::open(resolve_db(o.db));
    const store::CompareReport rep = store::compare_runs(db, o.opts);
    // An empty comparison is never a pass: the gate would let anything through.
    if (const std::string why = store::nothing_compared_reason(rep, o.opts); !why.empty()) {
        throw Error(ErrorKind::invalid_input, why);
    }
    Table t{.columns = {"model", "scenario", "device", "params", "n_base", "n_cand", "median_base", "median_cand",
                        "change_pct", "p_value", "verdict"},
            .numeric = {false, false, false, false, true, true, true, true, true, true, false},
            .rows = {}};
    for (const auto& p : rep.points) {
        std::string verdict(store::to_string(p.verdict));
        if (!p.note.empty()) verdict += " (" + p.note + ")";
        t.rows.push_back({p.model, p.scenario, p.device, p.params, std::to_string(p.n_baseline),
                          std::to_string(p.n_candidate), fixed(p.median_baseline, 2),
                          fixed(p.median_candidate, 2), p.change ? fixed(*p.change * 100, 2) : std::nullopt,
                          fixed(p.p_value, 4), verdict});
    }
    const std::string summary = fmt::format("{} regression(s), {} improvement(s) in {} point(s)", rep.n_regressions,
                                            rep.n_improvements, rep.points.size());
    switch (o.format.resolve()) {
        case Format::json: {
            auto j = table_to_json(t);
            j["statistic"] = rep.statistic;
            j["baseline"] = o.opts.baseline;
            j["candidate"] = o.opts.candidate;
            j["n_regressions"] = rep.n_regressions;
            j["n_improvements"] = rep.n_improvements;
            print_json(j);
            break;
        }
        case Format::markdown:
            fmt::print("### accel db compare: `{}` → `{}`\n\n{}\n\n**{}**\n\nStatistic: {}.\n", o.opts.baseline,
                       o.opts.candidate, render_markdown(t), summary, rep.statistic);
            break;
        case Format::csv:
            fmt::print("{}", render_csv(t));
            break;
        default:
            fmt::print("{}\n{}\nstatistic: {}\n", render_table(t), summary, rep.statistic);
            break;
    }
    return rep.n_regressions > 0 ? exit_check : exit_ok;
}

}  // namespace

void register_db_compare(CLI::App& db, int& exit_code) {
    auto co = std::make_shared<CompareCli>();
    auto* cmp = db.add_subcommand("compare",
                                   "Compare two runs (or tags) point by point on raw samples; exit 3 when "
                                   "a regression is found");
    cmp->add_option("--baseline", co->opts.baseline, "Run id or tag")->required();
    cmp->add_option("--candidate", co->opts.candidate, "Run id or tag")->required();
    cmp->add_option("--metric", co->opts.metric, "ts (tokens/s) or latency")->check(CLI::IsMember({"ts", "latency"}));
    cmp->add_option("--threshold", co->threshold_pct, "Smallest change to flag, in percent (default 5)")
        ->check(CLI::Range(0.0, 1000.0));
    cmp->add_option("--alpha", co->opts.alpha, "Significance level (default 0.05)")->check(CLI::Range(0.0, 1.0));
    cmp->add_option("--db", co->db, db_help);
    add_format_option(*cmp, co->format, {"table", "csv", "json", "markdown"});
    cmp->callback([co, &exit_code] { exit_code = run_compare(*co); });
}

}  // namespace accel::cli
