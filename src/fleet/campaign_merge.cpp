// Campaign merge: the latest complete attempt of each shard into the warehouse, once.
#include "accel/fleet/campaign_merge.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/fleet/plan.h"
#include "accel/store/exporter.h"

namespace accel::fleet {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Attempt {
    int32_t number = 0;
    fs::path dir;
    json result;
};

json read_json(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw Error(ErrorKind::io, file.string() + ": cannot read");
    std::stringstream text;
    text << in.rdbuf();
    try {
        return json::parse(text.str());
    } catch (const json::exception& e) {
        throw Error(ErrorKind::invalid_input, file.string() + ": " + e.what());
    }
}

std::string first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

// The finished attempts of a shard (attempt-N with a result.json), by number; counts the unfinished ones.
std::vector<Attempt> attempts_of(const fs::path& shard_dir, int32_t& n_unfinished) {
    static const std::regex done(R"(attempt-([0-9]{1,6}))");
    static const std::regex unfinished(R"(\.attempt-[0-9]{1,6}\.tmp-[0-9]+)");
    std::vector<Attempt> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(shard_dir, ec)) {
        const std::string name = e.path().filename().string();
        std::smatch m;
        if (std::regex_match(name, m, done) && fs::exists(e.path() / "result.json")) {
            out.push_back({std::stoi(m[1].str()), e.path(), read_json(e.path() / "result.json")});
        } else if (std::regex_match(name, unfinished)) {
            ++n_unfinished;
        }
    }
    std::sort(out.begin(), out.end(), [](const Attempt& a, const Attempt& b) { return a.number < b.number; });
    return out;
}

bool has_parquet_results(const fs::path& parquet_dir) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(parquet_dir / "results", ec); !ec && it != fs::end(it);
         it.increment(ec)) {
        if (it->path().extension() == ".parquet") return true;
    }
    return false;
}

int64_t count(store::Database& db, const std::string& sql) {
    return std::stoll(db.query(sql).rows.at(0).at(0).value_or("0"));
}

// Removes a run an earlier merge imported from an attempt that a later one supersedes; returns its result rows.
int64_t remove_run(store::Database& db, const std::string& run_id) {
    if (run_id.empty()) return 0;
    const std::string q = store::sql_quote(run_id);
    const int64_t n = count(db, "SELECT count(*) FROM results WHERE run_id = " + q);
    store::Transaction tx(db);
    db.exec("DELETE FROM samples WHERE result_id IN (SELECT id FROM results WHERE run_id = " + q + ")");
    db.exec("DELETE FROM results WHERE run_id = " + q);
    db.exec("DELETE FROM failures WHERE run_id = " + q);
    db.exec("DELETE FROM runs WHERE id = " + q);
    tx.commit();
    return n;
}

void merge_shard(store::Database& db, const fs::path& shard_dir, ShardMergeState& s, CampaignMergeReport& report) {
    std::vector<Attempt> attempts = attempts_of(shard_dir, s.n_unfinished_attempts);
    const Attempt* chosen = nullptr;
    for (const auto& a : attempts) {
        if (a.result.value("status", "") != "complete") continue;
        ++s.n_complete_attempts;
        chosen = &a;
    }
    if (s.n_complete_attempts > 1) ++report.n_duplicate;
    for (const auto& a : attempts) {
        if (&a != chosen && a.result.value("status", "") == "complete") {
            report.n_superseded_results += remove_run(db, a.result.value("run_id", ""));
        }
    }
    if (chosen == nullptr) {
        const fs::path unplaceable = shard_dir / "unplaceable.txt";
        if (!attempts.empty()) {
            const json& last = attempts.back().result;
            s.state = last.value("status", "failed") == "unplaceable" ? "unplaceable" : "failed";
            s.reason = fmt::format("attempt {} on {}: {}", attempts.back().number, last.value("node", "?"),
                                   last.value("reason", ""));
        } else if (fs::exists(unplaceable)) {
            s.state = "unplaceable";
            s.reason = first_line(unplaceable);
        } else {
            s.state = "missing";
        }
        (s.state == "missing" ? report.n_missing : s.state == "failed" ? report.n_failed : report.n_unplaceable)++;
        return;
    }
    s.attempt = chosen->number;
    const std::string run_id = chosen->result.value("run_id", "");
    if (has_parquet_results(chosen->dir / "parquet")) {
        const store::WriteCounts n = store::merge_sources(db, {chosen->dir / "parquet"});
        report.counts += n;
        s.state = n.results > 0 ? "merged" : "already merged";
    } else {
        s.state = "merged";  // every point failed and nothing was stored
    }
    s.n_results = count(db, "SELECT count(*) FROM results WHERE run_id = " + store::sql_quote(run_id));
}

}  // namespace

std::vector<fs::path> campaign_dirs(const fs::path& path) {
    std::error_code ec;
    const auto is_campaign = [&](const fs::path& d) { return fs::is_regular_file(d / "plan.json", ec); };
    if (!fs::is_directory(path, ec)) return {};
    if (is_campaign(path)) return {path};
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(path, ec)) {
        if (e.is_directory(ec) && is_campaign(e.path())) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

CampaignMergeReport merge_campaign(store::Database& db, const fs::path& campaign_dir) {
    const Plan plan = read_plan(campaign_dir / "plan.json");
    CampaignMergeReport report{.campaign = plan.campaign};
    for (const Shard& shard : plan.shards) {
        ShardMergeState s{.index = shard.index,
                          .id = shard.id,
                          .requirement_class = shard.requirement.class_name(),
                          .n_points_planned = static_cast<int64_t>(shard.points.size())};
        merge_shard(db, campaign_dir / shard.id, s, report);
        report.shards.push_back(std::move(s));
    }
    return report;
}

}  // namespace accel::fleet
