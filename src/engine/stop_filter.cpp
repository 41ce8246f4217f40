#include "accel/engine/stop_filter.h"

#include <algorithm>

namespace accel::engine {

bool StopFilter::push(std::string_view piece, const TextSink& sink, bool& sink_ok) {
    if (stop_.empty()) {
        sink_ok = sink(piece);
        return true;
    }
    pending_ += piece;
    for (const auto& s : stop_) {
        if (auto pos = pending_.find(s); pos != std::string::npos) {
            if (pos > 0) sink_ok = sink(std::string_view(pending_).substr(0, pos));
            pending_.clear();
            return false;
        }
    }
    size_t keep = 0;
    for (const auto& s : stop_) {
        for (size_t k = std::min(s.size() - 1, pending_.size()); k > keep; --k) {
            if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
                keep = k;
                break;
            }
        }
    }
    if (pending_.size() > keep) {
        sink_ok = sink(std::string_view(pending_).substr(0, pending_.size() - keep));
        pending_.erase(0, pending_.size() - keep);
    }
    return true;
}

void StopFilter::flush(const TextSink& sink) {
    if (!pending_.empty()) sink(pending_);
    pending_.clear();
}

}  // namespace accel::engine
