#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace accel {

// How a helper process ended.
enum class SpawnStatus : uint8_t { exited, signaled, timed_out };

struct SpawnResult {
    SpawnStatus status = SpawnStatus::exited;
    int exit_code = -1;  // when exited
    int signal = 0;      // when signaled (SIGKILL after a timeout is reported as timed_out)
    std::string err;     // the tail of the child's stderr, at most SpawnOptions::max_err_bytes
    std::chrono::nanoseconds elapsed{0};
};

struct SpawnOptions {
    std::chrono::milliseconds timeout{60000};  // then the child is killed with SIGKILL
    size_t max_err_bytes = 4096;               // stderr kept (the last bytes: the abort message comes last)
};

// Runs argv[0] (a path, not searched in PATH) with argv through posix_spawn (fork+exec semantics: nothing of this
// process's state, CUDA included, runs in the child), stdin and stdout on /dev/null, stderr captured, and waits
// for it or the timeout. Thread-safe. Throws Error{io} when the process cannot be started.
SpawnResult spawn_and_wait(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// One line for logs and errors: "exit 2", "signal 6 (Aborted)", "timed out after 60 s".
std::string describe(const SpawnResult& result);

// The last non-empty line of a child's stderr (without a leading "accel: error: "), or "" when it wrote nothing.
std::string last_line(const std::string& err);

// This process's own executable (/proc/self/exe, resolved), for running a helper entry of the same binary.
// Throws Error{io} when it cannot be read.
std::filesystem::path self_executable();

}  // namespace accel
