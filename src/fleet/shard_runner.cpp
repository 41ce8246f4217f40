// accel run-shard: the requirement check, the campaign runner into a private database, the Parquet export and
// the attempt's folder renamed into place.
#include "accel/fleet/shard_runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_runner.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/partial_file.h"
#include "accel/core/paths.h"
#include "accel/store/database.h"
#include "accel/store/exporter.h"

namespace accel::fleet {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string node_name() {
    if (const std::string n = env("SLURMD_NODENAME"); !n.empty()) return n;
    char host[256] = {};
    return gethostname(host, sizeof(host) - 1) == 0 ? host : "unknown";
}

// The attempt number: given, Slurm's restart count, or one past the highest attempt started in shard_dir.
int32_t pick_attempt(const fs::path& shard_dir, std::optional<int32_t> given) {
    if (given) return *given;
    if (!env("SLURM_JOB_ID").empty()) {
        const std::string restarts = env("SLURM_RESTART_COUNT");
        return restarts.empty() ? 0 : std::stoi(restarts);
    }
    int32_t next = 0;
    static const std::regex name(R"(\.?attempt-([0-9]{1,6})(\..*)?)");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(shard_dir, ec)) {
        std::smatch m;
        const std::string n = e.path().filename().string();
        if (std::regex_match(n, m, name)) next = std::max(next, std::stoi(m[1].str()) + 1);
    }
    return next;
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out.flush()) throw Error(ErrorKind::io, path.string() + ": cannot write");
}

// The merge reads the plan beside the shards. Every shard of one plan writes the same text; a campaign planned
// again with another spec replaces it (the last plan's shards are the ones merged).
void write_plan_copy(const fs::path& path, const std::string& text) {
    std::ifstream in(path);
    std::stringstream old;
    if (in) old << in.rdbuf();
    if (in && old.str() == text) return;
    if (in) ACCEL_LOG_WARN("{}: the campaign was planned again; replacing the plan copy", path.string());
    PartialFile f(path);
    write_text(f.path(), text);
    f.commit();
}

std::string now_utc() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Runs the points into a database inside the attempt's folder and exports it as Parquet beside it.
void measure(const Plan& plan, const Shard& shard, const ShardRunOptions& o, const fs::path& tmp, int32_t attempt,
             bench::CampaignObserver& observer, ShardOutcome& out) {
    const fs::path db = tmp / "shard.duckdb";
    const bench::CampaignOptions copts{
        .point = point_options(plan.run),
        .store = true,
        .db = db,
        .command = o.command,
        .tags = {"campaign:" + plan.campaign, "shard:" + shard.id},
        .run_extra_json =
            json{{"campaign", plan.campaign}, {"shard", shard.id}, {"shard_index", shard.index}, {"attempt", attempt},
                 {"node", node_name()}}
                .dump()};
    const bench::CampaignOutcome c = bench::run_points(shard.points, copts, observer);
    out.counts = c.counts;
    out.run_id = c.run_id;
    if (c.provenance) write_text(tmp / "provenance.json", c.provenance->json_text + "\n");
    if (c.spooling) throw Error(ErrorKind::io, db.string() + ": the shard's database could not be opened");
    {
        store::Database d = store::Database::open(db);
        store::export_results(d, {.format = "parquet", .out_dir = tmp / "parquet", .where = ""});
    }
    for (const char* suffix : {"", ".wal"}) fs::remove(db.string() + suffix);
    if (c.counts.all_failed()) {
        out.status = "failed";
        for (const auto& r : c.results) {
            if (!r.ok) {
                out.reason = fmt::format("every point failed; first: {}: {}", r.failure_stage, r.failure_reason);
                break;
            }
        }
    }
}

}  // namespace

std::optional<std::string> unmet_requirement(const HardwareRequirement& r, const std::vector<hw::Device>& devices) {
    std::string seen;
    for (const auto& d : devices) {
        seen += (seen.empty() ? "" : ", ") + d.id;
        if (d.id != r.device) continue;
        if (!d.usable) return fmt::format("{} is not usable here: {}", d.id, d.reason);
        if (d.memory_total_bytes < r.min_memory_bytes) {
            return fmt::format("{} has {:.1f} GiB, the shard needs {}", d.id,
                               static_cast<double>(d.memory_total_bytes) / (1ULL << 30), r.describe());
        }
        return std::nullopt;
    }
    return fmt::format("the shard needs {}; this machine has no {} (devices: {})", r.describe(), r.device,
                       seen.empty() ? "none" : seen);
}

ShardOutcome run_shard(const Plan& plan, const ShardRunOptions& o, bench::CampaignObserver& observer) {
    if (o.index < 0 || o.index >= static_cast<int32_t>(plan.shards.size())) {
        throw Error(ErrorKind::invalid_input, fmt::format("--index {}: the plan has shards 0 to {}", o.index,
                                                          static_cast<int64_t>(plan.shards.size()) - 1));
    }
    const Shard& shard = plan.shards[static_cast<size_t>(o.index)];
    const fs::path campaign_dir = o.out_dir / plan.campaign;
    const fs::path shard_dir = campaign_dir / shard.id;
    paths::ensure_dir(shard_dir);
    write_plan_copy(campaign_dir / "plan.json", plan_to_json(plan));
    ShardOutcome out{.shard_id = shard.id, .attempt = pick_attempt(shard_dir, o.attempt), .status = "complete"};
    out.dir = shard_dir / fmt::format("attempt-{}", out.attempt);
    const fs::path tmp = shard_dir / fmt::format(".attempt-{}.tmp-{}", out.attempt, getpid());
    fs::remove_all(tmp);
    paths::ensure_dir(tmp);
    const std::string started = now_utc();
    std::optional<std::string> unmet;
    if (shard.requirement.kind != "cpu") unmet = unmet_requirement(shard.requirement, bench::probe_devices());
    if (unmet) {
        out.status = "unplaceable";
        out.reason = *unmet;
    } else {
        measure(plan, shard, o, tmp, out.attempt, observer, out);
    }
    const json result = {{"schema_version", 1},
                         {"campaign", plan.campaign},
                         {"shard_id", shard.id},
                         {"shard_index", shard.index},
                         {"attempt", out.attempt},
                         {"status", out.status},
                         {"reason", out.reason},
                         {"run_id", out.run_id},
                         {"node", node_name()},
                         {"started_at", started},
                         {"finished_at", now_utc()},
                         {"n_points_planned", shard.points.size()},
                         {"n_points", out.counts.n_points},
                         {"n_failed", out.counts.n_failed},
                         {"n_invalid", out.counts.n_invalid}};
    write_text(tmp / "result.json", result.dump(2) + "\n");
    std::error_code ec;
    fs::remove_all(out.dir, ec);  // a retry of this same attempt replaces it
    fs::rename(tmp, out.dir, ec);
    if (ec) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot rename {} to {}: {}", tmp.string(), out.dir.string(), ec.message()));
    }
    ACCEL_LOG_INFO("shard {} attempt {}: {}", shard.id, out.attempt, out.status);
    return out;
}

}  // namespace accel::fleet
