#pragma once

#include <cstdint>
#include <string_view>

#include "accel/engine/continuous_batcher.h"
#include "accel/engine/parallel_target.h"
#include "accel/engine/query_queue.h"

namespace accel::bench {

// The engine's serving types, under the names the load harness uses: a SUT reports a query's life to a
// QueryObserver (the harness takes the timestamps: a SUT never times itself) and queues queries in a QueryQueue.
using engine::LlmQuery;
using engine::ParallelLlmTarget;
using engine::QueryObserver;
using engine::QueryQueue;

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

}  // namespace accel::bench
