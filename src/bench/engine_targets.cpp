#include "accel/bench/engine_targets.h"

namespace accel::bench {

EngineLlmTarget::EngineLlmTarget(engine::Session& session)
    : decoder_(session), add_bos_(session.model().adds_bos()), bos_(session.model().bos()) {}

void EngineLlmTarget::prefill(std::span<const int32_t> tokens, int32_t pos) {
    decoder_.decode(tokens, pos, 0, true);
    decoder_.synchronize();
}

void EngineLlmTarget::decode_one(int32_t token, int32_t pos) {
    decoder_.batch_clear();
    decoder_.batch_add(token, pos, 0, true);
    decoder_.batch_decode();
    decoder_.synchronize();
}

}  // namespace accel::bench
