#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace accel::engine {

// The queue between the thread that issues queries and a serving loop (the continuous batcher's, a server's).
// Thread-safe.
template <typename T>
class BasicQueue {
public:
    void push(T query) {
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
    bool take(std::vector<T>& out, size_t max, bool wait) {
        std::unique_lock lock(mu_);
        if (wait) cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
        while (max > 0 && !queue_.empty()) {
            out.push_back(queue_.front());
            queue_.pop_front();
            --max;
        }
        return !(closed_ && queue_.empty());
    }
    size_t size() const {
        std::lock_guard lock(mu_);
        return queue_.size();
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<T> queue_;
    bool closed_ = false;
};

// Queries as indices into a sample set the server was built with (LoadGen's QuerySampleLibrary).
using QueryQueue = BasicQueue<uint32_t>;

}  // namespace accel::engine
