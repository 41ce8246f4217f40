#include "accel/engine/embedder.h"

#include <llama.h>

#include <cmath>
#include <memory>

#include "accel/core/error.h"
#include "accel/engine/backend.h"
#include "model_io.h"

namespace accel::engine {
namespace {


void decode_batch(Session& session, const std::vector<std::vector<int32_t>>& seqs, size_t first, size_t count,
                  std::vector<std::vector<float>>& out, const EmbedParams& params) {
    llama_context* ctx = session.get();
    size_t n_tokens = 0;
    for (size_t i = first; i < first + count; ++i) n_tokens += seqs[i].size();
    const detail::BatchPtr batch = detail::make_batch(static_cast<int32_t>(n_tokens));
    for (size_t i = first; i < first + count; ++i) {
        const auto seq = static_cast<llama_seq_id>(i - first);
        for (size_t p = 0; p < seqs[i].size(); ++p) {
            const int32_t k = batch->n_tokens++;
            batch->token[k] = seqs[i][p];
            batch->pos[k] = static_cast<llama_pos>(p);
            batch->n_seq_id[k] = 1;
            batch->seq_id[k][0] = seq;
            batch->logits[k] = 1;  // request output for every token; pooling reads them
        }
    }
    llama_memory_clear(llama_get_memory(ctx), true);
    clear_backend_message();
    if (llama_decode(ctx, *batch) != 0) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::backend, "llama_decode failed while embedding with " + session.model().path().string() +
                                            (why.empty() ? "" : ": " + why));
    }
    // rank: the classification head's output, one score per label
    const auto dim = static_cast<int32_t>(session.pooling() == Pooling::rank ? llama_model_n_cls_out(session.model().get())
                                                                             : llama_model_n_embd_out(session.model().get()));
    for (size_t i = first; i < first + count; ++i) {
        const float* e = llama_get_embeddings_seq(ctx, static_cast<llama_seq_id>(i - first));
        if (e == nullptr) {
            throw Error(ErrorKind::backend, "llama.cpp returned no embedding for text " + std::to_string(i + 1));
        }
        std::vector<float> v(e, e + dim);
        if (params.normalize) {
            double norm = 0;
            for (float x : v) norm += static_cast<double>(x) * x;
            norm = std::sqrt(norm);
            if (norm > 0) {
                for (float& x : v) x = static_cast<float>(x / norm);
            }
        }
        out[i] = std::move(v);
    }
}

}  // namespace

std::vector<std::vector<float>> embed(Session& session, const std::vector<std::string>& texts, const EmbedParams& params) {
    if (texts.empty()) throw Error(ErrorKind::invalid_input, "nothing to embed: no texts given");
    const LoadedModel& model = session.model();
    if (session.pooling() == Pooling::none) {
        throw Error(ErrorKind::invalid_input,
                    model.path().string() + " has no pooling in its metadata, so it gives no text embedding; "
                                            "choose one with --pooling mean|cls|last");
    }
    std::vector<std::vector<int32_t>> seqs;
    for (size_t i = 0; i < texts.size(); ++i) {
        auto toks = tokenize(model, texts[i], true);
        if (toks.empty()) throw Error(ErrorKind::invalid_input, "text " + std::to_string(i + 1) + " is empty");
        if (toks.size() > session.n_ubatch() || toks.size() > session.n_ctx()) {
            throw Error(ErrorKind::invalid_input,
                        "text " + std::to_string(i + 1) + " has " + std::to_string(toks.size()) +
                            " tokens, more than the batch of " + std::to_string(session.n_ubatch()));
        }
        seqs.push_back(std::move(toks));
    }
    std::vector<std::vector<float>> out(texts.size());
    size_t first = 0;
    while (first < seqs.size()) {
        size_t count = 0;
        size_t tokens = 0;
        while (first + count < seqs.size() && count < session.n_seq_max() &&
               tokens + seqs[first + count].size() <= session.n_ubatch()) {
            tokens += seqs[first + count].size();
            ++count;
        }
        decode_batch(session, seqs, first, count, out, params);
        first += count;
    }
    return out;
}

}  // namespace accel::engine
