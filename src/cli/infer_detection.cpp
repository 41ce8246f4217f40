// accel infer on an object detector (DETR): the boxes, labels and scores above --threshold of each image, through
// engine::detect_objects.
#include <filesystem>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/version.h"
#include "accel/engine/object_detector.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {
namespace {

void print_text(const std::vector<engine::ImageDetections>& results) {
    for (const auto& r : results) {
        fmt::print("{} ({}x{}): {} detection{}\n", r.image.string(), r.width, r.height, r.detections.size(),
                   r.detections.size() == 1 ? "" : "s");
        for (const auto& d : r.detections)
            fmt::print("  {:.4f}  {:<20}  [{:.1f}, {:.1f}, {:.1f}, {:.1f}]\n", d.score, d.label, d.box[0], d.box[1],
                       d.box[2], d.box[3]);
    }
}

void print_json_results(const InferOptions& o, const std::vector<engine::ImageDetections>& results) {
    nlohmann::json images = nlohmann::json::array();
    for (const auto& r : results) {
        nlohmann::json dets = nlohmann::json::array();
        for (const auto& d : r.detections)
            dets.push_back({{"id", d.id}, {"label", d.label}, {"score", d.score},
                            {"box", {d.box[0], d.box[1], d.box[2], d.box[3]}}});
        images.push_back({{"image", r.image.string()}, {"width", r.width}, {"height", r.height}, {"detections", dets}});
    }
    print_json({{"schema_version", json_schema_version},
                {"model", o.model},
                {"task", "object_detection"},
                {"threshold", o.threshold},
                {"results", images}});
}

}  // namespace

int infer_detection(const InferOptions& o) {
    const std::vector<std::filesystem::path> images(o.images.begin(), o.images.end());
    const auto results = engine::detect_objects(o.model, images, static_cast<float>(o.threshold),
                                                {.device = o.device, .n_threads = o.threads});
    if (o.json) {
        print_json_results(o, results);
    } else {
        print_text(results);
    }
    return exit_ok;
}

}  // namespace accel::cli
