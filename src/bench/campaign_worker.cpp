// A reused measuring process: one per model in a campaign, restarted after a crash.
#include "accel/bench/campaign_worker.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

bool send_all(int fd, const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

// The worker's side: a point index per line in, a PointResult's JSON per line out, until the socket closes.
[[noreturn]] void worker_main(int fd, const std::vector<PointSpec>& points, const PointOptions& options) {
    try {
        prepare_point_process();
        const char* abort_at = std::getenv("ACCEL_TEST_WORKER_ABORT");
        std::string in;
        char buf[256];
        for (;;) {
            const size_t nl = in.find('\n');
            if (nl == std::string::npos) {
                const ssize_t n = ::read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) ::_exit(0);  // the campaign closed the socket: no more points
                in.append(buf, static_cast<size_t>(n));
                continue;
            }
            const size_t index = std::stoul(in.substr(0, nl));
            in.erase(0, nl + 1);
            const PointSpec& spec = points.at(index);
            if (abort_at != nullptr && spec.test_name() == abort_at) std::abort();
            if (!send_all(fd, to_json_text(run_point(spec, options)) + "\n")) ::_exit(1);
        }
    } catch (...) {
        ::_exit(1);  // an exception escaping run_point reads as a crash, as in run_isolated
    }
}

}  // namespace

PointWorker::PointWorker(const std::vector<PointSpec>& points, const PointOptions& options)
    : points_(points), options_(options) {
    const ConnectedChild child = fork_connected();
    if (child.pid == 0) worker_main(child.fd, points, options);
    pid_ = child.pid;
    fd_ = child.fd;
}

PointWorker::~PointWorker() {
    if (fd_ >= 0) ::close(fd_);
    if (pid_ <= 0) return;
    // The worker leaves at the end of its input; one that does not within a few seconds is killed.
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        ::usleep(1000);
    }
}

PointResult PointWorker::failed(size_t index, const IsolatedOutcome& why) {
    PointResult r;
    r.spec = points_.at(index);
    r.failure_stage = why.failure_stage;
    r.failure_reason = why.failure_reason;
    return r;
}

PointResult PointWorker::measure(size_t index) {
    const auto end_worker = [&](bool kill) {
        int status = 0;
        if (kill) ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        ::close(fd_);
        fd_ = -1;
        pid_ = -1;
        return status;
    };
    if (pid_ <= 0) return failed(index, crash_outcome(0));
    std::string out;
    if (send_all(fd_, fmt::format("{}\n", index))) {
        const auto deadline = Clock::now() + options_.timeout;
        char buf[65536];
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) {
                end_worker(true);
                return failed(index, timeout_outcome(options_.timeout));
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000))) <= 0) continue;
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            out.append(buf, static_cast<size_t>(n));
            if (!out.empty() && out.back() == '\n') return point_result_from_json(out);
        }
    }
    return failed(index, crash_outcome(end_worker(false)));
}

}  // namespace accel::bench
