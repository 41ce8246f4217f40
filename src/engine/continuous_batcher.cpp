#include "accel/engine/continuous_batcher.h"

#include <algorithm>
#include <cstdint>

#include "accel/core/error.h"
#include "accel/engine/token_sampler.h"

namespace accel::engine {

struct ContinuousBatcher::Slot {
    int64_t query = -1;  // the query's id; -1: free
    const LlmQuery* q = nullptr;
    bool record = false;
    int32_t n_prefilled = 0;  // prompt tokens in the slot's memory (a reused prefix included)
    int32_t n_generated = 0;
    int32_t last = 0;         // the last generated token, fed at the next step
    int32_t row = -1;         // the batch index of its token that asked for logits, -1 when none
    std::unique_ptr<TokenSampler> sampler;  // null: greedy
    std::vector<int32_t> cache;  // the tokens whose cells the slot holds, by position
    uint64_t released = 0;       // when it was last freed (the batcher's step clock)
};

namespace {

// Shorter caches are not saved to the host: restoring so few tokens saves less prefill than the copies cost.
constexpr size_t min_saved_tokens = 4;

void check_query(const LlmQuery& q, uint32_t id) {
    if (q.prompt.empty() || q.n_gen < 1) {
        throw Error(ErrorKind::invalid_input,
                    "query " + std::to_string(id) + " needs a prompt of at least 1 token and n_gen >= 1");
    }
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace

ContinuousBatcher::ContinuousBatcher(ParallelLlmTarget& target, std::span<const LlmQuery> queries,
                                     BatcherOptions options)
    : target_(&target),
      options_(options),
      queries_(queries),
      generated_(queries.size()),
      host_cache_(options.reuse_prefix ? options.prompt_cache_bytes : 0) {
    check_target();
    for (size_t i = 0; i < queries.size(); ++i) {
        check_query(queries[i], static_cast<uint32_t>(i));
        generated_[i].reserve(static_cast<size_t>(queries[i].n_gen));
    }
}

ContinuousBatcher::ContinuousBatcher(ParallelLlmTarget& target, BatcherOptions options)
    : ContinuousBatcher(target, std::span<const LlmQuery>{}, options) {}

ContinuousBatcher::~ContinuousBatcher() = default;

void ContinuousBatcher::check_target() const {
    if (target_->n_slots() > target_->n_batch()) {
        throw Error(ErrorKind::invalid_input, "--parallel " + std::to_string(target_->n_slots()) +
                                                  " needs a batch (-b) of at least as many tokens, not " +
                                                  std::to_string(target_->n_batch()));
    }
}

void ContinuousBatcher::issue(uint32_t query) { queue_.push({.id = query, .query = &queries_[query], .record = true}); }

void ContinuousBatcher::issue(uint32_t id, const LlmQuery& query) {
    check_query(query, id);
    queue_.push({.id = id, .query = &query, .record = false});
}

void ContinuousBatcher::cancel(uint32_t id) {
    std::lock_guard lock(mutex_);
    cancelled_.insert(id);
    any_cancelled_ = true;
}

bool ContinuousBatcher::take_cancelled(uint32_t id) {
    if (!any_cancelled_.load()) return false;
    std::lock_guard lock(mutex_);
    const bool found = cancelled_.erase(id) > 0;
    any_cancelled_ = !cancelled_.empty();
    return found;
}

void ContinuousBatcher::serve(QueryObserver& observer) {
    while (step(observer, true)) {
    }
}

BatcherStats ContinuousBatcher::stats() const {
    std::lock_guard lock(mutex_);
    BatcherStats s = published_;
    s.n_queued = static_cast<int64_t>(queue_.size());
    return s;
}

// The free slot to start q in, and how many of its prompt tokens that slot already holds. With prefix reuse: the
// longest common prefix wins, then the slot freed longest ago (so recent caches live longer); always at least the
// prompt's last token is decoded again, for its logits.
size_t ContinuousBatcher::pick_slot(const LlmQuery& q, int32_t& n_keep) const {
    size_t best = slots_.size();
    size_t best_common = 0;
    for (size_t i = 0; i < slots_.size(); ++i) {
        const Slot& s = slots_[i];
        if (s.query >= 0) continue;
        const size_t common = options_.reuse_prefix ? common_prefix(s.cache, q.prompt) : 0;
        if (best == slots_.size() || common > best_common ||
            (common == best_common && s.released < slots_[best].released)) {
            best = i;
            best_common = common;
        }
    }
    n_keep = static_cast<int32_t>(std::min(best_common, q.prompt.size() - 1));
    return best;
}

void ContinuousBatcher::admit(QueryObserver& observer, bool wait) {
    const size_t n_slots = static_cast<size_t>(std::max(1, target_->n_slots()));
    if (slots_.size() != n_slots) slots_.resize(n_slots);
    size_t busy = 0;
    for (const auto& s : slots_) busy += s.query >= 0 ? 1 : 0;
    if (!open_ || busy >= n_slots) return;
    admitted_.clear();
    open_ = queue_.take(admitted_, n_slots - busy, wait && busy == 0);
    for (const Pending& p : admitted_) {
        if (take_cancelled(p.id)) {
            observer.complete(p.id);
            continue;
        }
        int32_t n_keep = 0;
        const size_t k = pick_slot(*p.query, n_keep);
        Slot& s = slots_[k];
        n_keep = prepare_slot(k, *p.query, n_keep);
        s.query = p.id;
        s.q = p.query;
        s.record = p.record;
        s.n_prefilled = n_keep;
        s.n_generated = 0;
        s.row = -1;
        const SamplingParams& sp = p.query->sampling;
        s.sampler = sp.temp <= 0.0f && sp.repeat_penalty == 1.0f
                        ? nullptr
                        : std::make_unique<TokenSampler>(sp, target_->n_vocab());
        observer.started(p.id, n_keep);
    }
}

// Leaves slot k holding only a prefix of q's prompt and returns its length: n_keep, more when a state restored from
// the host cache shares more, 0 when the target cannot trim. With the host cache, what the slot would lose is saved
// there first, so a later prompt can get it back.
int32_t ContinuousBatcher::prepare_slot(size_t k, const LlmQuery& q, int32_t n_keep) {
    Slot& s = slots_[k];
    bool restored = false;
    if (host_cache_.budget_bytes() > 0) {
        if (static_cast<size_t>(n_keep) < s.cache.size()) save_to_host(k);
        restored = restore_from_host(k, q, n_keep);
    }
    if (static_cast<size_t>(n_keep) < s.cache.size()) {
        if (!target_->trim_slot(static_cast<int32_t>(k), n_keep)) {
            target_->clear_slot(static_cast<int32_t>(k));
            n_keep = 0;
        }
        s.cache.resize(static_cast<size_t>(n_keep));
    }
    if (n_keep > 0) {
        std::lock_guard lock(mutex_);
        ++(restored ? published_.prompt_cache_hits : published_.prefix_hits);
        (restored ? published_.prompt_cache_tokens : published_.prefix_tokens) += static_cast<uint64_t>(n_keep);
    }
    return n_keep;
}

// Skipped when an entry already holds all the slot's tokens (it was restored from there and only trimmed or
// regrown identically), so that the same state is not copied again.
void ContinuousBatcher::save_to_host(size_t k) {
    const Slot& s = slots_[k];
    if (s.cache.size() < min_saved_tokens || host_cache_.covers(s.cache)) return;
    std::vector<uint8_t> state = target_->save_slot(static_cast<int32_t>(k));
    if (state.empty()) return;  // a target without saved states: the cache stays empty
    host_cache_.insert(s.cache, std::move(state));
    publish_host_cache();
}

// Restores the saved state sharing the longest prefix with q's prompt when it shares more than the slot keeps
// (n_keep, updated). A state the target rejects is dropped, and the slot starts empty.
bool ContinuousBatcher::restore_from_host(size_t k, const LlmQuery& q, int32_t& n_keep) {
    const PromptCache::Match m = host_cache_.lookup(q.prompt);
    const auto n_usable = static_cast<int32_t>(std::min(m.n_common, q.prompt.size() - 1));
    if (m.entry == nullptr || n_usable <= n_keep) return false;
    Slot& s = slots_[k];
    if (!target_->restore_slot(static_cast<int32_t>(k), m.entry->state)) {
        host_cache_.erase(m.entry);
        publish_host_cache();
        s.cache.clear();
        n_keep = 0;
        return false;
    }
    s.cache = m.entry->tokens;
    host_cache_.touch(m.entry);
    n_keep = n_usable;
    return true;
}

void ContinuousBatcher::publish_host_cache() {
    std::lock_guard lock(mutex_);
    published_.prompt_cache_bytes = static_cast<int64_t>(host_cache_.n_bytes());
    published_.prompt_cache_entries = static_cast<int64_t>(host_cache_.n_entries());
}

void ContinuousBatcher::end_query(Slot& s, size_t index, QueryObserver& observer) {
    const auto id = static_cast<uint32_t>(s.query);
    {
        // Published before the observer hears of it, so that whoever it tells sees the slot free.
        std::lock_guard lock(mutex_);
        published_.n_busy = std::max(0, published_.n_busy - 1);
    }
    observer.complete(id);
    if (!options_.reuse_prefix) {
        target_->clear_slot(static_cast<int32_t>(index));
        s.cache.clear();
    }
    s.query = -1;
    s.q = nullptr;
    s.sampler.reset();
    s.released = ++clock_;
    take_cancelled(id);  // a cancel that raced with the query's end
}

void ContinuousBatcher::drop_cancelled(QueryObserver& observer) {
    for (size_t i = 0; i < slots_.size(); ++i) {
        Slot& s = slots_[i];
        if (s.query >= 0 && take_cancelled(static_cast<uint32_t>(s.query))) end_query(s, i, observer);
    }
}

bool ContinuousBatcher::step(QueryObserver& observer, bool wait) {
    if (any_cancelled_.load()) drop_cancelled(observer);
    admit(observer, wait);
    const int32_t n_batch = std::max(1, target_->n_batch());
    size_t busy = 0;
    for (const auto& s : slots_) busy += s.query >= 0 ? 1 : 0;
    if (busy == 0) {
        std::lock_guard lock(mutex_);
        published_.n_slots = static_cast<int32_t>(slots_.size());
        published_.n_busy = 0;
        // The fixed set waits for more until finish(); a server's loop stops stepping when nothing is left.
        return wait ? open_ : queue_.size() > 0;
    }
    max_in_flight_ = std::max(max_in_flight_, static_cast<int32_t>(busy));

    // Generating slots first (one token each), then prompt chunks in the room that is left.
    batch_.clear();
    for (size_t i = 0; i < slots_.size(); ++i) {
        Slot& s = slots_[i];
        s.row = -1;
        if (s.query < 0 || s.n_generated == 0) continue;
        s.row = static_cast<int32_t>(batch_.size());
        batch_.push_back({.token = s.last, .pos = static_cast<int32_t>(s.cache.size()), .seq = static_cast<int32_t>(i),
                          .logits = true});
        s.cache.push_back(s.last);
    }
    for (size_t i = 0; i < slots_.size() && static_cast<int32_t>(batch_.size()) < n_batch; ++i) {
        Slot& s = slots_[i];
        if (s.query < 0 || s.n_generated > 0) continue;
        const auto n_prompt = static_cast<int32_t>(s.q->prompt.size());
        const int32_t take = std::min(n_prompt - s.n_prefilled, n_batch - static_cast<int32_t>(batch_.size()));
        for (int32_t k = 0; k < take; ++k) {
            const int32_t pos = s.n_prefilled + k;
            const bool last = pos == n_prompt - 1;
            if (last) s.row = static_cast<int32_t>(batch_.size());
            const int32_t tok = s.q->prompt[static_cast<size_t>(pos)];
            batch_.push_back({.token = tok, .pos = pos, .seq = static_cast<int32_t>(i), .logits = last});
            s.cache.push_back(tok);
        }
        s.n_prefilled += take;
    }
    target_->decode(batch_);

    for (size_t i = 0; i < slots_.size(); ++i) {
        Slot& s = slots_[i];
        if (s.query < 0 || s.row < 0) continue;
        const auto q = static_cast<uint32_t>(s.query);
        const int32_t tok = s.sampler ? s.sampler->sample(target_->logits(s.row)) : target_->greedy(s.row);
        if (s.record) generated_[q].push_back(tok);
        const bool go_on = observer.token(q, tok);
        if (++s.n_generated == 1) observer.first_token(q);
        s.last = tok;
        if (!go_on || s.n_generated >= s.q->n_gen) end_query(s, i, observer);
    }
    int64_t n_cells = 0;
    int32_t n_busy = 0;
    for (const auto& s : slots_) {
        n_cells += static_cast<int64_t>(s.cache.size());
        n_busy += s.query >= 0 ? 1 : 0;
    }
    std::lock_guard lock(mutex_);
    published_.n_slots = static_cast<int32_t>(slots_.size());
    published_.n_busy = n_busy;
    published_.max_busy = max_in_flight_;
    published_.n_cells = n_cells;
    return true;
}

void ContinuousBatcher::abort(QueryObserver& observer) {
    for (auto& s : slots_) {
        if (s.query < 0) continue;
        const auto id = static_cast<uint32_t>(s.query);
        observer.complete(id);
        take_cancelled(id);
        s = Slot{.released = ++clock_};
    }
    admitted_.clear();
    queue_.take(admitted_, SIZE_MAX, false);
    for (const Pending& p : admitted_) {
        observer.complete(p.id);
        take_cancelled(p.id);
    }
    for (auto& s : slots_) s.cache.clear();
    target_->clear_all();
    std::lock_guard lock(mutex_);
    published_.n_busy = 0;
    published_.n_cells = 0;
}

void ContinuousBatcher::rebind(ParallelLlmTarget& target, bool keep_cache) {
    target_ = &target;
    check_target();
    const auto n_slots = static_cast<size_t>(std::max(1, target.n_slots()));
    if (!keep_cache || slots_.size() != n_slots) {
        for (auto& s : slots_) s.cache.clear();
        slots_.resize(n_slots);
        target.clear_all();
        host_cache_.clear();  // a reopened session may lay its states out differently
        publish_host_cache();
        std::lock_guard lock(mutex_);
        published_.n_cells = 0;
    }
}

}  // namespace accel::engine
