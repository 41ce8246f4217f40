#include "accel/bench/load_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Stores time points only: it runs on the serving thread, inside the timed path.
class Recorder : public QueryObserver {
public:
    explicit Recorder(size_t n) : first_(n), done_(n) {}
    void first_token(uint32_t q) override { first_[q] = Clock::now(); }
    void complete(uint32_t q) override { done_[q] = Clock::now(); }
    std::vector<std::optional<Clock::time_point>> first_;
    std::vector<Clock::time_point> done_;
};

int64_t ns(Clock::duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

}  // namespace

LoadRun run_load(ServerSut& sut, std::span<const double> arrivals_s, std::optional<Clock::time_point> start) {
    const size_t n = arrivals_s.size();
    Recorder rec(n);
    LoadRun run;
    run.arrival_ns.resize(n);
    for (size_t i = 0; i < n; ++i) run.arrival_ns[i] = static_cast<int64_t>(arrivals_s[i] * 1e9);

    std::exception_ptr failure;
    std::atomic<bool> failed{false};
    const Clock::time_point t0 = start.value_or(Clock::now());
    run.t0 = t0;
    // No exception crosses the thread: the serving thread hands it back.
    std::thread server([&] {
        try {
            sut.serve(rec);
        } catch (...) {
            failure = std::current_exception();
            failed.store(true);
        }
    });
    // A failed SUT ends the schedule early rather than after the rest of it (which may be minutes long).
    for (size_t i = 0; i < n && !failed.load(); ++i) {
        const Clock::time_point due = t0 + std::chrono::nanoseconds(run.arrival_ns[i]);
        std::this_thread::sleep_until(due);
        const Clock::time_point now = Clock::now();
        sut.issue(static_cast<uint32_t>(i));
        run.max_issue_lag_ns = std::max(run.max_issue_lag_ns, ns(now - due));
    }
    sut.finish();
    server.join();
    if (failure) std::rethrow_exception(failure);

    run.first_ns.resize(n);
    run.done_ns.resize(n);
    for (size_t i = 0; i < n; ++i) {
        if (rec.first_[i]) run.first_ns[i] = ns(*rec.first_[i] - t0);
        run.done_ns[i] = ns(rec.done_[i] - t0);
        run.span_ns = std::max(run.span_ns, run.done_ns[i]);
    }
    return run;
}

}  // namespace accel::bench
