#include <algorithm>
#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"
#include "accel/pool/lease_tasks.h"
#include "commands.h"
#include "pool_runtime.h"

namespace accel::cli {
namespace {

struct GenerateOptions {
    std::string model;
    std::string prompt;
    int32_t n_predict = 128;
    float temp = 0.0f;
    int32_t top_k = 40;
    float top_p = 0.95f;
    float min_p = 0.05f;
    float repeat_penalty = 1.0f;
    uint32_t seed = 0;
    int32_t threads = 0;
    uint32_t ctx = 0;
    std::vector<std::string> stop;
    bool chat = false;
    std::string type_k = "f16";
    std::string type_v = "f16";
    std::string flash_attn = "auto";
    PoolFlags pool;
};

double per_second(int64_t n, std::chrono::nanoseconds t) {
    return t.count() > 0 ? static_cast<double>(n) * 1e9 / static_cast<double>(t.count()) : 0.0;
}

int run_generate(const GenerateOptions& o) {
    PoolRuntime runtime(o.pool);
    // The context must hold the prompt and the answer; the prompt is counted with the model's tokenizer once
    // loaded, so ask for a generous context and check below.
    const uint32_t n_ctx = o.ctx > 0 ? o.ctx : std::max<uint32_t>(512, static_cast<uint32_t>(o.n_predict) + 512);
    pool::Request request = runtime.request(o.model, {.n_ctx = n_ctx,
                                                      .type_k = model::parse_kv_type(o.type_k),
                                                      .type_v = model::parse_kv_type(o.type_v),
                                                      .flash_attn = model::parse_flash_attn(o.flash_attn)});
    request.n_threads = o.threads;
    pool::Lease lease = runtime.pool().acquire(request);
    runtime.report(lease);
    const pool::GenerateRequest generation{.prompt = o.prompt,
                                           .chat = o.chat,
                                           .params = {.n_predict = o.n_predict,
                                                      .sampling = {.temp = o.temp,
                                                                   .top_k = o.top_k,
                                                                   .top_p = o.top_p,
                                                                   .min_p = o.min_p,
                                                                   .repeat_penalty = o.repeat_penalty,
                                                                   .seed = o.seed},
                                                      .stop = o.stop}};
    const pool::GenerateOutcome out = pool::generate(lease, generation, [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return std::ferror(stdout) == 0;
    });
    const engine::GenerateStats& st = out.stats;
    std::fputc('\n', stdout);
    std::fflush(stdout);
    // The first generated token is sampled from the prompt's logits, so generation speed counts the
    // tokens decoded after it (n_gen - 1) over the time after it.
    fmt::print(stderr, "load: {:.1f} ms | prompt: {} tokens, {:.1f} tokens/s | generated: {} tokens, {:.1f} tokens/s\n",
               static_cast<double>(out.load_time.count()) / 1e6, st.n_tokens_prompt,
               per_second(st.n_tokens_prompt, st.prompt_time), st.n_tokens_gen,
               per_second(std::max(0, st.n_tokens_gen - 1), st.gen_time));
    runtime.print_stats();
    return exit_ok;
}

}  // namespace

void register_generate(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<GenerateOptions>();
    auto* cmd = app.add_subcommand("generate", "Generate text from a prompt (greedy by default); text streams to stdout");
    cmd->add_option("--model,-m", opts->model, "GGUF model file")->required();
    cmd->add_option("--prompt", opts->prompt, "Prompt text (empty: start from BOS)")->required();
    cmd->add_option("-n,--n-predict", opts->n_predict, "Tokens to generate")->default_val(128)->check(accel::cli::non_negative);
    cmd->add_option("--temp", opts->temp, "Temperature; 0 is greedy")->default_val(0.0f)->check(accel::cli::non_negative);
    cmd->add_option("--top-k", opts->top_k, "Top-k (with --temp > 0)")->default_val(40);
    cmd->add_option("--top-p", opts->top_p, "Top-p (with --temp > 0)")->default_val(0.95f)->check(CLI::Range(0.0f, 1.0f));
    cmd->add_option("--min-p", opts->min_p, "Min-p (with --temp > 0)")->default_val(0.05f)->check(CLI::Range(0.0f, 1.0f));
    cmd->add_option("--repeat-penalty", opts->repeat_penalty, "Repetition penalty; 1 is off")->default_val(1.0f);
    cmd->add_option("--seed", opts->seed, "Sampling seed")->default_val(0)->check(accel::cli::non_negative);
    cmd->add_option("--threads,-t", opts->threads, "CPU threads (0: all)")->default_val(0)->check(accel::cli::non_negative);
    cmd->add_option("--ctx", opts->ctx, "Context length (0: n + 512, at least 512)")->default_val(0)
        ->check(accel::cli::non_negative);
    cmd->add_option("--stop", opts->stop, "Stop string (repeatable); not printed");
    cmd->add_flag("--chat", opts->chat, "Wrap the prompt in the model's chat template as one user turn");
    cmd->add_option("--ctk,--cache-type-k", opts->type_k, "KV cache type for K: f16, q8_0, q4_0, ...");
    cmd->add_option("--ctv,--cache-type-v", opts->type_v, "KV cache type for V");
    cmd->add_option("--fa,--flash-attn", opts->flash_attn, "Flash attention: on|1, off|0, auto|-1");
    add_pool_flags(*cmd, opts->pool);
    cmd->callback([opts, &exit_code] { exit_code = run_generate(*opts); });
}

}  // namespace accel::cli
