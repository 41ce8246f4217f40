#include "accel/engine/token_logits.h"

#include <algorithm>
#include <cctype>

#include <ggml-backend.h>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/backend.h"
#include "model_io.h"

namespace accel::engine {

using detail::find_device;
using detail::quiet_progress;

namespace {

detail::ModelPtr load(const std::filesystem::path& model, const std::string& device) {
    init_backend();
    ggml_backend_dev_t devs[2] = {find_device(device), nullptr};
    llama_model_params mp = llama_model_default_params();
    mp.progress_callback = quiet_progress;
    mp.devices = devs;
    clear_backend_message();
    detail::ModelPtr m(llama_model_load_from_file(model.c_str(), mp));
    if (!m) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::backend, fmt::format("llama.cpp could not load {}{}", model.string(), why.empty() ? "" : ": " + why));
    }
    return m;
}

// Every id inside the vocabulary and no more of them than the training context.
void check_ids(const llama_model* m, const std::filesystem::path& model, const std::vector<int32_t>& tokens) {
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m));
    if (static_cast<int64_t>(tokens.size()) > llama_model_n_ctx_train(m))
        throw Error(ErrorKind::invalid_input, fmt::format("{} tokens, but {} was trained for {}", tokens.size(),
                                                          model.string(), llama_model_n_ctx_train(m)));
    for (const int32_t t : tokens)
        if (t < 0 || t >= n_vocab)
            throw Error(ErrorKind::invalid_input, fmt::format("token id {} is outside {}'s vocabulary of {}", t,
                                                              model.string(), n_vocab));
}

// A context for one pass of n tokens, as a reference comparison wants it: f32 KV cache, no flash attention.
detail::ContextPtr make_context(llama_model* m, const std::filesystem::path& model, uint32_t n, int32_t n_threads,
                                bool embeddings) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n;
    cp.n_batch = n;
    cp.n_ubatch = n;
    cp.type_k = GGML_TYPE_F32;  // an f16 cache alone puts ~1e-3 of the logits' range between accel and an f32 reference
    cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;  // the CPU kernel rounds through f16
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.embeddings = embeddings;
    if (embeddings) cp.pooling_type = LLAMA_POOLING_TYPE_NONE;
    detail::ContextPtr ctx(llama_init_from_model(m, cp));
    if (!ctx) throw Error(ErrorKind::backend, fmt::format("llama.cpp could not create a context for {}", model.string()));
    return ctx;
}

// One sequence, positions 0..n-1, every position an output.
detail::BatchPtr fill_batch(const std::vector<int32_t>& tokens) {
    const auto n = static_cast<int32_t>(tokens.size());
    auto batch = detail::make_batch(n);
    for (int32_t i = 0; i < n; ++i) {
        batch->token[i] = tokens[static_cast<size_t>(i)];
        batch->pos[i] = i;
        batch->n_seq_id[i] = 1;
        batch->seq_id[i][0] = 0;
        batch->logits[i] = 1;
    }
    batch->n_tokens = n;
    return batch;
}

void check_rc(int rc, const char* what, const std::filesystem::path& model) {
    if (rc == 0) return;
    const std::string why = last_backend_message();
    throw Error(ErrorKind::backend, fmt::format("the {} over {} failed (code {}){}", what, model.string(), rc,
                                                why.empty() ? "" : ": " + why));
}

TokenLogits read_logits(llama_context* ctx, const llama_model* m, int32_t n) {
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m));
    TokenLogits out;
    out.n_rows = static_cast<uint32_t>(n);
    out.n_vocab = static_cast<uint32_t>(n_vocab);
    out.values.reserve(static_cast<size_t>(n) * static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n; ++i) {
        const float* row = llama_get_logits_ith(ctx, i);
        if (row == nullptr) throw Error(ErrorKind::backend, fmt::format("llama.cpp returned no logits for token {}", i));
        out.values.insert(out.values.end(), row, row + n_vocab);
    }
    return out;
}

}  // namespace

TokenLogits token_logits(const std::filesystem::path& model, const std::vector<int32_t>& tokens,
                         const std::string& device, int32_t n_threads) {
    if (tokens.empty()) throw Error(ErrorKind::invalid_input, "token_logits: no tokens");
    detail::ModelPtr m = load(model, device);
    check_ids(m.get(), model, tokens);
    const auto n = static_cast<int32_t>(tokens.size());
    detail::ContextPtr ctx = make_context(m.get(), model, static_cast<uint32_t>(n), n_threads, false);
    auto batch = fill_batch(tokens);
    clear_backend_message();
    check_rc(llama_decode(ctx.get(), *batch), "forward pass", model);
    return read_logits(ctx.get(), m.get(), n);
}

Seq2SeqLogits seq2seq_logits(const std::filesystem::path& model, const std::vector<int32_t>& input_ids,
                             const std::vector<int32_t>& decoder_ids, const std::string& device, int32_t n_threads) {
    if (input_ids.empty()) throw Error(ErrorKind::invalid_input, "seq2seq_logits: no input ids");
    detail::ModelPtr m = load(model, device);
    if (!llama_model_has_encoder(m.get()))
        throw Error(ErrorKind::invalid_input, fmt::format("{} has no encoder (a decoder-only model: use token_logits)",
                                                          model.string()));
    const bool has_decoder = llama_model_has_decoder(m.get());
    Seq2SeqLogits out;
    std::vector<int32_t> dec;
    if (has_decoder) {
        out.decoder_start_token = llama_model_decoder_start_token(m.get());
        if (out.decoder_start_token < 0)  // llama.cpp falls back to BOS; a T5 without either cannot start
            throw Error(ErrorKind::invalid_input, fmt::format("{} has no decoder start token", model.string()));
        dec.push_back(out.decoder_start_token);
        dec.insert(dec.end(), decoder_ids.begin(), decoder_ids.end());
    }
    check_ids(m.get(), model, input_ids);
    check_ids(m.get(), model, dec);
    const auto n_enc = static_cast<int32_t>(input_ids.size()), n_dec = static_cast<int32_t>(dec.size());
    detail::ContextPtr ctx = make_context(m.get(), model, static_cast<uint32_t>(std::max(n_enc, n_dec)), n_threads, true);

    auto enc_batch = fill_batch(input_ids);
    clear_backend_message();
    check_rc(llama_encode(ctx.get(), *enc_batch), "encoder pass", model);
    out.n_enc = static_cast<uint32_t>(n_enc);
    out.n_embd = static_cast<uint32_t>(llama_model_n_embd(m.get()));
    out.encoder_states.reserve(static_cast<size_t>(out.n_enc) * out.n_embd);
    for (int32_t i = 0; i < n_enc; ++i) {
        const float* row = llama_get_embeddings_ith(ctx.get(), i);
        if (row == nullptr)
            throw Error(ErrorKind::backend, fmt::format("llama.cpp returned no encoder output for input {}", i));
        out.encoder_states.insert(out.encoder_states.end(), row, row + out.n_embd);
    }
    if (!has_decoder) return out;

    llama_set_embeddings(ctx.get(), false);  // the decoder's logits, not its states
    auto dec_batch = fill_batch(dec);
    clear_backend_message();
    check_rc(llama_decode(ctx.get(), *dec_batch), "decoder pass", model);
    out.logits = read_logits(ctx.get(), m.get(), n_dec);
    return out;
}

}  // namespace accel::engine
