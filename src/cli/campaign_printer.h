#pragma once

#include <string>

#include "accel/bench/campaign.h"

namespace accel::cli {

// The progress of a campaign on stderr, the same for every measuring command: "<prefix>: [i/n] <label> (elapsed
// …, ETA …)" before each point (rewritten in place when stderr is a terminal), a line for each failed point, and
// the campaign's notes. Subclasses add what a command prints per result.
class CampaignPrinter : public bench::CampaignObserver {
public:
    explicit CampaignPrinter(std::string prefix);
    void note(const std::string& text) override;
    void point_started(const std::string& label, const bench::CampaignProgress& progress) override;
    void point_done(const std::string& label, const bench::PointResult& r,
                    const bench::CampaignProgress& progress) override;

private:
    std::string prefix_;
    bool tty_ = false;
};

// "<prefix>: run R stored in DB" on stderr, with a hint when the run was spooled; nothing when run_id is empty.
void print_stored_run(const std::string& prefix, const std::string& run_id, const std::string& stored_in,
                      bool spooling);

}  // namespace accel::cli
