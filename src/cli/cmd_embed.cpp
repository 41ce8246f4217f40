#include <fstream>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/pool/lease_tasks.h"
#include "commands.h"
#include "output.h"
#include "pool_runtime.h"

namespace accel::cli {
namespace {

struct EmbedOptions {
    std::string model;
    std::vector<std::string> texts;
    std::string file;
    bool normalize = false;
    bool json = false;
    std::string pooling = "model";
    int32_t threads = 0;
    PoolFlags pool;
};

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::invalid_input, "cannot read text file " + path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

int run_embed(const EmbedOptions& o) {
    std::vector<std::string> texts = o.texts;
    if (!o.file.empty()) {
        auto more = read_lines(o.file);
        texts.insert(texts.end(), more.begin(), more.end());
    }
    if (texts.empty()) throw Error(ErrorKind::invalid_input, "nothing to embed: give --text or --file");
    PoolRuntime runtime(o.pool);
    pool::Request request = runtime.request(
        o.model, {.n_ctx = 512, .n_seq = 8, .embeddings = true, .pooling = engine::parse_pooling(o.pooling)});
    request.n_threads = o.threads;
    pool::Lease lease = runtime.pool().acquire(request);
    runtime.report(lease);
    const auto vectors = pool::embed(lease, texts, {.normalize = o.normalize});
    const size_t dim = vectors.empty() ? 0 : vectors.front().size();
    if (o.json) {
        print_json({{"schema_version", json_schema_version},
                    {"model", o.model},
                    {"dim", dim},
                    {"normalized", o.normalize},
                    {"embeddings", vectors}});
    } else {
        for (const auto& v : vectors) {
            std::string line;
            for (size_t i = 0; i < v.size(); ++i) line += fmt::format("{}{:.6g}", i ? " " : "", v[i]);
            fmt::print("{}\n", line);
        }
    }
    runtime.print_stats();
    return exit_ok;
}

}  // namespace

void register_embed(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<EmbedOptions>();
    auto* cmd = app.add_subcommand("embed", "Embed texts; one vector per input, in input order");
    cmd->add_option("--model,-m", opts->model, "GGUF embedding model")->required();
    cmd->add_option("--text", opts->texts, "Text to embed (repeatable)");
    cmd->add_option("--file", opts->file, "File with one text per line");
    cmd->add_flag("--normalize", opts->normalize, "L2-normalise each vector");
    cmd->add_option("--pooling", opts->pooling, "Pooling: model (from metadata), mean, cls, last or rank (a classifier's head: one score per label)");
    cmd->add_option("--threads,-t", opts->threads, "CPU threads (0: all)");
    cmd->add_flag("--json", opts->json, R"(Print {"model", "dim", "embeddings": [[...], ...]})");
    add_pool_flags(*cmd, opts->pool);
    cmd->callback([opts, &exit_code] { exit_code = run_embed(*opts); });
}

}  // namespace accel::cli
