#include "accel/net/sse.h"

namespace accel::net {

std::string sse_event(std::string_view data) {
    std::string out;
    size_t pos = 0;
    for (;;) {
        const size_t eol = data.find('\n', pos);
        out += "data: ";
        out += data.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        out += '\n';
        if (eol == std::string_view::npos) break;
        pos = eol + 1;
    }
    out += '\n';
    return out;
}

void SseParser::feed(std::string_view bytes) {
    pending_ += bytes;
    size_t pos = 0;
    for (size_t eol; (eol = pending_.find('\n', pos)) != std::string::npos; pos = eol + 1) {
        std::string_view line(pending_.data() + pos, eol - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {  // the blank line ends an event
            if (has_data_) events_.push_back(std::move(data_));
            data_.clear();
            has_data_ = false;
            continue;
        }
        if (line.substr(0, 5) != "data:") continue;  // comments and other fields
        line.remove_prefix(5);
        if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        if (has_data_) data_ += '\n';
        data_ += line;
        has_data_ = true;
    }
    pending_.erase(0, pos);
}

std::vector<std::string> SseParser::take_events() {
    std::vector<std::string> out;
    out.swap(events_);
    return out;
}

}  // namespace accel::net
