// accel infer: what a model is for, on its inputs. The model's architecture picks the task (infer.h); each task
// is one file. Text models run through `accel generate` and `accel embed`.
#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/model/gguf_file.h"
#include "accel/model/whisper_file.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {
namespace {

struct InferTask {
    std::string_view architecture;
    int (*run)(const InferOptions&);
    bool with_mmproj = false;  // the row for this architecture when --mmproj is given (a text model + its projector)
};

// One row per architecture accel infer runs; a new class adds its task file and its row.
constexpr std::array infer_tasks{
    InferTask{"vit", infer_image_classification},
    InferTask{"detr", infer_detection},
    InferTask{"wav2vec2", infer_ctc},
    InferTask{"llama", infer_llava, true},
    InferTask{"whisper", infer_whisper},
    InferTask{"clip_model", infer_clip},
    InferTask{"clap", infer_clap},
    InferTask{"xclip", infer_xclip},
};

bool is_whisper_file(const std::string& path) {
    uint32_t magic = 0;
    std::ifstream in(path, std::ios::binary);
    return in.read(reinterpret_cast<char*>(&magic), sizeof magic) && magic == model::whisper_file_magic;
}

std::string model_architecture(const std::string& path) {
    if (is_whisper_file(path)) return "whisper";
    return model::read_gguf(path).get_string("general.architecture").value_or("");
}

std::string known_architectures() {
    std::string names;
    for (const auto& t : infer_tasks)
        names += (names.empty() ? "" : ", ") + std::string(t.architecture) + (t.with_mmproj ? " with --mmproj" : "");
    return names;
}

int run_infer(InferOptions o) {
    o.architecture = model_architecture(o.model);
    const bool mmproj = !o.mmproj.empty();
    for (const auto& t : infer_tasks)
        if (t.architecture == o.architecture && t.with_mmproj == mmproj) return t.run(o);
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: accel infer does not run a '{}' model (it runs: {}); text models run through "
                            "`accel generate` and `accel embed`",
                            o.model, o.architecture, known_architectures()));
}

}  // namespace

void register_infer(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<InferOptions>();
    auto* cmd = app.add_subcommand(
        "infer", "Run a model on its inputs and print what it is for (docs/infer.md): an image classifier (vit) "
                 "prints the top labels of each image, CLIP (clip_model) the image-text similarity matrix of "
                 "--image and --text, X-CLIP (xclip) the video-text similarity of --video (a file or a folder of frames) "
                 "and --text, an object detector (detr) its boxes above --threshold; a text model with "
                 "--mmproj (LLaVA) streams its answer to --prompt about the --image files; a Whisper model streams "
                 "the transcript of --audio, a wav2vec2 model prints its CTC transcript, CLAP (clap) the similarity of --audio to each --text. Exit 2: "
                 "unreadable or unsupported input, a missing input, or "
                 "a model with no infer task (text models run through generate and embed)");
    cmd->add_option("--model,-m", opts->model, "Model file (GGUF, or a whisper.cpp file, from `accel convert`)")->required();
    cmd->add_option("--mmproj", opts->mmproj, "Multimodal projector GGUF (LLaVA)");
    cmd->add_option("--image", opts->images, "PNG or JPEG image (repeatable)");
    cmd->add_option("--text", opts->texts, "Candidate text to match (repeatable)");
    cmd->add_option("--audio", opts->audio, "Audio file: WAV, FLAC or Ogg (Whisper)");
    cmd->add_option("--video", opts->video, "Video file or folder of frames");
    cmd->add_option("--prompt,-p", opts->prompt, "Prompt (LLaVA)");
    cmd->add_option("-n,--n-predict", opts->n_predict, "Tokens to generate at most (LLaVA; default 64)")
        ->check(CLI::Range(1, 1000000));
    cmd->add_option("--language", opts->language, "Spoken language (Whisper; default: detect)");
    cmd->add_flag("--timestamps", opts->timestamps, "Print segment timestamps (Whisper)");
    cmd->add_option("--top", opts->top, "Labels to print per input, best first")->check(CLI::Range(1, 1000000));
    cmd->add_option("--threshold", opts->threshold, "Score threshold for detections")->check(CLI::Range(0.0, 1.0));
    cmd->add_flag("--json", opts->json, "Print one JSON document (docs/infer.md gives each task's fields)");
    cmd->add_option("--device", opts->device, "ggml device (cpu, cuda0, vulkan0; default cpu)");
    cmd->add_option("--threads,-t", opts->threads, "CPU threads (0: all)");
    cmd->callback([opts, &exit_code] { exit_code = run_infer(*opts); });
}

}  // namespace accel::cli
