// accel serve: the OpenAI-compatible server (serve/) over this process's pool, until SIGTERM or SIGINT.
#include <pthread.h>

#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/serve/server.h"
#include "commands.h"
#include "pool_runtime.h"

namespace accel::cli {
namespace {

struct ServeFlags {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    std::vector<std::string> models;
    std::string api_key_file;
    int32_t max_queue = 8;
    int32_t parallel = 1;
    uint32_t ctx = 2048;
    int32_t threads = 0;
    uint64_t cache_ram_mib = 8192;
    PoolFlags pool;
};

// The key is the file's first line, surrounding whitespace dropped; a file that is readable by others is refused
// only by convention (the key must not be on the command line, where `ps` shows it).
std::string read_api_key(const std::string& path) {
    std::ifstream in(path);
    std::string key;
    if (!in || !std::getline(in, key)) throw Error(ErrorKind::invalid_input, "serve: cannot read --api-key-file " + path);
    const auto first = key.find_first_not_of(" \t\r\n");
    const auto last = key.find_last_not_of(" \t\r\n");
    key = first == std::string::npos ? "" : key.substr(first, last - first + 1);
    if (key.size() < 16) throw Error(ErrorKind::invalid_input, "serve: the API key in " + path + " is under 16 characters");
    return key;
}

int run_serve(const ServeFlags& f) {
    std::vector<std::filesystem::path> paths(f.models.begin(), f.models.end());
    if (paths.empty()) throw Error(ErrorKind::invalid_input, "serve: give --models DIR|FILE (what may be served)");
    serve::ModelCatalog catalog = serve::ModelCatalog::scan(paths);
    // SIGTERM/SIGINT are taken by sigwait below: block them before any thread starts, so every thread inherits it.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    PoolRuntime runtime(f.pool);
    serve::ServeOptions options{.host = f.host, .port = f.port, .max_queue = f.max_queue,
                                .parallel = f.parallel, .n_ctx = f.ctx,
                                .n_threads = f.threads,
                                .cache_ram_mib = f.cache_ram_mib};
    if (!f.api_key_file.empty()) options.api_key = read_api_key(f.api_key_file);
    const size_t n_models = catalog.models().size();
    serve::Server server(options, std::move(catalog), runtime.pool(),
                         [&runtime](const std::filesystem::path& model, const pool::LoadOptions& load) {
                             return runtime.request(model.string(), load);
                         });
    fmt::print(stderr, "accel serve: http://{}:{} ({} model{}){}\n", server.host(), server.port(), n_models,
               n_models == 1 ? "" : "s", options.api_key.empty() ? "" : ", API key required");
    int sig = 0;
    sigwait(&stop_signals, &sig);
    fmt::print(stderr, "accel serve: {} received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop();
    runtime.print_stats();
    return exit_ok;
}

}  // namespace

void register_serve(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<ServeFlags>();
    auto* cmd = app.add_subcommand("serve", "Serve models over an OpenAI-compatible HTTP API until SIGTERM");
    cmd->add_option("--host", f->host, "IPv4 address to listen on; not loopback needs --api-key-file")
        ->default_val("127.0.0.1");
    cmd->add_option("--port", f->port, "TCP port (0: any free port)")->default_val(8080);
    cmd->add_option("--models", f->models, "GGUF files or folders of them: the only models served")->required();
    cmd->add_option("--api-key-file", f->api_key_file, "File whose first line is the API key (Authorization: Bearer)");
    cmd->add_option("--max-queue", f->max_queue, "Model requests waiting for a sequence at once; more get 503")
        ->default_val(8)->check(CLI::PositiveNumber);
    cmd->add_option("--parallel", f->parallel,
                    "Sequences each generation model decodes together (continuous batching)")
        ->default_val(1)->check(CLI::Range(1, 256));
    cmd->add_option("--ctx", f->ctx, "Context length of each sequence (a model holds --ctx x --parallel)")
        ->default_val(2048)->check(accel::cli::non_negative);
    cmd->add_option("--threads,-t", f->threads, "CPU threads per request (0: all)")->default_val(0)
        ->check(accel::cli::non_negative);
    cmd->add_option("--cache-ram", f->cache_ram_mib,
                    "MiB of host memory per generation model for saved prompt states (llama-server's --cache-ram; "
                    "at most a quarter of the host's memory; 0: off)")
        ->default_val(8192)->check(accel::cli::non_negative);
    add_pool_flags(*cmd, f->pool);
    cmd->callback([f, &exit_code] { exit_code = run_serve(*f); });
}

}  // namespace accel::cli
