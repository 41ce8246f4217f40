#pragma once

#include "accel/engine/batch_decoder.h"
#include "accel/engine/parallel_target.h"
#include "accel/engine/session.h"

namespace accel::engine {

// ParallelLlmTarget over a session opened with n_seq_max slots (sequence ids 0..n_seq_max-1): what the benchmark's
// --parallel and accel serve's continuous batching both decode through. The caller keeps the session alive and
// holds its resident's lock (pool::SessionGuard) while the target runs. Not thread-safe.
class SessionParallelTarget : public ParallelLlmTarget {
public:
    explicit SessionParallelTarget(Session& session);
    int32_t n_vocab() const override { return decoder_.n_vocab(); }
    bool add_bos() const override { return add_bos_; }
    int32_t bos() const override { return bos_; }
    int32_t n_slots() const override { return n_slots_; }
    int32_t n_batch() const override { return decoder_.n_batch(); }
    void clear_all() override { decoder_.clear_memory(); }
    void clear_slot(int32_t slot) override { decoder_.clear_sequence(slot); }
    void decode(std::span<const BatchToken> batch) override;
    int32_t greedy(int32_t i) override { return decoder_.argmax(i); }
    std::span<const float> logits(int32_t i) override { return decoder_.logits(i); }
    bool trim_slot(int32_t slot, int32_t n_keep) override { return decoder_.trim_sequence(slot, n_keep); }
    std::vector<uint8_t> save_slot(int32_t slot) override;
    bool restore_slot(int32_t slot, std::span<const uint8_t> state) override;

private:
    Session& session_;
    BatchDecoder decoder_;
    bool add_bos_;
    int32_t bos_;
    int32_t n_slots_;
};

}  // namespace accel::engine
