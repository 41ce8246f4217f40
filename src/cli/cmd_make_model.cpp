#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/engine/synthetic_model.h"
#include "accel/engine/synthetic_whisper.h"
#include "commands.h"
#include "output.h"
#include "runtime_files.h"

namespace accel::cli {
namespace {

struct MakeModelOptions {
    std::string arch = "llama";
    std::string params = "25M";
    std::string size = "tiny";  // whisper
    std::string type = "f32";
    uint64_t seed = 1;
    std::string out;
    int32_t threads = 0;
    bool json = false;
};

int run_make_model(const MakeModelOptions& o) {
    const bool whisper = o.arch == "whisper";
    engine::SyntheticSpec spec{.arch = o.arch,
                               .n_params_target = engine::parse_param_count(o.params),
                               .type = engine::parse_weight_type(o.type),
                               .seed = o.seed,
                               .out = o.out,
                               .vocab_dir = vocab_dir(),
                               .n_threads = o.threads};
    const engine::SyntheticModel m =
        whisper ? engine::make_synthetic_whisper({.size = o.size, .type = spec.type, .seed = o.seed, .out = o.out})
                : engine::make_synthetic_model(spec);
    if (o.json) {
        print_json({{"schema_version", json_schema_version},
                    {"path", m.path.string()},
                    {"name", m.name},
                    {"arch", o.arch},
                    {"size", whisper ? o.size : ""},
                    {"type", o.type},
                    {"seed", o.seed},
                    {"n_params", m.n_params},
                    {"n_vocab", m.shape.n_vocab},
                    {"n_embd", m.shape.n_embd},
                    {"n_layer", m.shape.n_layer},
                    {"n_head", m.shape.n_head},
                    {"n_head_kv", m.shape.n_head_kv},
                    {"n_ff", m.shape.n_ff},
                    {"file_bytes", m.file_bytes},
                    {"sha256", m.sha256},
                    {"random_weights", true}});
    } else {
        fmt::print("{}\n  {}\n  {} parameters: vocab {}, embd {}, layers {}, heads {}/{} (kv), ff {}\n  {} bytes, sha256 {}\n",
                   m.path.string(), m.name, m.n_params, m.shape.n_vocab, m.shape.n_embd, m.shape.n_layer, m.shape.n_head,
                   m.shape.n_head_kv, m.shape.n_ff, m.file_bytes, m.sha256);
    }
    return exit_ok;
}

}  // namespace

void register_make_model(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<MakeModelOptions>();
    std::string archs;
    for (const auto& a : engine::synthetic_architectures()) archs += (archs.empty() ? "" : "|") + a;
    archs += "|whisper (a whisper.cpp file, --size)";
    auto* cmd = app.add_subcommand(
        "make-model",
        "Make a synthetic GGUF model with RANDOM WEIGHTS through llama.cpp (detr: DETR-ResNet-50's shape through\n"
        "accel convert, --params unused; whisper: a whisper.cpp file of --size's shape). Such models are valid for\n"
        "performance measurements and meaningless for output quality. The same arguments always give the same file.");
    cmd->add_option("--arch", opts->arch, "Architecture: " + archs)->default_val("llama");
    cmd->add_option("--params", opts->params, "Target parameter count, e.g. 25M or 1B")->default_val("25M");
    cmd->add_option("--size", opts->size, "Whisper's shape (--arch whisper): tiny|base|small")->default_val("tiny");
    cmd->add_option("--type", opts->type, "Weight type")->check(CLI::IsMember({"f32", "f16", "q8_0", "q4_0"}))->default_val("f32");
    cmd->add_option("--seed", opts->seed, "Random seed for the weights")->default_val(1)
        ->check(accel::cli::non_negative);
    cmd->add_option("--out", opts->out, "Output GGUF file")->required();
    cmd->add_option("--threads,-t", opts->threads, "Threads for quantization (0: all)")->default_val(0);
    cmd->add_flag("--json", opts->json, "Print JSON");
    cmd->callback([opts, &exit_code] { exit_code = run_make_model(*opts); });
}

}  // namespace accel::cli
