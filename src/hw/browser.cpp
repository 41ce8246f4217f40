#include "accel/hw/browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fmt/core.h>

#include "text_files.h"

extern char** environ;

namespace accel::hw {
namespace {

struct Candidate {
    const char* name;
    const char* executable;
};
constexpr std::array<Candidate, 7> candidates = {{{"chromium", "chromium"},
                                                  {"chromium", "chromium-browser"},
                                                  {"chrome", "google-chrome"},
                                                  {"chrome", "google-chrome-stable"},
                                                  {"chrome", "chrome"},
                                                  {"firefox", "firefox"},
                                                  {"firefox", "firefox-esr"}}};

std::string on_path(const char* exe) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return {};
    std::string_view rest(path);
    while (!rest.empty()) {
        const size_t colon = rest.find(':');
        const std::string_view dir = rest.substr(0, colon);
        if (!dir.empty()) {
            const std::filesystem::path p = std::filesystem::path(dir) / exe;
            if (access(p.c_str(), X_OK) == 0) return p.string();
        }
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return {};
}

// Runs `path --version` and returns its first output line, or sets `error`.
std::string run_version(const std::string& path, std::chrono::milliseconds timeout, std::string& error) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        error = "pipe failed";
        return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string arg0 = path;
    std::string arg1 = "--version";
    std::array<char*, 3> argv = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        error = fmt::format("cannot start: errno {}", rc);
        return {};
    }
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        const int n = poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            timed_out = n == 0;
            break;
        }
        std::array<char, 4096> buf{};
        const ssize_t got = read(fds[0], buf.data(), buf.size());
        if (got <= 0) break;
        out.append(buf.data(), static_cast<size_t>(got));
        if (out.size() > 65536) break;
    }
    close(fds[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        error = fmt::format("timed out after {} ms", timeout.count());
        return {};
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        error = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status)) : "killed by a signal";
        return {};
    }
    std::string_view line = detail::trim(out);
    line = detail::trim(line.substr(0, line.find('\n')));
    if (line.empty()) error = "printed no version";
    return std::string(line);
}

}  // namespace

std::vector<Browser> find_browsers(std::chrono::milliseconds timeout) {
    std::vector<Browser> found;
    std::set<std::string> seen;
    for (const auto& c : candidates) {
        const std::string path = on_path(c.executable);
        if (path.empty()) continue;
        std::error_code ec;
        const std::string real = std::filesystem::canonical(path, ec).string();
        if (!seen.insert(ec ? path : real).second) continue;
        Browser b;
        b.name = c.name;
        b.path = path;
        b.version = run_version(path, timeout, b.error);
        found.push_back(std::move(b));
    }
    return found;
}

}  // namespace accel::hw
