// `accel convert`: wiring over model/hf_convert.h (Hugging Face folder -> GGUF).
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "accel/model/hf_convert.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct ConvertCliOptions {
    std::string input;
    std::string out;
    std::string mmproj_out;  // LLaVA: the multimodal projector file
    std::string type = "f16";
    bool json = false;
};

nlohmann::json tensor_list(const model::ConvertResult& r) {
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& t : r.tensors)
        tensors.push_back({{"name", t.name}, {"source", t.source}, {"type", t.type}, {"ne", t.ne}});
    return tensors;
}

int run_convert(const ConvertCliOptions& o) {
    const model::ConvertOptions opts{.type = model::parse_convert_type(o.type)};
    const auto t0 = std::chrono::steady_clock::now();
    const model::ConvertResult r = model::convert_hf(o.input, o.out, opts);
    std::optional<model::ConvertResult> mm;
    if (!o.mmproj_out.empty()) mm = model::convert_hf_mmproj(o.input, o.mmproj_out, opts);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.json) {
        nlohmann::json doc = {{"schema_version", 1},
                    {"input", o.input},
                    {"out", o.out},
                    {"type", o.type},
                    {"hf_architecture", r.hf_architecture},
                    {"arch", r.arch},
                    {"format", r.format},
                    {"tokenizer", r.tokenizer},
                    {"tokenizer_pre", r.tokenizer_pre},
                    {"n_vocab", r.n_vocab},
                    {"n_shards", r.n_shards},
                    {"chat_template", r.has_chat_template},
                    {"n_params", r.n_params},
                    {"out_bytes", r.out_bytes},
                    {"seconds", seconds},
                    {"tensors", tensor_list(r)}};
        if (mm)
            doc["mmproj"] = {{"out", o.mmproj_out}, {"arch", mm->arch}, {"n_params", mm->n_params},
                             {"out_bytes", mm->out_bytes}, {"tensors", tensor_list(*mm)}};
        print_json(doc);
        return exit_ok;
    }
    fmt::print("{} ({}) -> {}: {} tensors, {} parameters, {} bytes, {} in {:.2f} s\n", o.input, r.hf_architecture,
               o.out, r.tensors.size(), r.n_params, r.out_bytes, o.type, seconds);
    if (!r.tokenizer.empty())  // image models (vit) have none
        fmt::print("tokenizer: {} (pre {}), {} tokens{}\n", r.tokenizer, r.tokenizer_pre, r.n_vocab,
                   r.has_chat_template ? ", chat template" : "");
    if (mm)
        fmt::print("mmproj ({}) -> {}: {} tensors, {} parameters, {} bytes\n", mm->arch, o.mmproj_out, mm->tensors.size(),
                   mm->n_params, mm->out_bytes);
    return exit_ok;
}

}  // namespace

void register_convert(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ConvertCliOptions>();
    auto* cmd = app.add_subcommand(
        "convert", fmt::format("Convert a Hugging Face folder (safetensors) to GGUF (Whisper: to whisper.cpp's model "
                               "file); architectures: {}",
                               fmt::join(model::convertible_architectures(), ", ")));
    cmd->add_option("input", o->input, "Hugging Face folder: config.json, model.safetensors (or shards), tokenizer")
        ->required();
    cmd->add_option("--out", o->out, "GGUF (or whisper.cpp) file to write (written whole or not at all)")->required();
    cmd->add_option("--mmproj-out", o->mmproj_out,
                    "LLaVA, LLaVA-Next: also write the multimodal projector GGUF that libmtmd reads (--out gets the "
                    "text model)");
    cmd->add_option("--type", o->type, "Weight type of the matrices: f32, f16 (default), bf16 or q8_0");
    cmd->add_flag("--json", o->json, "Print the result as JSON");
    cmd->callback([o, &exit_code] { exit_code = run_convert(*o); });
}

}  // namespace accel::cli
