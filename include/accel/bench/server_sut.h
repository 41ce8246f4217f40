#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <vector>

namespace accel::bench {

// The harness's side of a query's life: the system under test calls these from its serving thread, and the
// harness takes the timestamps (a SUT never times itself). Calls for one query come in order, once each.
class QueryObserver {
public:
    virtual ~QueryObserver() = default;
    virtual void first_token(uint32_t query) = 0;  // LLMs: the first generated token exists
    virtual void complete(uint32_t query) = 0;     // the query's last output exists
};

// The system under test of the offline and server scenarios, in the manner of LoadGen's SystemUnderTest.
// Queries are indices into the sample set the SUT was built with (LoadGen's QuerySampleLibrary), so issuing one
// neither copies nor allocates much.
class ServerSut {
public:
    virtual ~ServerSut() = default;
    virtual std::string_view name() const = 0;
    // Thread-safe; returns at once whatever the SUT is doing (queries queue up: LoadGen's server rule).
    virtual void issue(uint32_t query) = 0;
    // Thread-safe: no more queries will be issued.
    virtual void finish() = 0;
    // The serving loop, on the calling thread: serves issued queries, reporting to observer, and returns once
    // finish() was called and every issued query completed. Throws accel::Error when the device fails.
    virtual void serve(QueryObserver& observer) = 0;
};

// The queue between the issuing thread and a SUT's serving loop. Thread-safe.
class QueryQueue {
public:
    void push(uint32_t query) {
        {
            std::lock_guard lock(mu_);
            queue_.push_back(query);
        }
        cv_.notify_one();
    }
    void close() {
        {
            std::lock_guard lock(mu_);
            closed_ = true;
        }
        cv_.notify_one();
    }
    // Moves up to max queued queries to out (FIFO). When wait is set and nothing is queued, blocks until a query
    // arrives or the queue is closed. Returns false once the queue is closed and empty.
    bool take(std::vector<uint32_t>& out, size_t max, bool wait) {
        std::unique_lock lock(mu_);
        if (wait) cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
        while (max > 0 && !queue_.empty()) {
            out.push_back(queue_.front());
            queue_.pop_front();
            --max;
        }
        return !(closed_ && queue_.empty());
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<uint32_t> queue_;
    bool closed_ = false;
};

}  // namespace accel::bench
