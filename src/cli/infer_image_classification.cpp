// accel infer on an image classifier (ViT): the top labels of each image, through engine::classify_images.
#include <filesystem>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/version.h"
#include "accel/engine/image_classifier.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {
namespace {

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

}  // namespace

int infer_image_classification(const InferOptions& o) {
    const std::vector<std::filesystem::path> images(o.images.begin(), o.images.end());
    const auto results = engine::classify_images(o.model, images, o.top, {.device = o.device, .n_threads = o.threads});
    if (o.json) {
        print_json_results(o, results);
    } else {
        print_text(results);
    }
    return exit_ok;
}

}  // namespace accel::cli
