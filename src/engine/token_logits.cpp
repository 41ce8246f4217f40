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

TokenLogits token_logits(const std::filesystem::path& model, const std::vector<int32_t>& tokens,
                         const std::string& device, int32_t n_threads) {
    if (tokens.empty()) throw Error(ErrorKind::invalid_input, "token_logits: no tokens");
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
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m.get()));
    const auto n = static_cast<int32_t>(tokens.size());
    if (n > llama_model_n_ctx_train(m.get()))
        throw Error(ErrorKind::invalid_input, fmt::format("{} tokens, but {} was trained for {}", n, model.string(),
                                                          llama_model_n_ctx_train(m.get())));
    for (const int32_t t : tokens)
        if (t < 0 || t >= n_vocab)
            throw Error(ErrorKind::invalid_input, fmt::format("token id {} is outside {}'s vocabulary of {}", t,
                                                              model.string(), n_vocab));
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(n);
    cp.n_batch = static_cast<uint32_t>(n);
    cp.n_ubatch = static_cast<uint32_t>(n);
    cp.type_k = GGML_TYPE_F32;  // an f16 cache alone puts ~1e-3 of the logits' range between accel and an f32 reference
    cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;  // the CPU kernel rounds through f16
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    detail::ContextPtr ctx(llama_init_from_model(m.get(), cp));
    if (!ctx) throw Error(ErrorKind::backend, fmt::format("llama.cpp could not create a context for {}", model.string()));
    auto batch = detail::make_batch(n);
    for (int32_t i = 0; i < n; ++i) {
        batch->token[i] = tokens[static_cast<size_t>(i)];
        batch->pos[i] = i;
        batch->n_seq_id[i] = 1;
        batch->seq_id[i][0] = 0;
        batch->logits[i] = 1;
    }
    batch->n_tokens = n;
    clear_backend_message();
    if (const int rc = llama_decode(ctx.get(), *batch); rc != 0) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::backend, fmt::format("the forward pass over {} failed (code {}){}", model.string(), rc,
                                                    why.empty() ? "" : ": " + why));
    }
    TokenLogits out;
    out.n_rows = static_cast<uint32_t>(n);
    out.n_vocab = static_cast<uint32_t>(n_vocab);
    out.values.reserve(static_cast<size_t>(n) * static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n; ++i) {
        const float* row = llama_get_logits_ith(ctx.get(), i);
        if (row == nullptr) throw Error(ErrorKind::backend, fmt::format("llama.cpp returned no logits for token {}", i));
        out.values.insert(out.values.end(), row, row + n_vocab);
    }
    return out;
}

}  // namespace accel::engine
