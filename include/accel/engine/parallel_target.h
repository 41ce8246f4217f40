#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace accel::engine {

// One token of a multi-sequence batch.
struct BatchToken {
    int32_t token = 0;
    int32_t pos = 0;
    int32_t seq = 0;      // the slot, 0 .. n_slots()-1
    bool logits = false;  // compute next-token logits after this token
};

// The device side of continuous batching: decodes batches that mix several sequences.
// Never times itself; decode() returns only when the device has finished (synchronised).
// Not thread-safe: one thread (the serving loop) drives it.
class ParallelLlmTarget {
public:
    virtual ~ParallelLlmTarget() = default;
    virtual int32_t n_vocab() const = 0;
    virtual bool add_bos() const = 0;
    virtual int32_t bos() const = 0;
    virtual int32_t n_slots() const = 0;  // sequences that may be in flight together
    virtual int32_t n_batch() const = 0;  // most tokens per decode call
    virtual void clear_all() = 0;
    virtual void clear_slot(int32_t slot) = 0;
    // Decodes the batch (at most n_batch() tokens). Throws accel::Error when the backend fails.
    virtual void decode(std::span<const BatchToken> batch) = 0;
    // The greedy next token after the last decode's batch[i], which must have asked for logits.
    virtual int32_t greedy(int32_t i) = 0;
    // The next-token logits after batch[i] (n_vocab values, valid until the next decode), for sampled queries.
    // Default: Error{internal} (a target that serves greedy queries only).
    virtual std::span<const float> logits(int32_t i);
    // Drops a slot's cells from position n_keep on, keeping its first n_keep tokens (prompt-prefix reuse).
    // Returns false when the memory cannot drop part of a sequence (the caller then clears the whole slot).
    // Default: false.
    virtual bool trim_slot(int32_t slot, int32_t n_keep);
    // A slot's sequence state (its KV cells) as bytes, for the host-memory prompt cache; empty when the target
    // cannot save one. The bytes are valid only for this target's session layout. Default: empty.
    virtual std::vector<uint8_t> save_slot(int32_t slot);
    // Replaces a slot's cells with a state save_slot returned. Returns false when the target cannot restore it (the
    // slot is then empty). Default: false.
    virtual bool restore_slot(int32_t slot, std::span<const uint8_t> state);
};

}  // namespace accel::engine
