// engine::ContinuousBatcher on a scripted target (no model): every query gets its n_gen tokens, the last generated
// token is fed back, batches stay within n_batch and the slots, and freed slots are reused.
#include <algorithm>
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
