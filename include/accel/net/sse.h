#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace accel::net {

// One server-sent event carrying `data` (each line of it becomes a "data: " line), ended by a blank line.
std::string sse_event(std::string_view data);

// Splits a server-sent event stream, fed in arbitrary pieces, into the data of its events (the "data:" lines of
// one event joined by "\n"). Comments (":") and other fields are skipped. Not thread-safe.
class SseParser {
public:
    void feed(std::string_view bytes);
    // The events completed so far, oldest first; they are removed from the parser.
    std::vector<std::string> take_events();

private:
    std::string pending_;
    std::string data_;
    bool has_data_ = false;
    std::vector<std::string> events_;
};

}  // namespace accel::net
