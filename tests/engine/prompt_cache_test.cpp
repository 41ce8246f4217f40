// engine::PromptCache: longest-prefix lookup, LRU eviction within the byte budget, entries a newer one contains
// dropped, and states larger than the budget refused.
#include <gtest/gtest.h>

#include "accel/engine/prompt_cache.h"

namespace {

using accel::engine::PromptCache;

std::vector<uint8_t> bytes(size_t n) { return std::vector<uint8_t>(n, 7); }

TEST(PromptCache, LookupReturnsTheLongestCommonPrefix) {
    PromptCache cache(100);
    ASSERT_TRUE(cache.insert({1, 2, 3, 4}, bytes(10)));
    ASSERT_TRUE(cache.insert({1, 2, 9}, bytes(10)));
    const std::vector<int32_t> prompt{1, 2, 3, 5};
    const PromptCache::Match m = cache.lookup(prompt);
    ASSERT_NE(m.entry, nullptr);
    EXPECT_EQ(m.n_common, 3u);
    EXPECT_EQ(m.entry->tokens, (std::vector<int32_t>{1, 2, 3, 4}));
    const std::vector<int32_t> other{8, 1};
    EXPECT_EQ(cache.lookup(other).entry, nullptr);
    EXPECT_EQ(cache.n_bytes(), 20u);
}

TEST(PromptCache, EvictsTheLeastRecentlyUsedToFitTheBudget) {
    PromptCache cache(30);
    cache.insert({1}, bytes(10));
    cache.insert({2}, bytes(10));
    cache.insert({3}, bytes(10));
    const std::vector<int32_t> one{1};
    cache.touch(cache.lookup(one).entry);  // {2} is now the oldest
    ASSERT_TRUE(cache.insert({4}, bytes(15)));
    EXPECT_EQ(cache.n_entries(), 2u);  // {2} and {3} made room for 15 bytes
    EXPECT_EQ(cache.n_bytes(), 25u);
    const std::vector<int32_t> two{2}, three{3};
    EXPECT_EQ(cache.lookup(two).entry, nullptr);
    EXPECT_EQ(cache.lookup(three).entry, nullptr);
    EXPECT_NE(cache.lookup(one).entry, nullptr);
    EXPECT_FALSE(cache.insert({5}, bytes(31)));  // larger than the whole budget: refused, nothing evicted
    EXPECT_EQ(cache.n_entries(), 2u);
}

TEST(PromptCache, ANewEntryReplacesTheEntriesItContains) {
    PromptCache cache(100);
    cache.insert({1, 2}, bytes(10));
    cache.insert({1, 3}, bytes(10));
    const std::vector<int32_t> saved{1, 2, 3};
    EXPECT_FALSE(cache.covers(saved));
    cache.insert(saved, bytes(20));
    EXPECT_EQ(cache.n_entries(), 2u);  // {1, 2} is part of {1, 2, 3}; {1, 3} is not
    EXPECT_EQ(cache.n_bytes(), 30u);
    const std::vector<int32_t> part{1, 2};
    EXPECT_TRUE(cache.covers(part));
    EXPECT_TRUE(cache.covers(saved));
    cache.erase(cache.lookup(saved).entry);
    cache.clear();
    EXPECT_EQ(cache.n_entries(), 0u);
    EXPECT_EQ(cache.n_bytes(), 0u);
}

}  // namespace
