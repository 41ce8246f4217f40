#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "accel/engine/session.h"

struct llama_batch;

namespace accel::engine {

// Explicit decoding for benchmarks and verification: tokens, positions and sequences are the caller's.
// The batch is allocated once at construction (n_batch tokens), so the decode calls allocate nothing.
// Not thread-safe; the session must outlive it.
class BatchDecoder {
public:
    explicit BatchDecoder(Session& session);
    ~BatchDecoder();
    BatchDecoder(const BatchDecoder&) = delete;
    BatchDecoder& operator=(const BatchDecoder&) = delete;

    void clear_memory();            // every sequence
    void clear_sequence(int32_t seq);
    // Drops the sequence's cells from position from on; false when the memory cannot drop part of a sequence.
    bool trim_sequence(int32_t seq, int32_t from);

    // Decodes one sequence's tokens starting at pos, in chunks of n_batch. Logits are computed for the last token
    // only when logits_last. Throws Error{backend} (or out_of_memory when the KV cache is full).
    void decode(std::span<const int32_t> tokens, int32_t pos, int32_t seq, bool logits_last);

    // Multi-sequence batches (continuous batching): clear, add up to n_batch tokens, decode.
    void batch_clear();
    bool batch_add(int32_t token, int32_t pos, int32_t seq, bool logits);  // false when the batch is full
    int32_t batch_size() const;
    void batch_decode();

    // The output rows of the last decode: index i is the i-th token that requested logits; -1 is the last.
    int32_t argmax(int32_t i) const;
    std::span<const float> logits(int32_t i) const;
    void synchronize();  // waits for the device to finish, so the clock can stop

    int32_t n_vocab() const { return n_vocab_; }
    int32_t n_batch() const { return n_batch_; }

private:
    Session& session_;
    std::unique_ptr<llama_batch> batch_;
    int32_t n_batch_ = 0;
    int32_t n_vocab_ = 0;
};

}  // namespace accel::engine
