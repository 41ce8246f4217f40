// `accel quantize` and `accel imatrix`: wiring over engine/quantize.h and engine/imatrix.h.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/units.h"
#include "accel/core/version.h"
#include "accel/engine/imatrix.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/quality.h"
#include "accel/engine/quantize.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct QuantizeOptions {
    std::string input;
    std::string types;
    std::string imatrix;
    std::string out_dir;
    int32_t threads = 0;
    bool json = false;
};

std::vector<std::string> split_types(const std::string& value) {
    std::vector<std::string> out;
    std::stringstream ss(value);
    for (std::string t; std::getline(ss, t, ',');) {
        if (!t.empty()) out.push_back(t);
    }
    return out;
}

std::string human_bytes(uint64_t bytes) {
    const double mib = to_mib(bytes);
    if (mib >= 1024.0) return fmt::format("{:.2f} GiB", mib / 1024.0);
    return fmt::format("{:.2f} MiB", mib);
}

// One progress line on stderr: redrawn in place on a terminal, otherwise one line per type start and end.
void show_progress(const engine::QuantizeProgress& p, bool tty) {
    const std::string head = fmt::format("quantize: [{}/{}] {}", p.type_index + 1, p.n_types, p.type);
    if (!tty) {
        if (p.done) {
            fmt::print(stderr, "{}: done ({} tensors)\n", head, p.n_tensors);
        } else if (p.tensor == 0) {
            fmt::print(stderr, "{}: started\n", head);
        }
        return;
    }
    constexpr int width = 30;
    // Tensors finished: llama.cpp announces each one as it starts it.
    const int32_t finished = p.done ? p.n_tensors : std::max(0, p.tensor - 1);
    const int filled = p.n_tensors > 0 ? finished * width / p.n_tensors : 0;
    fmt::print(stderr, "\r\033[K{} [{}{}] {}/{} tensors", head, std::string(static_cast<size_t>(filled), '#'),
               std::string(static_cast<size_t>(width - filled), '.'), finished, p.n_tensors);
    if (p.done) fmt::print(stderr, "\n");
}

int run_quantize(const QuantizeOptions& o) {
    const bool tty = isatty(STDERR_FILENO) != 0;
    engine::QuantizeRequest req{.input = o.input,
                                .types = split_types(o.types),
                                .out_dir = o.out_dir,
                                .imatrix = o.imatrix,
                                .n_threads = o.threads,
                                .on_progress = [tty](const engine::QuantizeProgress& p) { show_progress(p, tty); }};
    const auto outputs = engine::quantize(req);
    if (o.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& out : outputs) {
            list.push_back({{"type", out.type.name},
                            {"path", out.path.string()},
                            {"file_bytes", out.file_bytes},
                            {"estimated_bytes", out.estimated_bytes},
                            {"seconds", std::chrono::duration<double>(out.elapsed).count()}});
        }
        print_json({{"schema_version", json_schema_version}, {"input", o.input}, {"outputs", list}});
        return exit_ok;
    }
    Table t{.columns = {"type", "output", "size", "estimate", "seconds"},
            .numeric = {false, false, true, true, true},
            .rows = {}};
    for (const auto& out : outputs) {
        t.rows.push_back({out.type.name, out.path.string(), human_bytes(out.file_bytes),
                          human_bytes(out.estimated_bytes) + " (est.)",
                          fmt::format("{:.3f}", std::chrono::duration<double>(out.elapsed).count())});
    }
    fmt::print("{}", render_table(t));
    return exit_ok;
}

struct ImatrixOptions {
    std::string model;
    std::string text = engine::default_corpus_path;
    std::string out;
    int32_t n_ctx = 512;
    int32_t chunks = 0;
    int32_t threads = 0;
};

int run_imatrix(const ImatrixOptions& o) {
    if (o.n_ctx < 16) throw Error(ErrorKind::invalid_input, "-c must be at least 16, got " + std::to_string(o.n_ctx));
    if (o.chunks < 0) throw Error(ErrorKind::invalid_input, "--chunks must be 0 (all) or more");
    const std::string text = engine::read_corpus(o.text);
    // Refuse an unwritable destination before the long run, not after it.
    const std::filesystem::path out_dir = std::filesystem::path(o.out).parent_path();
    if (!out_dir.empty() && !std::filesystem::is_directory(out_dir)) {
        throw Error(ErrorKind::invalid_input, "output folder does not exist: " + out_dir.string());
    }
    if (::access(out_dir.empty() ? "." : out_dir.c_str(), W_OK) != 0) {
        throw Error(ErrorKind::invalid_input, "output folder is not writable: " + (out_dir.empty() ? "." : out_dir.string()));
    }
    const bool tty = isatty(STDERR_FILENO) != 0;
    const engine::LoadedModel model = engine::LoadedModel::load(o.model);
    const auto t0 = std::chrono::steady_clock::now();
    const engine::Imatrix m = engine::compute_imatrix(
        model, text,
        {.n_ctx = static_cast<uint32_t>(o.n_ctx),
         .n_threads = o.threads,
         .max_chunks = o.chunks,
         .dataset = std::filesystem::path(o.text).filename().string(),
         .on_chunk = [tty](int32_t done, int32_t total) {
             if (tty) {
                 fmt::print(stderr, "\r\033[Kimatrix: chunk {}/{}", done, total);
                 if (done == total) fmt::print(stderr, "\n");
             } else if (done == total || done % 10 == 0) {
                 fmt::print(stderr, "imatrix: chunk {}/{}\n", done, total);
             }
         }});
    engine::save_imatrix(m, o.out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("wrote {}: {} weight entries from {} chunks of {} tokens of {} in {:.2f} s\n", o.out, m.entries.size(),
               m.chunk_count, m.chunk_size, o.text, seconds);
    return exit_ok;
}

}  // namespace

void register_quantize(CLI::App& app, int& exit_code) {
    auto q = std::make_shared<QuantizeOptions>();
    auto* cmd = app.add_subcommand(
        "quantize",
        "Quantize an F32/F16/BF16 GGUF to one or more types with llama.cpp; outputs are <stem>-<TYPE>.gguf");
    cmd->add_option("input", q->input, "GGUF model to quantize (F32, F16 or BF16)")->required();
    // One string, so that `--type q8_0 IN.gguf` does not take the input as a second type.
    cmd->add_option("--type", q->types, "Types, comma-separated: q8_0,q6_k,q5_k_m,q4_k_m,q4_0,iq2_xxs,...")
        ->required();
    cmd->add_option("--imatrix", q->imatrix, "Importance matrix (from accel imatrix or llama-imatrix)");
    cmd->add_option("--out-dir", q->out_dir, "Folder for the outputs (default: the input's folder)");
    cmd->add_option("--threads,-t", q->threads, "Threads (0: all)");
    cmd->add_flag("--json", q->json, "Print the outputs as JSON");
    cmd->callback([q, &exit_code] { exit_code = run_quantize(*q); });

    auto im = std::make_shared<ImatrixOptions>();
    auto* icmd = app.add_subcommand("imatrix", "Compute an importance matrix over a text, for low-bit quantization");
    icmd->add_option("--model,-m", im->model, "GGUF model (F32/F16/BF16 is best)")->required();
    icmd->add_option("--text", im->text, "Text file (default: the GPL-3 text in /usr/share/common-licenses)");
    icmd->add_option("--ctx,-c", im->n_ctx, "Tokens per chunk (default 512)");
    icmd->add_option("--chunks", im->chunks, "Chunks to run (0: all)");
    icmd->add_option("--threads,-t", im->threads, "Threads (0: all)");
    icmd->add_option("--out,-o", im->out, "Output file (GGUF imatrix format)")->required();
    icmd->callback([im, &exit_code] { exit_code = run_imatrix(*im); });
}

}  // namespace accel::cli
