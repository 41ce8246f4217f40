// engine::ContinuousBatcher on a scripted target (no model): every query gets its n_gen tokens, the last generated
// token is fed back, batches stay within n_batch and the slots, and freed slots are reused.
#include <algorithm>
#include <cstring>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/engine/continuous_batcher.h"

namespace {

using namespace accel;

// The "model" answers the token it was fed plus one, so a query whose prompt ends in p must generate p+1, p+2, ...
class CountingTarget : public engine::ParallelLlmTarget {
public:
    CountingTarget(int32_t slots, int32_t batch) : slots_(slots), batch_(batch) {}
    int32_t n_vocab() const override { return 1 << 20; }
    bool add_bos() const override { return false; }
    int32_t bos() const override { return 0; }
    int32_t n_slots() const override { return slots_; }
    int32_t n_batch() const override { return batch_; }
    void clear_all() override {}
    void clear_slot(int32_t slot) override { ++cleared[static_cast<size_t>(slot)]; }
    void decode(std::span<const engine::BatchToken> batch) override {
        last_.assign(batch.begin(), batch.end());
        largest_batch = std::max(largest_batch, static_cast<int32_t>(batch.size()));
        for (const auto& t : batch) {
            if (t.seq < 0 || t.seq >= slots_) bad_seq = true;
        }
    }
    int32_t greedy(int32_t i) override { return last_.at(static_cast<size_t>(i)).token + 1; }
    bool trim_slot(int32_t slot, int32_t n_keep) override {
        trims.emplace_back(slot, n_keep);
        return true;
    }
    const std::vector<engine::BatchToken>& last_batch() const { return last_; }

    std::vector<std::pair<int32_t, int32_t>> trims;

    int32_t largest_batch = 0;
    bool bad_seq = false;
    std::vector<int> cleared = std::vector<int>(16, 0);

private:
    int32_t slots_;
    int32_t batch_;
    std::vector<engine::BatchToken> last_;
};

class Log : public engine::QueryObserver {
public:
    void first_token(uint32_t q) override { events.push_back({q, 'f'}); }
    void complete(uint32_t q) override { events.push_back({q, 'c'}); }
    std::vector<std::pair<uint32_t, char>> events;
};

TEST(ContinuousBatcher, EveryQueryGetsItsTokensWithinTheBatchAndSlots) {
    CountingTarget target(3, 8);
    std::vector<engine::LlmQuery> queries;
    for (int32_t i = 0; i < 7; ++i) {
        std::vector<int32_t> prompt(static_cast<size_t>(1 + i * 3));  // up to 19 tokens: prefilled in chunks
        for (size_t k = 0; k < prompt.size(); ++k) prompt[k] = 1000 * (i + 1) + static_cast<int32_t>(k);
        queries.push_back({.prompt = prompt, .n_gen = 1 + i % 4});
    }
    engine::ContinuousBatcher batcher(target, queries);
    for (uint32_t q = 0; q < queries.size(); ++q) batcher.issue(q);
    batcher.finish();
    Log log;
    batcher.serve(log);

    for (uint32_t q = 0; q < queries.size(); ++q) {
        std::vector<int32_t> want;
        for (int32_t k = 1; k <= queries[q].n_gen; ++k) want.push_back(queries[q].prompt.back() + k);
        EXPECT_EQ(batcher.generated(q), want) << "query " << q;
        const auto first = std::find(log.events.begin(), log.events.end(), std::pair{q, 'f'});
        const auto done = std::find(log.events.begin(), log.events.end(), std::pair{q, 'c'});
        ASSERT_NE(first, log.events.end());
        ASSERT_NE(done, log.events.end());
        EXPECT_LT(first, done);
    }
    EXPECT_EQ(log.events.size(), 2 * queries.size());
    EXPECT_LE(target.largest_batch, 8);
    EXPECT_FALSE(target.bad_seq);
    EXPECT_EQ(batcher.max_in_flight(), 3);
    int cleared = 0;
    for (int c : target.cleared) cleared += c;
    EXPECT_EQ(cleared, 7);  // each finished query frees its slot
}

TEST(ContinuousBatcher, ServesQueriesIssuedFromAnotherThread) {
    CountingTarget target(2, 4);
    const std::vector<engine::LlmQuery> queries(5, engine::LlmQuery{.prompt = {7, 8}, .n_gen = 3});
    engine::ContinuousBatcher batcher(target, queries);
    std::thread issuer([&] {
        for (uint32_t q = 0; q < queries.size(); ++q) batcher.issue(q);
        batcher.finish();
    });
    Log log;
    batcher.serve(log);
    issuer.join();
    for (uint32_t q = 0; q < queries.size(); ++q) EXPECT_EQ(batcher.generated(q), (std::vector<int32_t>{9, 10, 11}));
}

TEST(ContinuousBatcher, RejectsBadQueriesAndMoreSlotsThanBatch) {
    CountingTarget target(2, 4);
    const std::vector<engine::LlmQuery> empty_prompt{{.prompt = {}, .n_gen = 1}};
    EXPECT_THROW(engine::ContinuousBatcher(target, empty_prompt), Error);
    const std::vector<engine::LlmQuery> no_output{{.prompt = {1}, .n_gen = 0}};
    EXPECT_THROW(engine::ContinuousBatcher(target, no_output), Error);
    CountingTarget wide(8, 4);
    const std::vector<engine::LlmQuery> ok{{.prompt = {1}, .n_gen = 1}};
    EXPECT_THROW(engine::ContinuousBatcher(wide, ok), Error);
}

// A server's observer: records starts, tokens and completions, and ends a query at a given token.
class ServerLog : public engine::QueryObserver {
public:
    void first_token(uint32_t) override {}
    void complete(uint32_t q) override { completed.push_back(q); }
    void started(uint32_t q, int32_t n_cached) override { cached[q] = n_cached; }
    bool token(uint32_t q, int32_t tok) override {
        tokens[q].push_back(tok);
        return tok != stop_at;
    }
    std::map<uint32_t, int32_t> cached;
    std::map<uint32_t, std::vector<int32_t>> tokens;
    std::vector<uint32_t> completed;
    int32_t stop_at = -1;
};

void run_until_idle(engine::ContinuousBatcher& b, engine::QueryObserver& log) {
    for (int i = 0; i < 10000 && b.step(log); ++i) {
    }
}

TEST(ContinuousBatcher, ReusesTheLongestCachedPrefixOfAFreeSlot) {
    CountingTarget target(2, 16);
    engine::ContinuousBatcher batcher(target, engine::BatcherOptions{.reuse_prefix = true});
    ServerLog log;
    const engine::LlmQuery q1{.prompt = {1, 2, 3, 4}, .n_gen = 2};  // generates 5, 6; the slot then holds 1..5
    batcher.issue(1, q1);
    run_until_idle(batcher, log);
    EXPECT_EQ(log.tokens[1], (std::vector<int32_t>{5, 6}));
    EXPECT_EQ(log.cached[1], 0);

    const engine::LlmQuery q2{.prompt = {1, 2, 3, 4, 5, 6, 7}, .n_gen = 1};
    batcher.issue(2, q2);
    ASSERT_TRUE(batcher.step(log));
    EXPECT_EQ(log.cached[2], 5);  // 1..5 are in the slot: only 6 and 7 are decoded
    ASSERT_EQ(target.last_batch().size(), 2u);
    EXPECT_EQ(target.last_batch()[0].token, 6);
    EXPECT_EQ(target.last_batch()[0].pos, 5);
    EXPECT_EQ(log.tokens[2], (std::vector<int32_t>{8}));
    EXPECT_TRUE(target.trims.empty());

    // A shorter common prefix: the slot is trimmed to it. The same prompt again keeps all but its last token.
    const engine::LlmQuery q3{.prompt = {1, 2, 9}, .n_gen = 1};
    batcher.issue(3, q3);
    run_until_idle(batcher, log);
    EXPECT_EQ(log.cached[3], 2);
    ASSERT_EQ(target.trims.size(), 1u);
    EXPECT_EQ(target.trims[0].second, 2);
    batcher.issue(4, q3);
    run_until_idle(batcher, log);
    EXPECT_EQ(log.cached[4], 2);
    EXPECT_EQ(log.tokens[4], (std::vector<int32_t>{10}));
    const engine::BatcherStats st = batcher.stats();
    EXPECT_EQ(st.prefix_hits, 3u);
    EXPECT_EQ(st.prefix_tokens, 9u);
    EXPECT_EQ(st.n_busy, 0);
    EXPECT_EQ(st.n_cells, 3);  // the last slot holds 1, 2, 9 (its one generated token was never fed back)
    int cleared = 0;
    for (int c : target.cleared) cleared += c;
    EXPECT_EQ(cleared, 0);  // with reuse, finished queries keep their cells
}

// A target with real per-slot state: each slot holds its tokens by position, and the greedy answer depends on all of
// them (so a restored state that lost or mixed cells answers differently). States are the tokens as bytes.
class StatefulTarget : public engine::ParallelLlmTarget {
public:
    explicit StatefulTarget(int32_t slots) : cells_(static_cast<size_t>(slots)) {}
    int32_t n_vocab() const override { return 1 << 20; }
    bool add_bos() const override { return false; }
    int32_t bos() const override { return 0; }
    int32_t n_slots() const override { return static_cast<int32_t>(cells_.size()); }
    int32_t n_batch() const override { return 64; }
    void clear_all() override {
        for (auto& c : cells_) c.clear();
    }
    void clear_slot(int32_t slot) override { cells_.at(static_cast<size_t>(slot)).clear(); }
    void decode(std::span<const engine::BatchToken> batch) override {
        answers_.assign(batch.size(), -1);  // greedy(i) is asked for batch index i, as with llama.cpp
        for (size_t i = 0; i < batch.size(); ++i) {
            const auto& t = batch[i];
            auto& c = cells_.at(static_cast<size_t>(t.seq));
            if (t.pos != static_cast<int32_t>(c.size())) bad_pos = true;  // a hole or an overlap in the slot
            c.push_back(t.token);
            if (!t.logits) continue;
            int64_t h = 0;
            for (size_t j = 0; j < c.size(); ++j) h += c[j] * static_cast<int64_t>(j + 1);
            answers_[i] = static_cast<int32_t>(100 + h % 1000);
        }
    }
    int32_t greedy(int32_t i) override { return answers_.at(static_cast<size_t>(i)); }
    bool trim_slot(int32_t slot, int32_t n_keep) override {
        auto& c = cells_.at(static_cast<size_t>(slot));
        c.resize(std::min(c.size(), static_cast<size_t>(n_keep)));
        return true;
    }
    std::vector<uint8_t> save_slot(int32_t slot) override {
        ++saves;
        const auto& c = cells_.at(static_cast<size_t>(slot));
        std::vector<uint8_t> bytes(c.size() * sizeof(int32_t));
        std::memcpy(bytes.data(), c.data(), bytes.size());
        return bytes;
    }
    bool restore_slot(int32_t slot, std::span<const uint8_t> state) override {
        restores.push_back(slot);
        auto& c = cells_.at(static_cast<size_t>(slot));
        c.resize(state.size() / sizeof(int32_t));
        std::memcpy(c.data(), state.data(), state.size());
        return true;
    }
    int saves = 0;
    std::vector<int32_t> restores;
    bool bad_pos = false;

private:
    std::vector<std::vector<int32_t>> cells_;
    std::vector<int32_t> answers_;
};

engine::LlmQuery prompt_of(int32_t base) {
    engine::LlmQuery q{.n_gen = 3};
    for (int32_t k = 0; k < 8; ++k) q.prompt.push_back(base + k);
    return q;
}

// After a query of prompt_of the slot holds its 8 prompt tokens and 2 of its 3 generated ones (the last is never fed).
constexpr size_t kStateBytes = 10 * sizeof(int32_t);

TEST(ContinuousBatcher, HostCacheRestoresAPromptAfterAnotherTookTheSlot) {
    StatefulTarget target(1);
    engine::ContinuousBatcher batcher(target, {.reuse_prefix = true, .prompt_cache_bytes = 1 << 20});
    ServerLog log;
    const engine::LlmQuery a = prompt_of(10), b = prompt_of(500);
    batcher.issue(1, a);
    run_until_idle(batcher, log);
    batcher.issue(2, b);  // the slot held A: saved before B overwrites it
    run_until_idle(batcher, log);
    EXPECT_EQ(target.saves, 1);
    EXPECT_TRUE(target.restores.empty());
    batcher.issue(3, a);  // B saved, A restored into the slot that held B, trimmed to all but A's last token
    run_until_idle(batcher, log);
    EXPECT_FALSE(target.bad_pos);
    EXPECT_EQ(target.saves, 2);
    EXPECT_EQ(target.restores, (std::vector<int32_t>{0}));
    EXPECT_EQ(log.cached[3], 7);
    EXPECT_EQ(log.tokens[3], log.tokens[1]);  // the restored cells answer as the originals did
    EXPECT_NE(log.tokens[1], log.tokens[2]);
    const engine::BatcherStats st = batcher.stats();
    EXPECT_EQ(st.prompt_cache_hits, 1u);
    EXPECT_EQ(st.prompt_cache_tokens, 7u);
    EXPECT_EQ(st.prefix_hits, 0u);  // slot hits are counted apart
    EXPECT_EQ(st.prompt_cache_entries, 2);
    EXPECT_EQ(st.prompt_cache_bytes, static_cast<int64_t>(2 * kStateBytes));

    // The slot again holds what the A entry holds: overwriting it saves nothing new.
    batcher.issue(4, b);
    run_until_idle(batcher, log);
    EXPECT_EQ(target.saves, 2);
    EXPECT_EQ(log.cached[4], 7);
    EXPECT_EQ(log.tokens[4], log.tokens[2]);

    // A new session layout: the saved states are dropped with the slots' cells.
    batcher.rebind(target, false);
    EXPECT_EQ(batcher.stats().prompt_cache_entries, 0);
    EXPECT_EQ(batcher.stats().prompt_cache_bytes, 0);
}

TEST(ContinuousBatcher, HostCacheEvictsTheLeastRecentlyUsedStateToStayInItsBudget) {
    StatefulTarget target(1);
    engine::ContinuousBatcher batcher(target, {.reuse_prefix = true, .prompt_cache_bytes = 2 * kStateBytes});
    ServerLog log;
    const engine::LlmQuery a = prompt_of(10), b = prompt_of(500), c = prompt_of(900);
    uint32_t id = 0;
    for (const engine::LlmQuery* q : {&a, &b, &c, &b, &a}) {
        batcher.issue(++id, *q);
        run_until_idle(batcher, log);
        EXPECT_LE(batcher.stats().prompt_cache_bytes, static_cast<int64_t>(2 * kStateBytes)) << "query " << id;
    }
    // B's state (saved when C came) is restored; A's, the oldest, made room for C's when B came again.
    EXPECT_EQ(log.cached[4], 7);
    EXPECT_EQ(log.tokens[4], log.tokens[2]);
    EXPECT_EQ(log.cached[5], 0);
    EXPECT_EQ(log.tokens[5], log.tokens[1]);
    EXPECT_EQ(batcher.stats().prompt_cache_hits, 1u);
    EXPECT_EQ(batcher.stats().prompt_cache_entries, 2);
    EXPECT_FALSE(target.bad_pos);
}

TEST(ContinuousBatcher, HostCacheIsOffWithABudgetOfZero) {
    StatefulTarget target(1);
    engine::ContinuousBatcher batcher(target, {.reuse_prefix = true});
    ServerLog log;
    const engine::LlmQuery a = prompt_of(10), b = prompt_of(500);
    uint32_t id = 0;
    for (const engine::LlmQuery* q : {&a, &b, &a}) {
        batcher.issue(++id, *q);
        run_until_idle(batcher, log);
    }
    EXPECT_EQ(log.cached[3], 0);
    EXPECT_EQ(log.tokens[3], log.tokens[1]);
    EXPECT_EQ(target.saves, 0);
    EXPECT_TRUE(target.restores.empty());
    EXPECT_EQ(batcher.stats().prompt_cache_entries, 0);
}

TEST(ContinuousBatcher, HostCacheRestoresIntoAnotherSlotThanTheOneSaved) {
    StatefulTarget target(2);
    engine::ContinuousBatcher batcher(target, {.reuse_prefix = true, .prompt_cache_bytes = 1 << 20});
    ServerLog log;
    const engine::LlmQuery a = prompt_of(10), b = prompt_of(500), c = prompt_of(900), d = prompt_of(1300);
    uint32_t id = 0;
    // A in slot 0, B in slot 1; C takes slot 0 (freed longest ago) and saves A; D takes slot 1 and saves B; B again
    // takes slot 0 (saving C) and restores there the state slot 1 saved.
    for (const engine::LlmQuery* q : {&a, &b, &c, &d, &b}) {
        batcher.issue(++id, *q);
        run_until_idle(batcher, log);
    }
    EXPECT_EQ(log.cached[5], 7);
    EXPECT_EQ(log.tokens[5], log.tokens[2]);
    EXPECT_EQ(target.restores.size(), 1u);
    EXPECT_FALSE(target.bad_pos);
}

TEST(ContinuousBatcher, CancelAndTheObserverEndQueriesAndFreeTheirSlots) {
    CountingTarget target(1, 8);
    engine::ContinuousBatcher batcher(target, engine::BatcherOptions{});
    ServerLog log;
    const engine::LlmQuery long_query{.prompt = {10}, .n_gen = 1000};
    const engine::LlmQuery short_query{.prompt = {20}, .n_gen = 3};
    batcher.issue(1, long_query);
    batcher.issue(2, short_query);
    batcher.issue(3, short_query);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(batcher.step(log));
    EXPECT_EQ(batcher.stats().n_queued, 2);
    batcher.cancel(1);
    batcher.cancel(3);  // still queued: it completes without ever starting
    log.stop_at = 21;   // the observer ends query 2 at its first token
    ASSERT_TRUE(batcher.step(log));
    ASSERT_GE(log.completed.size(), 1u);
    EXPECT_EQ(log.completed[0], 1u);
    EXPECT_EQ(log.tokens[1].size(), 3u);
    run_until_idle(batcher, log);
    EXPECT_EQ(log.tokens[2], (std::vector<int32_t>{21}));
    EXPECT_EQ(log.completed, (std::vector<uint32_t>{1, 2, 3}));
    EXPECT_EQ(log.cached.count(3), 0u);
    EXPECT_EQ(batcher.stats().n_busy, 0);
    EXPECT_THROW(batcher.issue(9, engine::LlmQuery{.prompt = {}, .n_gen = 1}), Error);
}

}  // namespace
