#include "process_identity.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>

#include "accel/core/error.h"
#include "accel/store/records.h"
#include "database_impl.h"
#include "schema_internal.h"

namespace accel::store {

std::optional<int64_t> process_start_ticks(int64_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!f || !std::getline(f, text)) return std::nullopt;
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) {
        if (!(rest >> field)) return std::nullopt;
    }
    try {
        return std::stoll(field);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

ProcessIdentity this_process() {
    // Computed per call, not cached: a forked writer must not claim its parent's pid.
    ProcessIdentity p;
    p.pid = static_cast<int64_t>(getpid());
    p.start_ticks = process_start_ticks(p.pid);
    std::ifstream b("/proc/sys/kernel/random/boot_id");
    std::getline(b, p.boot_id);
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) p.host = host;
    return p;
}

bool process_alive(int64_t pid, std::optional<int64_t> start_ticks) {
    if (pid <= 0) return false;
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
    if (!start_ticks) return true;
    const auto now = process_start_ticks(pid);
    return !now || *now == *start_ticks;
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void mark_dead_runs_interrupted(Database& db) {
    const ProcessIdentity me = this_process();
    const auto running = db.query(
        "SELECT id, pid, pid_start_ticks, boot_id, host FROM runs WHERE status = 'running' AND source = 'accel'");
    std::string dead;
    for (const auto& row : running.rows) {
        const std::string host = row[4].value_or("");
        if (host != me.host) continue;
        const bool same_boot = row[3].value_or("") == me.boot_id && !me.boot_id.empty();
        const int64_t pid = row[1] ? std::stoll(*row[1]) : 0;
        const std::optional<int64_t> ticks = row[2] ? std::optional<int64_t>(std::stoll(*row[2])) : std::nullopt;
        if (same_boot && process_alive(pid, ticks)) continue;
        dead += (dead.empty() ? "" : ",") + sql_quote(row[0].value_or(""));
    }
    if (dead.empty()) return;
    db.exec("UPDATE runs SET status = 'interrupted', ended_at = coalesce(ended_at, now()) WHERE id IN (" + dead +
            ") AND status = 'running'");
}

}  // namespace accel::store
