#include "accel/engine/session.h"

#include <llama.h>

#include <algorithm>
#include <thread>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/text.h"
#include "accel/engine/backend.h"

namespace accel::engine {
namespace {

ggml_type to_ggml(KvType t) {
    switch (t) {
        case KvType::f16: return GGML_TYPE_F16;
        case KvType::bf16: return GGML_TYPE_BF16;
        case KvType::q8_0: return GGML_TYPE_Q8_0;
        case KvType::q4_0: return GGML_TYPE_Q4_0;
        case KvType::q4_1: return GGML_TYPE_Q4_1;
        case KvType::q5_0: return GGML_TYPE_Q5_0;
        case KvType::q5_1: return GGML_TYPE_Q5_1;
        case KvType::iq4_nl: return GGML_TYPE_IQ4_NL;
        case KvType::f32: return GGML_TYPE_F32;
    }
    return GGML_TYPE_F16;
}

llama_flash_attn_type to_llama(FlashAttn fa) {
    switch (fa) {
        case FlashAttn::on: return LLAMA_FLASH_ATTN_TYPE_ENABLED;
        case FlashAttn::off: return LLAMA_FLASH_ATTN_TYPE_DISABLED;
        case FlashAttn::auto_: return LLAMA_FLASH_ATTN_TYPE_AUTO;
    }
    return LLAMA_FLASH_ATTN_TYPE_AUTO;
}

enum llama_pooling_type to_llama(Pooling p) {
    switch (p) {
        case Pooling::model_default: return LLAMA_POOLING_TYPE_UNSPECIFIED;
        case Pooling::none: return LLAMA_POOLING_TYPE_NONE;
        case Pooling::mean: return LLAMA_POOLING_TYPE_MEAN;
        case Pooling::cls: return LLAMA_POOLING_TYPE_CLS;
        case Pooling::last: return LLAMA_POOLING_TYPE_LAST;
        case Pooling::rank: return LLAMA_POOLING_TYPE_RANK;
    }
    return LLAMA_POOLING_TYPE_UNSPECIFIED;
}

constexpr Pooling kAllPoolings[] = {Pooling::model_default, Pooling::none, Pooling::mean,
                                    Pooling::cls,           Pooling::last, Pooling::rank};

}  // namespace

std::string_view to_string(Pooling pooling) {
    switch (pooling) {
        case Pooling::model_default: return "model";
        case Pooling::none: return "none";
        case Pooling::mean: return "mean";
        case Pooling::cls: return "cls";
        case Pooling::last: return "last";
        case Pooling::rank: return "rank";
    }
    return "?";
}

Pooling parse_pooling(std::string_view text) {
    const std::string t = lower(text);
    for (Pooling p : kAllPoolings) {
        if (t == to_string(p)) return p;
    }
    throw Error(ErrorKind::invalid_input,
                fmt::format("unknown pooling '{}' (use model, none, mean, cls, last or rank)", text));
}

void Session::Free::operator()(llama_context* ctx) const { llama_free(ctx); }

Session Session::open(const LoadedModel& model, const SessionParams& params) {
    init_backend();
    llama_context_params cp = llama_context_default_params();
    uint32_t n_ctx = params.n_ctx;
    if (n_ctx == 0) {
        n_ctx = std::min<uint32_t>(static_cast<uint32_t>(llama_model_n_ctx_train(model.get())), 4096);
    }
    if (params.n_ubatch == 0 || params.n_batch == 0 || params.n_ubatch > params.n_batch) {
        throw Error(ErrorKind::invalid_input, "invalid batch sizes: need 0 < n_ubatch <= n_batch");
    }
    int32_t n_threads = params.n_threads > 0 ? params.n_threads
                                             : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    cp.n_ctx = n_ctx;
    cp.n_batch = params.n_batch;
    cp.n_ubatch = params.n_ubatch;
    cp.n_seq_max = params.n_seq_max;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.type_k = to_ggml(params.type_k);
    cp.type_v = to_ggml(params.type_v);
    cp.flash_attn_type = to_llama(params.flash_attn);
    cp.embeddings = params.embeddings;
    cp.pooling_type = to_llama(params.pooling);
    cp.no_perf = true;

    clear_backend_message();
    llama_context* raw = llama_init_from_model(model.get(), cp);
    if (raw == nullptr) {
        std::string why = last_backend_message();
        throw Error(ErrorKind::out_of_memory, "cannot create a context of " + std::to_string(n_ctx) + " tokens for " +
                                                  model.path().string() + (why.empty() ? "" : ": " + why));
    }
    Session s;
    s.ctx_.reset(raw);
    s.model_ = &model;
    s.n_threads_ = n_threads;
    return s;
}

uint32_t Session::n_ctx() const { return llama_n_ctx(ctx_.get()); }
uint32_t Session::n_batch() const { return llama_n_batch(ctx_.get()); }
uint32_t Session::n_ubatch() const { return llama_n_ubatch(ctx_.get()); }
uint32_t Session::n_seq_max() const { return llama_n_seq_max(ctx_.get()); }

void Session::set_threads(int32_t n_threads) {
    llama_set_n_threads(ctx_.get(), n_threads, n_threads);
    n_threads_ = n_threads;
}

Pooling Session::pooling() const {
    switch (llama_pooling_type(ctx_.get())) {
        case LLAMA_POOLING_TYPE_MEAN: return Pooling::mean;
        case LLAMA_POOLING_TYPE_CLS: return Pooling::cls;
        case LLAMA_POOLING_TYPE_LAST: return Pooling::last;
        case LLAMA_POOLING_TYPE_RANK: return Pooling::rank;
        default: return Pooling::none;
    }
}

std::vector<int32_t> tokenize(const LoadedModel& model, std::string_view text, bool add_special, bool parse_special) {
    const llama_vocab* vocab = llama_model_get_vocab(model.get());
    const auto len = static_cast<int32_t>(text.size());
    int32_t n = -llama_tokenize(vocab, text.data(), len, nullptr, 0, add_special, parse_special);
    if (n < 0) {
        n = -n;  // a positive return on an empty buffer means zero tokens needed the space
    }
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    const int32_t got = llama_tokenize(vocab, text.data(), len, tokens.data(), n, add_special, parse_special);
    if (got < 0) {
        throw Error(ErrorKind::internal, "tokenizer disagreed with itself about the token count");
    }
    tokens.resize(static_cast<size_t>(got));
    return tokens;
}

std::string token_to_piece(const LoadedModel& model, int32_t token, int32_t lstrip) {
    const llama_vocab* vocab = llama_model_get_vocab(model.get());
    std::string piece(16, '\0');
    int32_t n = llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), lstrip, false);
    if (n < 0) {
        piece.resize(static_cast<size_t>(-n));
        n = llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), lstrip, false);
    }
    piece.resize(static_cast<size_t>(std::max(n, 0)));
    return piece;
}

std::string detokenize(const LoadedModel& model, const std::vector<int32_t>& tokens) {
    std::string out;
    for (int32_t t : tokens) {
        out += token_to_piece(model, t);
    }
    return out;
}

}  // namespace accel::engine
