#include "accel/engine/quality.h"

#include <llama.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "accel/core/error.h"
#include "accel/engine/backend.h"
#include "model_io.h"
#include "accel/engine/embedder.h"
#include "accel/engine/session.h"

namespace accel::engine {
namespace {


std::string meta_string(const LoadedModel& model, const std::string& key) {
    std::array<char, 128> buf{};
    if (llama_model_meta_val_str(model.get(), key.c_str(), buf.data(), buf.size()) < 0) return {};
    return buf.data();
}

// The chunks of one text, as llama-perplexity cuts them.
struct ChunkPlan {
    std::vector<int32_t> tokens;
    int32_t n_ctx = 0;
    int32_t n_chunk = 0;
    int32_t first = 0;  // the first scored position in a chunk: n_ctx / 2
    int32_t n_scored_per_chunk() const { return n_ctx - 1 - first; }
};

ChunkPlan plan_chunks(const LoadedModel& model, std::string_view text, const PerplexityParams& params) {
    if (params.n_ctx < 4) {
        throw Error(ErrorKind::invalid_input,
                    "context of " + std::to_string(params.n_ctx) + " tokens is too small to score (need at least 4)");
    }
    if (params.n_batch == 0) throw Error(ErrorKind::invalid_input, "batch size must be at least 1");
    if (is_embedding_model(model)) {
        throw Error(ErrorKind::invalid_input, model.path().string() +
                                                  " is an embedding model: it has no next-token scores, so no "
                                                  "perplexity (compare it with a reference by cosine similarity)");
    }
    ChunkPlan plan;
    plan.tokens = tokenize(model, text, true);
    plan.n_ctx = static_cast<int32_t>(params.n_ctx);
    plan.first = plan.n_ctx / 2;
    const auto n_chunk_max = static_cast<int32_t>(plan.tokens.size() / params.n_ctx);
    if (n_chunk_max == 0) {
        throw Error(ErrorKind::invalid_input, "the text has " + std::to_string(plan.tokens.size()) + " tokens for " +
                                                  model.path().string() + ", fewer than one chunk of " +
                                                  std::to_string(params.n_ctx) + " (give a longer text or a smaller -c)");
    }
    plan.n_chunk = params.max_chunks > 0 ? std::min(params.max_chunks, n_chunk_max) : n_chunk_max;
    return plan;
}

// One context that turns a chunk into the logits of its scored positions.
class ChunkEvaluator {
public:
    ChunkEvaluator(const LoadedModel& model, const PerplexityParams& params, uint32_t n_ctx)
        : model_(model),
          // llama-perplexity clamps the batch to the context; the physical batch keeps llama.cpp's default.
          n_batch_(std::min(params.n_batch, n_ctx)),
          session_(Session::open(model, {.n_ctx = n_ctx,
                                         .n_batch = n_batch_,
                                         .n_ubatch = std::min<uint32_t>(512, n_batch_),
                                         .n_threads = params.n_threads})),
          batch_(detail::make_batch(static_cast<int32_t>(n_batch_))),
          n_vocab_(model.n_vocab()) {}

    int32_t n_vocab() const { return n_vocab_; }

    // Fills logits with (n_ctx - first) rows of n_vocab: the outputs for positions first .. n_ctx - 1.
    void eval(const ChunkPlan& plan, int32_t chunk, std::vector<float>& logits) {
        llama_context* ctx = session_.get();
        const int32_t start = chunk * plan.n_ctx;
        const auto n_batch = static_cast<int32_t>(n_batch_);
        logits.clear();
        logits.reserve(static_cast<size_t>(plan.n_ctx - plan.first) * static_cast<size_t>(n_vocab_));
        llama_memory_clear(llama_get_memory(ctx), true);
        for (int32_t batch_start = 0; batch_start < plan.n_ctx; batch_start += n_batch) {
            const int32_t batch_size = std::min(plan.n_ctx - batch_start, n_batch);
            int32_t n_outputs = 0;
            batch_->n_tokens = 0;
            for (int32_t k = 0; k < batch_size; ++k) {
                const int32_t pos = batch_start + k;
                int32_t token = plan.tokens[static_cast<size_t>(start + pos)];
                if (pos == 0 && model_.adds_bos()) token = model_.bos();
                batch_->token[k] = token;
                batch_->pos[k] = pos;
                batch_->n_seq_id[k] = 1;
                batch_->seq_id[k][0] = 0;
                batch_->logits[k] = pos >= plan.first ? 1 : 0;
                n_outputs += batch_->logits[k];
            }
            batch_->n_tokens = batch_size;
            clear_backend_message();
            if (llama_decode(ctx, *batch_) != 0) {
                const std::string why = last_backend_message();
                throw Error(ErrorKind::backend, "llama_decode failed on chunk " + std::to_string(chunk + 1) + " of " +
                                                    model_.path().string() + (why.empty() ? "" : ": " + why));
            }
            if (n_outputs > 0) {
                const float* out = llama_get_logits(ctx);
                if (out == nullptr) {
                    throw Error(ErrorKind::backend, "llama.cpp returned no logits for " + model_.path().string());
                }
                logits.insert(logits.end(), out, out + static_cast<size_t>(n_outputs) * static_cast<size_t>(n_vocab_));
            }
        }
    }

private:
    const LoadedModel& model_;
    uint32_t n_batch_;
    Session session_;
    detail::BatchPtr batch_;
    int32_t n_vocab_;
};

// -log p(tok) from one row of logits, computed as llama-perplexity computes it (float exponent, double sum).
double negative_log_prob(const float* logits, int32_t n_vocab, int32_t tok) {
    float max_logit = logits[0];
    for (int32_t i = 1; i < n_vocab; ++i) max_logit = std::max(max_logit, logits[i]);
    double sum_exp = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) sum_exp += std::exp(logits[i] - max_logit);
    return -(static_cast<double>(logits[tok] - max_logit) - std::log(sum_exp));
}

// Log-probabilities of one row, in double.
void log_probs(const float* logits, int32_t n_vocab, std::vector<double>& out) {
    out.resize(static_cast<size_t>(n_vocab));
    const float max_logit = *std::max_element(logits, logits + n_vocab);
    double sum_exp = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) sum_exp += std::exp(static_cast<double>(logits[i]) - max_logit);
    const double log_sum = std::log(sum_exp);
    for (int32_t i = 0; i < n_vocab; ++i) out[static_cast<size_t>(i)] = static_cast<double>(logits[i]) - max_logit - log_sum;
}

struct NllSum {
    double nll = 0;
    double nll2 = 0;
    int64_t count = 0;
    void add(double v) {
        nll += v;
        nll2 += v * v;
        ++count;
    }
    double ppl() const { return count > 0 ? std::exp(nll / static_cast<double>(count)) : 0.0; }
    // llama-perplexity's "+/-": the standard error of the mean NLL, carried to the perplexity.
    double ppl_stderr() const {
        if (count < 2) return 0;
        const double mean = nll / static_cast<double>(count);
        const double var = nll2 / static_cast<double>(count) - mean * mean;
        return var > 0 ? std::sqrt(var / static_cast<double>(count - 1)) * ppl() : 0.0;
    }
};

// The interpolated percentile llama-perplexity prints for KL divergence.
double percentile(const std::vector<double>& sorted, double fraction) {
    if (sorted.empty()) return 0;
    if (fraction <= 0) return sorted.front();
    if (fraction >= 1) return sorted.back();
    double p = fraction * static_cast<double>(sorted.size() - 1);
    const auto ip = static_cast<size_t>(p);
    p -= static_cast<double>(ip);
    return (1 - p) * sorted[ip] + p * sorted[std::min(ip + 1, sorted.size() - 1)];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string read_corpus(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(ErrorKind::invalid_input, "text file not found: " + path.string());
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::invalid_input, "text path is not a regular file: " + path.string());
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::invalid_input, "cannot read text file " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.empty()) throw Error(ErrorKind::invalid_input, "text file is empty: " + path.string());
    return text;
}

bool is_embedding_model(const LoadedModel& model) {
    const std::string arch = model.architecture();
    const std::string pooling = meta_string(model, arch + ".pooling_type");
    // 0 is "none"; -1 (stored as 4294967295 by the GGUF writer) is "unspecified", which a causal LM leaves it.
    if (!pooling.empty() && pooling != "0" && pooling != "-1" && pooling != "4294967295") return true;
    return meta_string(model, arch + ".attention.causal") == "false";
}

PerplexityResult perplexity(const LoadedModel& model, std::string_view text, const PerplexityParams& params) {
    const auto t0 = std::chrono::steady_clock::now();
    const ChunkPlan plan = plan_chunks(model, text, params);
    ChunkEvaluator eval(model, params, params.n_ctx);
    std::vector<float> logits;
    NllSum sum;
    const int32_t n_vocab = eval.n_vocab();
    for (int32_t c = 0; c < plan.n_chunk; ++c) {
        eval.eval(plan, c, logits);
        const size_t base = static_cast<size_t>(c) * static_cast<size_t>(plan.n_ctx) + static_cast<size_t>(plan.first);
        for (int32_t i = 0; i < plan.n_scored_per_chunk(); ++i) {
            const float* row = logits.data() + static_cast<size_t>(i) * static_cast<size_t>(n_vocab);
            sum.add(negative_log_prob(row, n_vocab, plan.tokens[base + static_cast<size_t>(i) + 1]));
        }
        if (params.on_chunk) params.on_chunk(c + 1, plan.n_chunk);
    }
    return {.perplexity = sum.ppl(),
            .perplexity_stderr = sum.ppl_stderr(),
            .n_chunks = plan.n_chunk,
            .n_tokens_scored = sum.count,
            .seconds = seconds_since(t0)};
}

KlDivergenceResult kl_divergence(const LoadedModel& reference, const LoadedModel& test, std::string_view text,
                                 const PerplexityParams& params) {
    const auto t0 = std::chrono::steady_clock::now();
    if (reference.n_vocab() != test.n_vocab()) {
        throw Error(ErrorKind::invalid_input, "vocabularies differ: " + reference.path().string() + " has " +
                                                  std::to_string(reference.n_vocab()) + " tokens, " +
                                                  test.path().string() + " has " + std::to_string(test.n_vocab()));
    }
    const ChunkPlan plan = plan_chunks(reference, text, params);
    if (tokenize(test, text, true) != plan.tokens || reference.adds_bos() != test.adds_bos() ||
        reference.bos() != test.bos()) {
        throw Error(ErrorKind::invalid_input, "tokenizers differ: " + test.path().string() +
                                                  " does not tokenize the text as " + reference.path().string());
    }
    ChunkEvaluator eval_ref(reference, params, params.n_ctx);
    ChunkEvaluator eval_test(test, params, params.n_ctx);
    const int32_t n_vocab = eval_ref.n_vocab();
    std::vector<float> logits_ref;
    std::vector<float> logits_test;
    std::vector<double> lp_ref;
    std::vector<double> lp_test;
    std::vector<double> kl_values;
    NllSum nll_ref;
    NllSum nll_test;
    int64_t same_top = 0;
    for (int32_t c = 0; c < plan.n_chunk; ++c) {
        eval_ref.eval(plan, c, logits_ref);
        eval_test.eval(plan, c, logits_test);
        const size_t base = static_cast<size_t>(c) * static_cast<size_t>(plan.n_ctx) + static_cast<size_t>(plan.first);
        for (int32_t i = 0; i < plan.n_scored_per_chunk(); ++i) {
            const size_t off = static_cast<size_t>(i) * static_cast<size_t>(n_vocab);
            const auto tok = static_cast<size_t>(plan.tokens[base + static_cast<size_t>(i) + 1]);
            log_probs(logits_ref.data() + off, n_vocab, lp_ref);
            log_probs(logits_test.data() + off, n_vocab, lp_test);
            double kl = 0;
            for (size_t v = 0; v < lp_ref.size(); ++v) kl += std::exp(lp_ref[v]) * (lp_ref[v] - lp_test[v]);
            kl_values.push_back(kl);
            // The same float-exponent NLL as perplexity(), so ppl_reference and ppl_test equal its values.
            nll_ref.add(negative_log_prob(logits_ref.data() + off, n_vocab, static_cast<int32_t>(tok)));
            nll_test.add(negative_log_prob(logits_test.data() + off, n_vocab, static_cast<int32_t>(tok)));
            const auto top_ref = std::distance(lp_ref.begin(), std::max_element(lp_ref.begin(), lp_ref.end()));
            const auto top_test = std::distance(lp_test.begin(), std::max_element(lp_test.begin(), lp_test.end()));
            same_top += top_ref == top_test ? 1 : 0;
        }
        if (params.on_chunk) params.on_chunk(c + 1, plan.n_chunk);
    }
    KlDivergenceResult r;
    r.n_tokens_scored = static_cast<int64_t>(kl_values.size());
    double kl_sum = 0;
    for (double v : kl_values) kl_sum += v;
    r.kl_mean = kl_values.empty() ? 0 : kl_sum / static_cast<double>(kl_values.size());
    std::sort(kl_values.begin(), kl_values.end());
    r.kl_p99 = percentile(kl_values, 0.99);
    r.top1_agreement = kl_values.empty() ? 0 : static_cast<double>(same_top) / static_cast<double>(kl_values.size());
    r.ppl_reference = nll_ref.ppl();
    r.ppl_test = nll_test.ppl();
    r.ppl_reference_stderr = nll_ref.ppl_stderr();
    r.ppl_test_stderr = nll_test.ppl_stderr();
    r.n_chunks = plan.n_chunk;
    r.seconds = seconds_since(t0);
    return r;
}

EmbeddingSimilarityResult embedding_similarity(const LoadedModel& reference, const LoadedModel& test,
                                               const std::vector<std::string>& sentences, int32_t n_threads) {
    if (sentences.empty()) throw Error(ErrorKind::invalid_input, "no sentences to compare embeddings over");
    const SessionParams sp{.n_ctx = 512, .n_batch = 512, .n_ubatch = 512, .n_threads = n_threads, .n_seq_max = 8,
                           .embeddings = true};
    std::vector<std::vector<float>> ref;
    {
        Session s = Session::open(reference, sp);
        ref = embed(s, sentences, {});
    }
    std::vector<std::vector<float>> got;
    {
        Session s = Session::open(test, sp);
        got = embed(s, sentences, {});
    }
    EmbeddingSimilarityResult r;
    r.n_texts = static_cast<int32_t>(sentences.size());
    r.min_cosine = 1.0;
    double sum = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (ref[i].size() != got[i].size()) {
            throw Error(ErrorKind::invalid_input, "embedding sizes differ: " + reference.path().string() + " gives " +
                                                      std::to_string(ref[i].size()) + ", " + test.path().string() +
                                                      " gives " + std::to_string(got[i].size()));
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (size_t k = 0; k < ref[i].size(); ++k) {
            const double a = ref[i][k];
            const double b = got[i][k];
            dot += a * b;
            na += a * a;
            nb += b * b;
            r.max_abs_diff = std::max(r.max_abs_diff, std::fabs(a - b));
        }
        const double cos = na > 0 && nb > 0 ? dot / (std::sqrt(na) * std::sqrt(nb)) : 0.0;
        sum += cos;
        r.min_cosine = std::min(r.min_cosine, cos);
    }
    r.mean_cosine = sum / static_cast<double>(ref.size());
    return r;
}

}  // namespace accel::engine
