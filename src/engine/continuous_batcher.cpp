#include "accel/engine/continuous_batcher.h"

#include <algorithm>

#include "accel/core/error.h"

namespace accel::engine {
namespace {

struct Slot {
    int64_t query = -1;       // -1: free
    int32_t n_prefilled = 0;  // prompt tokens already decoded
    int32_t n_generated = 0;
    int32_t last = 0;         // the last generated token, fed at the next step
    int32_t row = -1;         // the batch index of its token that asked for logits, -1 when none
};

}  // namespace

ContinuousBatcher::ContinuousBatcher(ParallelLlmTarget& target, std::span<const LlmQuery> queries)
    : target_(target), queries_(queries), generated_(queries.size()) {
    if (target.n_slots() > target.n_batch()) {
        throw Error(ErrorKind::invalid_input, "--parallel " + std::to_string(target.n_slots()) +
                                                  " needs a batch (-b) of at least as many tokens, not " +
                                                  std::to_string(target.n_batch()));
    }
    for (size_t i = 0; i < queries.size(); ++i) {
        if (queries[i].prompt.empty() || queries[i].n_gen < 1) {
            throw Error(ErrorKind::invalid_input,
                        "query " + std::to_string(i) + " needs a prompt of at least 1 token and n_gen >= 1");
        }
        generated_[i].reserve(static_cast<size_t>(queries[i].n_gen));
    }
}

void ContinuousBatcher::serve(QueryObserver& observer) {
    const auto n_slots = static_cast<size_t>(std::max(1, target_.n_slots()));
    const int32_t n_batch = std::max(1, target_.n_batch());
    std::vector<Slot> slots(n_slots);
    std::vector<BatchToken> batch;
    batch.reserve(static_cast<size_t>(n_batch));
    std::vector<uint32_t> admitted;
    admitted.reserve(n_slots);
    bool open = true;
    for (;;) {
        size_t busy = 0;
        for (const auto& s : slots) busy += s.query >= 0 ? 1 : 0;
        if (open && busy < n_slots) {
            admitted.clear();
            open = queue_.take(admitted, n_slots - busy, busy == 0);
            for (uint32_t q : admitted) {
                auto free = std::find_if(slots.begin(), slots.end(), [](const Slot& s) { return s.query < 0; });
                *free = Slot{.query = q};
            }
            busy += admitted.size();
        }
        if (busy == 0) {
            if (!open) return;
            continue;
        }
        max_in_flight_ = std::max(max_in_flight_, static_cast<int32_t>(busy));

        // Generating slots first (one token each), then prompt chunks in the room that is left.
        batch.clear();
        for (size_t i = 0; i < n_slots; ++i) {
            Slot& s = slots[i];
            s.row = -1;
            if (s.query < 0 || s.n_generated == 0) continue;
            const LlmQuery& q = queries_[static_cast<size_t>(s.query)];
            const auto pos = static_cast<int32_t>(q.prompt.size()) + s.n_generated - 1;
            s.row = static_cast<int32_t>(batch.size());
            batch.push_back({.token = s.last, .pos = pos, .seq = static_cast<int32_t>(i), .logits = true});
        }
        for (size_t i = 0; i < n_slots && static_cast<int32_t>(batch.size()) < n_batch; ++i) {
            Slot& s = slots[i];
            if (s.query < 0 || s.n_generated > 0) continue;
            const LlmQuery& q = queries_[static_cast<size_t>(s.query)];
            const auto n_prompt = static_cast<int32_t>(q.prompt.size());
            const int32_t take = std::min(n_prompt - s.n_prefilled, n_batch - static_cast<int32_t>(batch.size()));
            for (int32_t k = 0; k < take; ++k) {
                const int32_t pos = s.n_prefilled + k;
                const bool last = pos == n_prompt - 1;
                if (last) s.row = static_cast<int32_t>(batch.size());
                batch.push_back({.token = q.prompt[static_cast<size_t>(pos)], .pos = pos,
                                 .seq = static_cast<int32_t>(i), .logits = last});
            }
            s.n_prefilled += take;
        }
        target_.decode(batch);

        for (size_t i = 0; i < n_slots; ++i) {
            Slot& s = slots[i];
            if (s.query < 0 || s.row < 0) continue;
            const auto q = static_cast<uint32_t>(s.query);
            const int32_t tok = target_.greedy(s.row);
            generated_[q].push_back(tok);
            if (++s.n_generated == 1) observer.first_token(q);
            s.last = tok;
            if (s.n_generated >= queries_[q].n_gen) {
                observer.complete(q);
                target_.clear_slot(static_cast<int32_t>(i));
                s = Slot{};
            }
        }
    }
}

}  // namespace accel::engine
