#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::web {

struct BrowserSpec {
    std::string name;                 // "chromium" or "firefox"
    std::filesystem::path exe;        // the executable
    std::vector<std::string> extra_args{};  // e.g. the WebGPU/WebNN feature flags
};

// The command line accel uses for `spec` on `url` with profile folder `profile`: headless, closed network
// (no background networking, component updates, sync, first-run or QUIC). Exposed for tests and docs.
std::vector<std::string> browser_argv(const BrowserSpec& spec, const std::filesystem::path& profile,
                                      const std::string& url);

// One headless browser with a fresh temporary profile. The browser runs in its own process group; kill()
// (also run by the destructor, so on errors and on Ctrl-C unwinding) ends the group, then any process still
// naming the profile folder on its command line, reaps the child and removes the profile.
// Not thread-safe.
class BrowserProcess {
public:
    // Throws Error{io} when the profile cannot be made or the process cannot start.
    static BrowserProcess launch(const BrowserSpec& spec, const std::string& url);
    ~BrowserProcess();
    BrowserProcess(BrowserProcess&& other) noexcept;
    BrowserProcess& operator=(BrowserProcess&&) = delete;
    BrowserProcess(const BrowserProcess&) = delete;

    pid_t pid() const { return pid_; }
    const std::filesystem::path& profile() const { return profile_; }
    // True while the main process has not exited. Reaps it when it has.
    bool running();
    // Exit description once it ended ("exit status 0", "signal 9"); "" while running.
    const std::string& exit_description() const { return exit_; }
    // The last bytes the browser wrote to stderr (kept in the profile folder until kill()).
    std::string stderr_tail(size_t max_bytes = 2000) const;
    void kill();

private:
    BrowserProcess() = default;
    pid_t pid_ = -1;
    std::filesystem::path profile_;
    std::filesystem::path log_;
    std::string exit_;
};

// Pids of live processes whose command line contains `needle` (the leftover check).
std::vector<pid_t> processes_with_arg(const std::string& needle);

}  // namespace accel::web
