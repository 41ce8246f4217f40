#pragma once

#include "accel/bench/campaign.h"
#include "campaign_printer.h"
#include "output.h"

namespace accel::cli {

// accel bench's results on stdout: the JSON document (--json), or the table (table, csv, markdown) followed,
// except in csv, by the lines the columns cannot show (verify, server/offline figures, notes, roofline, energy).
// jsonl prints each result as it comes instead (BenchPrinter), so this prints nothing for it.
void print_bench_results(const bench::CampaignOutcome& outcome, Format format);

// --dry-run: the points as a table and a rough ETA (estimate_point_seconds). Returns exit_ok.
int print_dry_run(const std::vector<bench::PointSpec>& points, const bench::PointOptions& popts);

// The failure, SLO and --verify counts on stderr, and the exit code they map to: 1 when every point failed, 3 for a
// missed SLO or a --verify mismatch, else 0.
int bench_exit_code(const bench::CampaignOutcome& outcome);

// accel bench's progress on stderr; with --format jsonl each result on stdout as soon as it is measured.
class BenchPrinter : public CampaignPrinter {
public:
    explicit BenchPrinter(bool jsonl) : CampaignPrinter("bench"), jsonl_(jsonl) {}
    void started(const bench::RunProvenance* prov, const std::string& run_id) override;
    void point_done(const std::string& label, const bench::PointResult& r,
                    const bench::CampaignProgress& progress) override;

private:
    bool jsonl_;
    std::string provenance_ = "{}";
};

}  // namespace accel::cli
