#include "campaign_printer.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

namespace accel::cli {

CampaignPrinter::CampaignPrinter(std::string prefix)
    : prefix_(std::move(prefix)), tty_(isatty(STDERR_FILENO) != 0) {}

void CampaignPrinter::note(const std::string& text) { fmt::print(stderr, "{}: {}\n", prefix_, text); }

void CampaignPrinter::point_started(const std::string& label, const bench::CampaignProgress& p) {
    // A search that picks one point at a time knows no total, and so no ETA.
    const std::string line =
        p.total == 0 ? fmt::format("{}: measuring {}", prefix_, label)
                     : fmt::format("{}: [{}/{}] {} (elapsed {:.0f} s, ETA {:.0f} s)", prefix_, p.index + 1, p.total,
                                   label, p.elapsed.count(), p.eta.count());
    if (tty_) {
        fmt::print(stderr, "\r\033[K{}", line);
    } else {
        fmt::print(stderr, "{}\n", line);
    }
}

void CampaignPrinter::point_done(const std::string& label, const bench::PointResult& r,
                                 const bench::CampaignProgress& /*progress*/) {
    if (tty_) fmt::print(stderr, "\r\033[K");
    if (!r.ok) fmt::print(stderr, "{}: {} failed ({}): {}\n", prefix_, label, r.failure_stage, r.failure_reason);
}

void print_stored_run(const std::string& prefix, const std::string& run_id, const std::string& stored_in,
                      bool spooling) {
    if (run_id.empty()) return;
    fmt::print(stderr, "{}: run {} stored in {}{}\n", prefix, run_id, stored_in,
               spooling ? " (spooled: load it later with accel db ingest)" : "");
}

}  // namespace accel::cli
