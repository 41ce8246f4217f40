#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace accel::hw {

struct Browser {
    std::string name;     // "chromium", "chrome", "firefox"
    std::string path;     // the executable found on PATH
    std::string version;  // first line of `<path> --version`; "" when it failed
    std::string error;    // why the version is missing ("timed out after 5000 ms", "exit status 1")
};

// Looks on $PATH for Chromium, Chrome and Firefox executables and runs each with --version, killing it after
// `timeout`. Only `accel detect --browsers` calls this: plain detect runs no external program.
std::vector<Browser> find_browsers(std::chrono::milliseconds timeout);

}  // namespace accel::hw
