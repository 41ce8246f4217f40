#pragma once

#include <string>
#include <utility>
#include <vector>

namespace accel {

// How this process was started: what a stored run needs to be run again.
struct Invocation {
    std::vector<std::string> argv;                                  // as the kernel holds it, argv[0] included
    std::vector<std::pair<std::string, std::string>> environment;  // every ACCEL_* variable set, sorted by name
};

// Reads /proc/self/cmdline (empty argv when unreadable) and the ACCEL_* variables of the environment.
// Not thread-safe with setenv.
Invocation current_invocation();

// One POSIX shell line that reruns it: "ACCEL_DEVICES=cpu accel bench -m 'my model.gguf'", each word quoted only
// when it needs to be ('…', with ' written as '\''). Empty when argv is empty.
std::string shell_command(const Invocation& invocation);

}  // namespace accel
