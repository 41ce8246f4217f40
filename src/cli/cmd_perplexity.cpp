// `accel perplexity`: perplexity, KL divergence from a reference, or embedding cosine (engine/quality.h).
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/quality.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct PerplexityOptions {
    std::string model;
    std::string text = engine::default_corpus_path;
    std::string reference;
    std::string sentences;
    int32_t n_ctx = 512;
    int32_t n_batch = 2048;
    int32_t chunks = 0;
    int32_t threads = 0;
    bool json = false;
};

constexpr size_t max_default_sentences = 64;

// --sentences FILE: one per non-empty line. Without it, the first non-empty lines of the text.
std::vector<std::string> read_sentences(const std::string& path, size_t limit) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::invalid_input, "cannot read sentences file " + path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line) && out.size() < limit;) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos) out.push_back(line.substr(first));
    }
    if (out.empty()) throw Error(ErrorKind::invalid_input, "no sentences in " + path);
    return out;
}

std::function<void(int32_t, int32_t)> chunk_progress(bool tty) {
    return [tty](int32_t done, int32_t total) {
        if (tty) {
            fmt::print(stderr, "\r\033[Kperplexity: chunk {}/{}", done, total);
            if (done == total) fmt::print(stderr, "\n");
        }
    };
}

int run_perplexity(const PerplexityOptions& o) {
    if (o.n_ctx < 4) throw Error(ErrorKind::invalid_input, "-c must be at least 4, got " + std::to_string(o.n_ctx));
    if (o.n_batch < 1) throw Error(ErrorKind::invalid_input, "-b must be at least 1, got " + std::to_string(o.n_batch));
    if (o.chunks < 0) throw Error(ErrorKind::invalid_input, "--chunks must be 0 (all) or more");
    const bool tty = isatty(STDERR_FILENO) != 0;
    const engine::LoadedModel model = engine::LoadedModel::load(o.model);
    std::optional<engine::LoadedModel> reference;
    if (!o.reference.empty()) reference.emplace(engine::LoadedModel::load(o.reference));
    nlohmann::json doc{{"schema_version", json_schema_version}, {"model", o.model}};
    if (reference) doc["reference"] = o.reference;

    if (engine::is_embedding_model(model)) {
        if (!reference) {
            throw Error(ErrorKind::invalid_input, o.model + " is an embedding model: it has no perplexity; give "
                                                            "--reference REF.gguf to compare its embeddings by cosine");
        }
        const std::string source = o.sentences.empty() ? o.text : o.sentences;
        if (o.sentences.empty()) (void)engine::read_corpus(o.text);  // a clear error for a missing default text
        const auto sentences = read_sentences(source, o.sentences.empty() ? max_default_sentences : SIZE_MAX);
        const auto r = engine::embedding_similarity(*reference, model, sentences, o.threads);
        if (o.json) {
            doc["sentences"] = source;
            doc["embedding"] = {{"n_texts", r.n_texts},
                                {"mean_cosine", r.mean_cosine},
                                {"min_cosine", r.min_cosine},
                                {"max_abs_diff", r.max_abs_diff}};
            print_json(doc);
        } else {
            fmt::print("cosine similarity to {} over {} sentences of {}: mean {:.6f}, min {:.6f} (max |diff| {:.6g})\n",
                       o.reference, r.n_texts, source, r.mean_cosine, r.min_cosine, r.max_abs_diff);
        }
        return exit_ok;
    }

    const std::string text = engine::read_corpus(o.text);
    const engine::PerplexityParams params{.n_ctx = static_cast<uint32_t>(o.n_ctx),
                                          .n_batch = static_cast<uint32_t>(o.n_batch),
                                          .n_threads = o.threads,
                                          .max_chunks = o.chunks,
                                          .on_chunk = chunk_progress(tty)};
    doc["text"] = o.text;
    doc["n_ctx"] = o.n_ctx;
    doc["n_batch"] = o.n_batch;
    // With a reference, one side-by-side pass gives both perplexities and the divergence.
    std::optional<engine::KlDivergenceResult> kl;
    engine::PerplexityResult p;
    if (reference) {
        kl = engine::kl_divergence(*reference, model, text, params);
        p = {.perplexity = kl->ppl_test,
             .perplexity_stderr = kl->ppl_test_stderr,
             .n_chunks = kl->n_chunks,
             .n_tokens_scored = kl->n_tokens_scored,
             .seconds = kl->seconds};
        doc["kl_divergence"] = {{"mean", kl->kl_mean},
                                {"p99", kl->kl_p99},
                                {"top1_agreement", kl->top1_agreement},
                                {"ppl_reference", kl->ppl_reference},
                                {"ppl_reference_stderr", kl->ppl_reference_stderr},
                                {"n_tokens_scored", kl->n_tokens_scored}};
    } else {
        p = engine::perplexity(model, text, params);
    }
    doc["perplexity"] = {{"value", p.perplexity},
                         {"stderr", p.perplexity_stderr},
                         {"n_chunks", p.n_chunks},
                         {"n_tokens_scored", p.n_tokens_scored},
                         {"seconds", p.seconds}};
    if (o.json) {
        print_json(doc);
        return exit_ok;
    }
    fmt::print("perplexity: {:.4f} +/- {:.5f} ({} chunks of {} tokens, {} tokens scored, {:.2f} s)\n", p.perplexity,
               p.perplexity_stderr, p.n_chunks, o.n_ctx, p.n_tokens_scored, p.seconds);
    if (kl) {
        fmt::print("reference perplexity: {:.4f} +/- {:.5f}\n", kl->ppl_reference, kl->ppl_reference_stderr);
        fmt::print("KL divergence from the reference: mean {:.6f}, p99 {:.6f} nats per token\n", kl->kl_mean,
                   kl->kl_p99);
        fmt::print("top-1 agreement: {:.2f}% of {} tokens\n", 100.0 * kl->top1_agreement, kl->n_tokens_scored);
    }
    return exit_ok;
}

}  // namespace

void register_perplexity(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<PerplexityOptions>();
    auto* cmd = app.add_subcommand(
        "perplexity",
        "Perplexity over a text as llama-perplexity scores it; with --reference, KL divergence (or cosine for "
        "embedding models)");
    cmd->add_option("--model,-m", o->model, "GGUF model to score")->required();
    cmd->add_option("--text", o->text, "Text file (default: the GPL-3 text in /usr/share/common-licenses)");
    cmd->add_option("--ctx,-c", o->n_ctx, "Tokens per chunk, as llama-perplexity's -c (default 512)");
    cmd->add_option("--batch,-b", o->n_batch, "Batch size, as llama-perplexity's -b (default 2048)");
    cmd->add_option("--chunks", o->chunks, "Chunks to score (0: all)");
    cmd->add_option("--reference", o->reference, "Reference GGUF (the F32/F16 original): adds KL divergence, or "
                                                  "cosine similarity for embedding models");
    cmd->add_option("--sentences", o->sentences, "Embedding models: one sentence per line (default: the first 64 "
                                                 "lines of --text)");
    cmd->add_option("--threads,-t", o->threads, "Threads (0: all)");
    cmd->add_flag("--json", o->json, "Print the results as JSON");
    cmd->callback([o, &exit_code] { exit_code = run_perplexity(*o); });
}

}  // namespace accel::cli
