#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/generator.h"

namespace accel::engine {

// Holds back generated text that could still turn into a stop string, so that a stop string is never emitted
// (generate() and the server's streams share it, so both emit the same pieces). Not thread-safe.
class StopFilter {
public:
    explicit StopFilter(std::vector<std::string> stop) : stop_(std::move(stop)) {}

    // Passes the text that is final to sink (sink_ok takes its answer). Returns false once a stop string was found;
    // the text before it has been passed on.
    bool push(std::string_view piece, const TextSink& sink, bool& sink_ok);
    // Passes on what was held back (at the end of a generation that no stop string ended).
    void flush(const TextSink& sink);

private:
    std::vector<std::string> stop_;
    std::string pending_;
};

}  // namespace accel::engine
