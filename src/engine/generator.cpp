#include "accel/engine/generator.h"

#include <llama.h>

#include <algorithm>

#include "accel/core/error.h"
#include "accel/engine/backend.h"
#include "accel/engine/stop_filter.h"
#include "accel/engine/token_sampler.h"

namespace accel::engine {
namespace {

void decode_or_throw(llama_context* ctx, llama_batch batch, const Session& session) {
    clear_backend_message();
    const int32_t rc = llama_decode(ctx, batch);
    if (rc != 0) {
        std::string why = last_backend_message();
        throw Error(rc == 1 ? ErrorKind::out_of_memory : ErrorKind::backend,
                    "llama_decode failed (" + std::to_string(rc) + ") on " + session.model().path().string() +
                        (why.empty() ? "" : ": " + why));
    }
}

}  // namespace

GenerateStats generate(Session& session, std::string_view prompt, const GenerateParams& params, const TextSink& sink) {
    if (params.n_predict < 0) {
        throw Error(ErrorKind::invalid_input, "n_predict must be >= 0");
    }
    const LoadedModel& model = session.model();
    llama_context* ctx = session.get();
    const llama_vocab* vocab = llama_model_get_vocab(model.get());

    std::vector<int32_t> tokens = tokenize(model, prompt, true, params.parse_special);
    if (tokens.empty()) {
        const llama_token bos = llama_vocab_bos(vocab);
        if (bos == LLAMA_TOKEN_NULL) {
            throw Error(ErrorKind::invalid_input, "empty prompt and the model has no BOS token to start from");
        }
        tokens.push_back(bos);
    }
    GenerateStats stats;
    stats.n_tokens_prompt = static_cast<int32_t>(tokens.size());
    if (tokens.size() + static_cast<size_t>(params.n_predict) > session.n_ctx()) {
        throw Error(ErrorKind::invalid_input, "prompt (" + std::to_string(tokens.size()) + " tokens) plus -n " +
                                                  std::to_string(params.n_predict) + " exceed the context of " +
                                                  std::to_string(session.n_ctx()) + " tokens");
    }
    llama_memory_clear(llama_get_memory(ctx), true);
    TokenSampler sampler(params.sampling, llama_vocab_n_tokens(vocab));
    StopFilter filter(params.stop);

    const auto t0 = std::chrono::steady_clock::now();
    const size_t n_batch = llama_n_batch(ctx);
    for (size_t i = 0; i < tokens.size(); i += n_batch) {
        const auto n = static_cast<int32_t>(std::min(n_batch, tokens.size() - i));
        decode_or_throw(ctx, llama_batch_get_one(tokens.data() + i, n), session);
    }
    auto t_first = t0;
    bool sink_ok = true;
    for (int32_t i = 0; i < params.n_predict; ++i) {
        llama_token tok = llama_sampler_sample(sampler.get(), ctx, -1);
        if (i == 0) t_first = std::chrono::steady_clock::now();
        if (llama_vocab_is_eog(vocab, tok)) {
            stats.stopped_by_eog = true;
            break;
        }
        ++stats.n_tokens_gen;
        // A text that starts at BOS starts a document: SentencePiece-style vocabularies drop the first token's
        // space prefix there, as llama.cpp's detokenizer and the models' reference implementations do.
        const bool starts_document = i == 0 && prompt.empty();
        if (!filter.push(token_to_piece(model, tok, starts_document ? 1 : 0), sink, sink_ok)) {
            stats.stopped_by_string = true;
            break;
        }
        if (!sink_ok) {
            stats.cancelled = true;
            break;
        }
        if (i + 1 < params.n_predict) {
            decode_or_throw(ctx, llama_batch_get_one(&tok, 1), session);
        }
    }
    if (!stats.stopped_by_string && !stats.cancelled) filter.flush(sink);
    const auto t_end = std::chrono::steady_clock::now();
    if (params.n_predict == 0) t_first = t_end;
    stats.prompt_time = std::chrono::duration_cast<std::chrono::nanoseconds>(t_first - t0);
    stats.gen_time = std::chrono::duration_cast<std::chrono::nanoseconds>(t_end - t_first);
    return stats;
}

}  // namespace accel::engine
