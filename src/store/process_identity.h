// Internal to store/: who is writing a run, so another process can tell a live run from an interrupted one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace accel::store {

struct ProcessIdentity {
    int64_t pid = 0;
    std::optional<int64_t> start_ticks;  // field 22 of /proc/PID/stat: tells a reused pid apart
    std::string boot_id;                 // /proc/sys/kernel/random/boot_id, empty if unreadable
    std::string host;
};

ProcessIdentity this_process();
std::optional<int64_t> process_start_ticks(int64_t pid);

// True when the process that wrote a run on this host and boot still runs (and is the same process).
bool process_alive(int64_t pid, std::optional<int64_t> start_ticks);

int64_t now_ns();

}  // namespace accel::store
