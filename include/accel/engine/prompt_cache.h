#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <vector>

namespace accel::engine {

// Host-memory copies of sequences' KV states, keyed by the tokens whose cells they hold (llama-server's
// --cache-ram): a slot about to be overwritten saves its state here, and a later prompt that shares a longer prefix
// with an entry than with any slot restores it instead of decoding that prefix again. Entries are kept in LRU order
// and the oldest are dropped to stay within the byte budget. The bytes are opaque (a target's save_slot format), so
// they are valid only for the session layout that wrote them: the owner clears the cache when that changes.
// Not thread-safe: the batcher's thread alone uses it.
class PromptCache {
public:
    struct Entry {
        std::vector<int32_t> tokens;  // the tokens whose cells the state holds, by position
        std::vector<uint8_t> state;
    };
    struct Match {
        const Entry* entry = nullptr;  // null: no entry shares a token with the prompt
        size_t n_common = 0;           // tokens the entry's start shares with the prompt
    };

    explicit PromptCache(size_t budget_bytes) : budget_(budget_bytes) {}

    // An entry already holds every one of these tokens (a prefix of its own): saving them again adds nothing.
    bool covers(std::span<const int32_t> tokens) const;
    // Stores an entry as the most recently used. Entries whose tokens are a prefix of the new one are dropped (it
    // holds all they do), then the oldest until the new one fits. Returns false (and stores nothing) when the state
    // alone exceeds the budget.
    bool insert(std::vector<int32_t> tokens, std::vector<uint8_t> state);
    // The entry sharing the longest prefix with the prompt (ties: the most recently used).
    Match lookup(std::span<const int32_t> prompt) const;
    void touch(const Entry* entry);  // marks an entry (one lookup returned) the most recently used
    void erase(const Entry* entry);  // an entry that failed to restore
    void clear();

    size_t n_bytes() const { return n_bytes_; }
    size_t n_entries() const { return entries_.size(); }
    size_t budget_bytes() const { return budget_; }

private:
    std::list<Entry> entries_;  // front: the most recently used
    size_t budget_;
    size_t n_bytes_ = 0;
};

}  // namespace accel::engine
