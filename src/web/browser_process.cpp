#include "accel/web/browser_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"

extern char** environ;

namespace accel::web {
namespace fs = std::filesystem;

std::vector<std::string> browser_argv(const BrowserSpec& spec, const fs::path& profile, const std::string& url) {
    std::vector<std::string> argv{spec.exe.string()};
    if (spec.name == "firefox") {
        argv.insert(argv.end(), {"--headless", "--no-remote", "--new-instance", "--profile", profile.string()});
    } else {
        // --no-sandbox: containers and root (CI) have no user namespaces for Chromium's sandbox; the page is
        // accel's own and the network is loopback only.
        argv.insert(argv.end(), {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                 "--no-default-browser-check", "--disable-background-networking",
                                 "--disable-component-update", "--disable-sync", "--disable-extensions",
                                 "--disable-default-apps", "--metrics-recording-only", "--mute-audio",
                                 "--disable-dev-shm-usage", "--user-data-dir=" + profile.string()});
    }
    argv.insert(argv.end(), spec.extra_args.begin(), spec.extra_args.end());
    argv.push_back(url);
    return argv;
}

namespace {

void write_firefox_prefs(const fs::path& profile) {
    // A closed network: no update, telemetry, safe-browsing or captive-portal traffic.
    std::ofstream out(profile / "user.js");
    out << "user_pref(\"app.update.enabled\", false);\n"
           "user_pref(\"browser.shell.checkDefaultBrowser\", false);\n"
           "user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);\n"
           "user_pref(\"toolkit.telemetry.enabled\", false);\n"
           "user_pref(\"network.captive-portal-service.enabled\", false);\n"
           "user_pref(\"network.connectivity-service.enabled\", false);\n"
           "user_pref(\"browser.safebrowsing.malware.enabled\", false);\n"
           "user_pref(\"browser.safebrowsing.phishing.enabled\", false);\n"
           "user_pref(\"extensions.update.enabled\", false);\n"
           "user_pref(\"browser.startup.homepage_override.mstone\", \"ignore\");\n"
           "user_pref(\"dom.webgpu.enabled\", true);\n";
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
    return "ended";
}

}  // namespace

std::vector<pid_t> processes_with_arg(const std::string& needle) {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string cmd = ss.str();
        if (cmd.empty() || cmd.find(needle) == std::string::npos) continue;
        // A zombie still shows no cmdline; one that does is alive.
        pids.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return pids;
}

BrowserProcess BrowserProcess::launch(const BrowserSpec& spec, const std::string& url) {
    BrowserProcess p;
    std::string tmpl = (fs::temp_directory_path() / "accel-web-profile-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw Error(ErrorKind::io, fmt::format("web: cannot make a browser profile folder: {}", std::strerror(errno)));
    p.profile_ = tmpl;
    p.log_ = p.profile_ / "accel-browser.log";
    if (spec.name == "firefox") write_firefox_prefs(p.profile_);
    const std::vector<std::string> args = browser_argv(spec, p.profile_, url);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // The environment is built before fork: the server's threads are running, so the child may only call
    // async-signal-safe functions (no malloc, no setenv). Browsers write caches under $HOME and the XDG folders:
    // keep them inside the profile.
    const std::vector<std::string> overrides{"HOME=" + p.profile_.string(),
                                             "XDG_CONFIG_HOME=" + (p.profile_ / "xdg-config").string(),
                                             "XDG_CACHE_HOME=" + (p.profile_ / "xdg-cache").string(), "MOZ_HEADLESS=1"};
    std::vector<std::string> env_strings = overrides;
    for (char** e = environ; *e; ++e) {
        const std::string_view kv(*e);
        const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const std::string& o) {
            return kv.substr(0, kv.find('=') + 1) == std::string_view(o).substr(0, o.find('=') + 1);
        });
        if (!replaced) env_strings.emplace_back(kv);
    }
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int log_fd = ::open(p.log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const pid_t pid = ::fork();
    if (pid < 0) {
        if (log_fd >= 0) ::close(log_fd);
        throw Error(ErrorKind::io, fmt::format("web: fork failed: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        ::setpgid(0, 0);  // its own group, so kill() reaches every helper process
        const int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(log_fd >= 0 ? log_fd : devnull, 1);
        ::dup2(log_fd >= 0 ? log_fd : devnull, 2);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    if (log_fd >= 0) ::close(log_fd);
    ::setpgid(pid, pid);  // also from the parent, so kill() works even if the child has not run yet
    p.pid_ = pid;
    ACCEL_LOG_DEBUG("web: started {} (pid {}) with profile {}", spec.name, pid, p.profile_.string());
    return p;
}

BrowserProcess::BrowserProcess(BrowserProcess&& o) noexcept
    : pid_(o.pid_), profile_(std::move(o.profile_)), log_(std::move(o.log_)), exit_(std::move(o.exit_)) {
    o.pid_ = -1;
    o.profile_.clear();
}

BrowserProcess::~BrowserProcess() { kill(); }

bool BrowserProcess::running() {
    if (pid_ < 0 || !exit_.empty()) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        exit_ = describe_status(status);
        return false;
    }
    return true;
}

std::string BrowserProcess::stderr_tail(size_t max_bytes) const {
    std::ifstream in(log_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

void BrowserProcess::kill() {
    if (pid_ > 0) {
        // TERM first so the browser can flush; KILL whatever is left after a grace period.
        ::kill(-pid_, SIGTERM);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (running() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ::kill(-pid_, SIGKILL);
        if (exit_.empty()) {
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            exit_ = describe_status(status);
        }
        pid_ = -1;
    }
    if (!profile_.empty()) {
        // A helper that left the group (Chromium's zygote may) still names the profile on its command line.
        for (int round = 0; round < 20; ++round) {
            const auto left = processes_with_arg(profile_.string());
            if (left.empty()) break;
            for (pid_t p : left) ::kill(p, SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        std::error_code ec;
        fs::remove_all(profile_, ec);
        if (ec) ACCEL_LOG_WARN("web: cannot remove browser profile {}: {}", profile_.string(), ec.message());
        profile_.clear();
    }
}

}  // namespace accel::web
