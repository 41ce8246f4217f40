#include "accel/engine/session_parallel_target.h"

#include <llama.h>

#include "accel/core/error.h"

namespace accel::engine {

std::span<const float> ParallelLlmTarget::logits(int32_t) {
    throw Error(ErrorKind::internal, "this target serves greedy queries only (no logits)");
}

bool ParallelLlmTarget::trim_slot(int32_t, int32_t) { return false; }

std::vector<uint8_t> ParallelLlmTarget::save_slot(int32_t) { return {}; }

bool ParallelLlmTarget::restore_slot(int32_t, std::span<const uint8_t>) { return false; }

SessionParallelTarget::SessionParallelTarget(Session& session)
    : session_(session),
      decoder_(session),
      add_bos_(session.model().adds_bos()),
      bos_(session.model().bos()),
      n_slots_(static_cast<int32_t>(session.n_seq_max())) {}

void SessionParallelTarget::decode(std::span<const BatchToken> batch) {
    decoder_.batch_clear();
    for (const auto& t : batch) {
        if (t.seq < 0 || t.seq >= n_slots_) {
            throw Error(ErrorKind::internal, "sequence " + std::to_string(t.seq) + " outside the session's slots");
        }
        if (!decoder_.batch_add(t.token, t.pos, t.seq, t.logits)) {
            throw Error(ErrorKind::internal, "batch larger than n_batch " + std::to_string(decoder_.n_batch()));
        }
    }
    decoder_.batch_decode();
    decoder_.synchronize();
}

// The state holds the slot's cells on host memory (flags none: not ON_DEVICE, whose copies a later save of the same
// sequence invalidates, while the cache keeps many).
std::vector<uint8_t> SessionParallelTarget::save_slot(int32_t slot) {
    llama_context* ctx = session_.get();
    std::vector<uint8_t> state(llama_state_seq_get_size(ctx, slot));
    if (state.empty() || llama_state_seq_get_data(ctx, state.data(), state.size(), slot) != state.size()) return {};
    return state;
}

// Cleared first so that no cell of the slot's former tokens survives next to the restored ones (llama.cpp clears the
// destination only when the state holds cells).
bool SessionParallelTarget::restore_slot(int32_t slot, std::span<const uint8_t> state) {
    decoder_.clear_sequence(slot);
    if (llama_state_seq_set_data(session_.get(), state.data(), state.size(), slot) == state.size()) return true;
    decoder_.clear_sequence(slot);
    return false;
}

}  // namespace accel::engine
