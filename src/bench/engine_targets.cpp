#include "accel/bench/engine_targets.h"

#include "accel/engine/embedder.h"

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

WorkDone EngineEmbedTarget::run(std::span<const std::string> texts) {
    // engine::embed takes a vector: copy-assigning into the kept one reuses its strings' storage after the first
    // (untimed, warm-up) call, so the timed calls do not allocate for it.
    batch_.assign(texts.begin(), texts.end());
    last_ = engine::embed(session_, batch_, {});
    return {.n_items = static_cast<int64_t>(last_.size())};
}

}  // namespace accel::bench
