// accel infer: what a model is for, on its inputs. Today: image classification (ViT, through
// engine::classify_images). Text models are refused with a pointer to generate and embed.
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/version.h"
#include "accel/engine/image_classifier.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct InferOptions {
    std::string model;
    std::vector<std::string> images;
    int32_t top = 5;
    bool json = false;
    std::string device;
    int32_t threads = 0;
};

void print_text(const std::vector<engine::ImageClassification>& results) {
    for (const auto& r : results) {
        fmt::print("{}\n", r.image.string());
        for (const auto& s : r.top) fmt::print("  {:.4f}  {}\n", s.probability, s.label);
    }
}

void print_json_results(const InferOptions& o, const std::vector<engine::ImageClassification>& results) {
    nlohmann::json images = nlohmann::json::array();
    for (const auto& r : results) {
        nlohmann::json top = nlohmann::json::array();
        for (const auto& s : r.top)
            top.push_back({{"id", s.id}, {"label", s.label}, {"probability", s.probability}, {"logit", s.logit}});
        images.push_back({{"image", r.image.string()}, {"top", top}});
    }
    print_json({{"schema_version", json_schema_version},
                {"model", o.model},
                {"task", "image_classification"},
                {"results", images}});
}

int run_infer(const InferOptions& o) {
    const std::vector<std::filesystem::path> images(o.images.begin(), o.images.end());
    const auto results = engine::classify_images(o.model, images, o.top, {.device = o.device, .n_threads = o.threads});
    if (o.json) {
        print_json_results(o, results);
    } else {
        print_text(results);
    }
    return exit_ok;
}

}  // namespace

void register_infer(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<InferOptions>();
    auto* cmd = app.add_subcommand(
        "infer", "Run a model on its inputs: an image classifier (ViT GGUF from `accel convert`) prints the top "
                 "labels of each image. Exit 2: unreadable or unsupported image, no --image, or a text model (those "
                 "run through generate and embed)");
    cmd->add_option("--model,-m", opts->model, "GGUF model (architecture vit)")->required();
    cmd->add_option("--image", opts->images, "PNG or JPEG image (repeatable)");
    cmd->add_option("--top", opts->top, "Labels to print per image, best first")->check(CLI::Range(1, 1000000));
    cmd->add_flag("--json", opts->json, R"(Print {"results": [{"image", "top": [{"id", "label", "probability", ...}]}]})");
    cmd->add_option("--device", opts->device, "ggml device (cpu, cuda0, vulkan0; default cpu)");
    cmd->add_option("--threads,-t", opts->threads, "CPU threads (0: all)");
    cmd->callback([opts, &exit_code] { exit_code = run_infer(*opts); });
}

}  // namespace accel::cli
