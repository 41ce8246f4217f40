#pragma once
// DetrImageProcessor as transformers' PIL ("slow") processor runs it (image_processing_detr.py): resize keeping the
// aspect ratio (shortest edge, capped by the longest edge), rescale, normalize, pad the batch at the bottom and
// right to its largest image, and the pixel mask (1 on the image, 0 on the padding). Also post_process_object_
// detection: the class softmax, the best real class of each query, boxes from (cx, cy, w, h) to corners in the
// image's pixels, kept above a threshold.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "accel/media/image.h"
#include "accel/media/resample.h"

namespace accel::media {

struct DetrProcessorConfig {
    bool do_resize = true;
    uint32_t shortest_edge = 800;
    std::optional<uint32_t> longest_edge = 1333;     // none: the shortest edge alone decides
    std::optional<std::pair<uint32_t, uint32_t>> exact;  // size {height, width}: resized to it, aspect ratio lost
    Resample resample = Resample::bilinear;
    bool do_rescale = true;
    double rescale_factor = 1.0 / 255.0;
    bool do_normalize = true;
    std::array<float, 3> mean{0.485f, 0.456f, 0.406f}, std{0.229f, 0.224f, 0.225f};  // ImageNet's, DETR's defaults
    bool do_pad = true;
    std::optional<std::pair<uint32_t, uint32_t>> pad_size;  // {height, width}; none: the batch's largest
};

// Reads preprocessor_config.json's text (`source` names it in messages). Absent keys keep DetrImageProcessor's
// defaults above. Throws Error{invalid_input} for malformed JSON, another processor type, a size given as
// max_height/max_width, or a value of the wrong type or range.
DetrProcessorConfig parse_detr_processor_config(const std::string& json_text, const std::string& source);

// The size (width, height) an image of width x height is resized to: transformers' get_size_with_aspect_ratio
// (the short side becomes shortest_edge unless the long one would pass longest_edge, int() truncation).
std::pair<uint32_t, uint32_t> detr_resize_size(uint32_t width, uint32_t height, const DetrProcessorConfig& config);

// A batch as the processor returns it.
struct DetrBatch {
    uint32_t n_images = 0, height = 0, width = 0;  // the padded size
    std::vector<float> pixel_values;               // [image][channel][row][column]
    std::vector<uint8_t> pixel_mask;               // [image][row][column], 1 on the image
    std::vector<std::pair<uint32_t, uint32_t>> sizes;  // each image's (width, height) after resizing, before padding
};

// Throws Error{invalid_input} for no images, or for a pad_size smaller than a resized image.
DetrBatch preprocess_detr(std::span<const Image> images, const DetrProcessorConfig& config);

struct DetectedObject {
    int32_t label = 0;       // index into the labels (never the "no object" class)
    float score = 0;         // its softmax probability over all classes
    std::array<float, 4> box{};  // x_min, y_min, x_max, y_max in the target image's pixels
};

// post_process_object_detection for one image: logits [n_queries][n_classes] (the last class is "no object"),
// boxes [n_queries][4] (cx, cy, w, h relative to the image), target the original image's width and height. Keeps
// the queries whose score is above `threshold` (strictly), in query order.
std::vector<DetectedObject> post_process_object_detection(std::span<const float> logits, std::span<const float> boxes,
                                                          uint32_t n_classes, float threshold, uint32_t target_width,
                                                          uint32_t target_height);

}  // namespace accel::media
