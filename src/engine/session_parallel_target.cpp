#include "accel/engine/session_parallel_target.h"

#include "accel/core/error.h"

namespace accel::engine {

std::span<const float> ParallelLlmTarget::logits(int32_t) {
    throw Error(ErrorKind::internal, "this target serves greedy queries only (no logits)");
}

bool ParallelLlmTarget::trim_slot(int32_t, int32_t) { return false; }

SessionParallelTarget::SessionParallelTarget(Session& session)
    : decoder_(session),
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

}  // namespace accel::engine
