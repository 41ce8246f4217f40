#pragma once
// Object detection with accel's own ggml graph (engine/graphs/detr.cpp): a GGUF of architecture "detr" (written by
// `accel convert` from a DetrForObjectDetection checkpoint with transformers' ResNet backbone; keys in
// docs/convert.md), on any ggml backend through ggml_backend_sched. docs/detr.md describes the graph.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "accel/engine/image_classifier.h"  // VisionParams
#include "accel/media/detr_processor.h"

namespace accel::engine {

// What one forward pass over a batch gives (DetrObjectDetectionOutput's logits and pred_boxes).
struct DetrOutput {
    uint32_t n_images = 0, n_queries = 0, n_classes = 0;  // n_classes: the labels + "no object" (the last)
    std::vector<float> logits;                            // [image][query][class]
    std::vector<float> boxes;                             // [image][query][cx, cy, w, h], relative, after sigmoid
};

class ObjectDetector {
public:
    // Loads the GGUF onto params.device. Throws Error{invalid_input} naming the file when it is not a readable
    // GGUF or not a "detr" model, Error{invalid_input} for an unknown device, Error{out_of_memory}/Error{backend}
    // when the device cannot hold or run it.
    static ObjectDetector load(const std::filesystem::path& gguf, const VisionParams& params = {});
    ObjectDetector(ObjectDetector&&) noexcept;
    ObjectDetector& operator=(ObjectDetector&&) noexcept;
    ~ObjectDetector();

    // The image processor stored in the GGUF (detr.preprocessor_config), or DetrImageProcessor's defaults.
    const media::DetrProcessorConfig& processor() const;
    const std::vector<std::string>& labels() const;  // id order, without "no object"

    // One forward pass over a preprocessed (padded) batch. Throws Error{invalid_input} for an empty batch or an
    // image whose mask has no pixel, Error{backend} when the graph fails. Not thread-safe (one graph at a time).
    DetrOutput run(const media::DetrBatch& batch);

private:
    struct Impl;
    explicit ObjectDetector(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct Detection {
    int32_t id = 0;
    std::string label;
    float score = 0;
    std::array<float, 4> box{};  // x_min, y_min, x_max, y_max in the image's pixels
};

struct ImageDetections {
    std::filesystem::path image;
    uint32_t width = 0, height = 0;
    std::vector<Detection> detections;  // query order, score above the threshold
};

// Loads the model, then for each image (one forward pass each, so that no image is padded to another's size):
// decodes it, preprocesses it with the model's processor, runs the model and post-processes as transformers'
// post_process_object_detection with the image's own size. Throws as ObjectDetector::load, and
// Error{invalid_input} naming an image that cannot be read, naming the model when images is empty, or for a
// threshold outside [0, 1].
std::vector<ImageDetections> detect_objects(const std::filesystem::path& model,
                                            const std::vector<std::filesystem::path>& images, float threshold,
                                            const VisionParams& params = {});

}  // namespace accel::engine
