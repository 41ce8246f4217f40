// `accel report`: the results warehouse as one self-contained HTML file, or Markdown (report/).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <unistd.h>

#include <fmt/core.h>

#include "accel/bench/price_table.h"
#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "accel/report/html_report.h"
#include "accel/report/markdown_report.h"
#include "accel/report/report_data.h"
#include "accel/store/database.h"
#include "campaign_report.h"
#include "commands.h"

namespace accel::cli {
namespace {

namespace fs = std::filesystem;

struct ReportCli {
    std::string db;
    report::ReportOptions opts;
    std::string out;
    std::string format = "html";
    std::string campaign;  // fleet/: the campaign's matrix across machines instead of the report
    std::optional<double> price_per_hour;  // replaces the configuration file's [price]
};

// Written beside the target and renamed over it: a reader never sees half a report.
void write_atomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + fmt::format(".tmp{}", ::getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        f.flush();
        if (!f) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw Error(ErrorKind::io, fmt::format("--out {}: cannot write the report", path.string()));
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error(ErrorKind::io, fmt::format("--out {}: cannot write the report ({})", path.string(), ec.message()));
    }
}

int run_report(const ReportCli& o) {
    const fs::path db_path = o.db.empty() ? paths::default_db() : fs::path(o.db);
    std::error_code ec;
    if (!fs::exists(db_path, ec)) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("--db {}: no such database; run `accel bench` first", db_path.string()));
    }
    if (!o.campaign.empty()) return print_campaign_matrix(db_path, o.campaign, Format::markdown);
    report::ReportData data;
    report::ReportOptions opts = o.opts;
    opts.prices = bench::resolve_prices(o.price_per_hour, paths::config_file());
    {
        store::Database db = store::Database::open(db_path, {.lock_wait = std::chrono::milliseconds(30000)});
        data = report::load_report_data(db, opts);
    }
    const bool html = o.format == "html";
    const std::string text = html ? report::render_html(data) : report::render_markdown(data);
    if (!html && o.out.empty()) {
        fmt::print("{}", text);
    } else {
        const fs::path out = o.out.empty() ? fs::path("accel-report.html") : fs::path(o.out);
        if (out.has_parent_path() && !fs::is_directory(out.parent_path(), ec)) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("--out {}: folder {} does not exist", out.string(), out.parent_path().string()));
        }
        write_atomically(out, text);
        fmt::print("{}\n", fs::absolute(out, ec).lexically_normal().string());
    }
    if (data.regressions && data.regressions->compare && data.regressions->compare->n_regressions > 0) {
        fmt::print(stderr, "accel report: {} regression(s) against baseline {}\n",
                   data.regressions->compare->n_regressions, data.regressions->baseline);
        return exit_check;
    }
    return exit_ok;
}

}  // namespace

void register_report(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ReportCli>();
    auto* cmd = app.add_subcommand(
        "report",
        "Write the results as one self-contained HTML file (inline SVG charts, works offline) or print Markdown.\n"
        "Exit codes: 0 ok, 1 runtime failure, 2 invalid input, 3 a regression against --baseline");
    cmd->add_option("--db", o->db, "Database file (default: $ACCEL_DB, else ~/.local/share/accel/results.duckdb)");
    auto* run = cmd->add_option("--run", o->opts.run, "Only this run (an id or a tag)");
    auto* since = cmd->add_option("--since", o->opts.since, "Only runs started at or after this date (2026-11-01)");
    run->excludes(since);
    cmd->add_option("--baseline", o->opts.baseline,
                    "Compare with this run (id or tag) on raw samples (Mann-Whitney U); the candidate is --run, "
                    "else the newest run in scope");
    cmd->add_option("--price-per-hour", o->price_per_hour,
                    "Your price of one machine-hour (any currency): adds the cost per million tokens; replaces the "
                    "config file's [price] (per machine fingerprint or device)");
    cmd->add_option("--out", o->out, "Output file (default for html: ./accel-report.html; markdown: stdout)");
    cmd->add_option("--format", o->format, "html or markdown")->check(CLI::IsMember({"html", "markdown"}));
    cmd->add_option("--campaign", o->campaign,
                    "Print a merged campaign's matrix across machines (Markdown) instead of the report");
    cmd->callback([o, &exit_code] { exit_code = run_report(*o); });
}

}  // namespace accel::cli
