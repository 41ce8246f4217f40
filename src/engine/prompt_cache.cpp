#include "accel/engine/prompt_cache.h"

#include <algorithm>

namespace accel::engine {

namespace {

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace

bool PromptCache::covers(std::span<const int32_t> tokens) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
        return e.tokens.size() >= tokens.size() && common_prefix(e.tokens, tokens) == tokens.size();
    });
}

bool PromptCache::insert(std::vector<int32_t> tokens, std::vector<uint8_t> state) {
    if (state.size() > budget_) return false;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (common_prefix(it->tokens, tokens) == it->tokens.size()) {
            n_bytes_ -= it->state.size();
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    while (!entries_.empty() && n_bytes_ + state.size() > budget_) {
        n_bytes_ -= entries_.back().state.size();
        entries_.pop_back();
    }
    n_bytes_ += state.size();
    entries_.push_front({.tokens = std::move(tokens), .state = std::move(state)});
    return true;
}

PromptCache::Match PromptCache::lookup(std::span<const int32_t> prompt) const {
    Match best;
    for (const Entry& e : entries_) {
        const size_t common = common_prefix(e.tokens, prompt);
        if (common > best.n_common) best = {.entry = &e, .n_common = common};
    }
    return best;
}

void PromptCache::touch(const Entry* entry) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (&*it != entry) continue;
        entries_.splice(entries_.begin(), entries_, it);
        return;
    }
}

void PromptCache::erase(const Entry* entry) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (&*it != entry) continue;
        n_bytes_ -= it->state.size();
        entries_.erase(it);
        return;
    }
}

void PromptCache::clear() {
    entries_.clear();
    n_bytes_ = 0;
}

}  // namespace accel::engine
