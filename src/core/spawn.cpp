#include "accel/core/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "accel/core/error.h"

extern char** environ;

namespace accel {

namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

struct FileActions {
    posix_spawn_file_actions_t a{};
    FileActions() { posix_spawn_file_actions_init(&a); }
    ~FileActions() { posix_spawn_file_actions_destroy(&a); }
};

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

}  // namespace

SpawnResult spawn_and_wait(const std::vector<std::string>& argv, const SpawnOptions& options) {
    if (argv.empty()) throw Error(ErrorKind::internal, "spawn_and_wait: empty argument list");
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw Error(ErrorKind::io, fmt::format("cannot start {}: pipe: {}", argv[0], std::strerror(errno)));
    Fd read_end{pipe_fds[0]};
    Fd write_end{pipe_fds[1]};

    FileActions fa;
    posix_spawn_file_actions_addopen(&fa.a, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa.a, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa.a, write_end.fd, 2);

    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = -1;
    if (const int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa.a, nullptr, args.data(), environ); rc != 0)
        throw Error(ErrorKind::io, fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
    ::close(write_end.fd);
    write_end.fd = -1;

    SpawnResult r;
    const auto deadline = t0 + options.timeout;
    bool timed_out = false;
    char buf[4096];
    for (;;) {
        pollfd p{.fd = read_end.fd, .events = POLLIN, .revents = 0};
        const int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            timed_out = true;
            break;
        }
        const ssize_t got = ::read(read_end.fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;  // EOF: the child (and anything it started) closed stderr
        r.err.append(buf, static_cast<size_t>(got));
        if (r.err.size() > options.max_err_bytes) r.err.erase(0, r.err.size() - options.max_err_bytes);
    }
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw Error(ErrorKind::io, fmt::format("waiting for {}: {}", argv[0], std::strerror(errno)));
        if (remaining_ms(deadline) == 0 && !timed_out) {
            timed_out = true;
            ::kill(pid, SIGKILL);
        }
    }
    r.elapsed = std::chrono::steady_clock::now() - t0;
    if (timed_out) {
        r.status = SpawnStatus::timed_out;
    } else if (WIFSIGNALED(status)) {
        r.status = SpawnStatus::signaled;
        r.signal = WTERMSIG(status);
    } else {
        r.status = SpawnStatus::exited;
        r.exit_code = WEXITSTATUS(status);
    }
    return r;
}

std::string describe(const SpawnResult& result) {
    switch (result.status) {
        case SpawnStatus::exited:
            return fmt::format("exit {}", result.exit_code);
        case SpawnStatus::signaled:
            return fmt::format("signal {} ({})", result.signal, ::strsignal(result.signal));
        case SpawnStatus::timed_out:
            return fmt::format("timed out after {:.0f} s",
                               std::chrono::duration<double>(result.elapsed).count());
    }
    return "unknown";
}

std::string last_line(const std::string& err) {
    const size_t end = err.find_last_not_of("\r\n ");
    if (end == std::string::npos) return {};
    const size_t nl = err.rfind('\n', end);
    const size_t start = nl == std::string::npos ? 0 : nl + 1;
    std::string line = err.substr(start, end + 1 - start);
    for (const std::string_view prefix : {"accel: error: ", "error: "})
        if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
    return line;
}

std::filesystem::path self_executable() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error(ErrorKind::io, "cannot find this program's executable (/proc/self/exe): " + ec.message());
    return p;
}

}  // namespace accel
