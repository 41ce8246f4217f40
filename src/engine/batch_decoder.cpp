#include "accel/engine/batch_decoder.h"

#include <llama.h>

#include <algorithm>

#include "accel/core/error.h"
#include "accel/engine/backend.h"

namespace accel::engine {

BatchDecoder::BatchDecoder(Session& session) : session_(session) {
    n_batch_ = static_cast<int32_t>(session.n_batch());
    batch_ = std::make_unique<llama_batch>(llama_batch_init(n_batch_, 0, 1));
    n_vocab_ = llama_vocab_n_tokens(llama_model_get_vocab(session.model().get()));
}

BatchDecoder::~BatchDecoder() {
    if (batch_) llama_batch_free(*batch_);
}

void BatchDecoder::clear_memory() { llama_memory_clear(llama_get_memory(session_.get()), true); }

void BatchDecoder::clear_sequence(int32_t seq) { llama_memory_seq_rm(llama_get_memory(session_.get()), seq, -1, -1); }

bool BatchDecoder::trim_sequence(int32_t seq, int32_t from) {
    return llama_memory_seq_rm(llama_get_memory(session_.get()), seq, from, -1);
}

void BatchDecoder::batch_clear() { batch_->n_tokens = 0; }

bool BatchDecoder::batch_add(int32_t token, int32_t pos, int32_t seq, bool logits) {
    if (batch_->n_tokens >= n_batch_) return false;
    const int32_t k = batch_->n_tokens++;
    batch_->token[k] = token;
    batch_->pos[k] = pos;
    batch_->n_seq_id[k] = 1;
    batch_->seq_id[k][0] = seq;
    batch_->logits[k] = logits ? 1 : 0;
    return true;
}

int32_t BatchDecoder::batch_size() const { return batch_->n_tokens; }

void BatchDecoder::batch_decode() {
    if (batch_->n_tokens == 0) return;
    clear_backend_message();
    const int32_t rc = llama_decode(session_.get(), *batch_);
    if (rc != 0) {
        const std::string why = last_backend_message();
        throw Error(rc == 1 ? ErrorKind::out_of_memory : ErrorKind::backend,
                    "llama_decode failed (" + std::to_string(rc) + ")" + (why.empty() ? "" : ": " + why));
    }
}

void BatchDecoder::decode(std::span<const int32_t> tokens, int32_t pos, int32_t seq, bool logits_last) {
    for (size_t i = 0; i < tokens.size(); i += static_cast<size_t>(n_batch_)) {
        const size_t n = std::min(tokens.size() - i, static_cast<size_t>(n_batch_));
        batch_clear();
        for (size_t j = 0; j < n; ++j) {
            const bool last = i + j + 1 == tokens.size();
            batch_add(tokens[i + j], pos + static_cast<int32_t>(i + j), seq, logits_last && last);
        }
        batch_decode();
    }
}

int32_t BatchDecoder::argmax(int32_t i) const {
    const auto l = logits(i);
    return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
}

std::span<const float> BatchDecoder::logits(int32_t i) const {
    const float* p = llama_get_logits_ith(session_.get(), i);
    if (p == nullptr) throw Error(ErrorKind::internal, "no logits for output " + std::to_string(i));
    return {p, static_cast<size_t>(n_vocab_)};
}

void BatchDecoder::synchronize() { llama_synchronize(session_.get()); }

}  // namespace accel::engine
