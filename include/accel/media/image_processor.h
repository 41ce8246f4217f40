#pragma once
// Hugging Face image processors (ViTImageProcessor, CLIPImageProcessor, VideoMAEImageProcessor per frame: X-CLIP's):
// the settings of preprocessor_config.json
// and the preprocessing they describe, as transformers' PIL ("slow") processors run it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accel/media/image.h"
#include "accel/media/resample.h"

namespace accel::media {

struct ImageProcessorConfig {
    std::string type = "ViTImageProcessor";  // image_processor_type
    bool do_resize = true;
    uint32_t height = 224, width = 224;      // size {height, width}
    std::optional<uint32_t> shortest_edge;   // size {shortest_edge} (CLIP): resize keeps the aspect ratio
    Resample resample = Resample::bilinear;
    bool do_center_crop = false;
    uint32_t crop_height = 224, crop_width = 224;
    bool do_rescale = true;
    double rescale_factor = 1.0 / 255.0;
    bool do_normalize = true;
    std::array<float, 3> mean{0.5f, 0.5f, 0.5f}, std{0.5f, 0.5f, 0.5f};
};

// Reads preprocessor_config.json's text; `source` names it in messages. Absent keys keep the defaults above
// (ViTImageProcessor's). Throws Error{invalid_input} for malformed JSON, a processor type other than
// ViTImageProcessor, CLIPImageProcessor and VideoMAEImageProcessor, or a value of the wrong type or range.
ImageProcessorConfig parse_image_processor_config(const std::string& json_text, const std::string& source);

// Channels-first f32 pixels, what the processor's pixel_values hold for one image.
struct PixelValues {
    uint32_t channels = 3, height = 0, width = 0;
    std::vector<float> data;  // [channel][row][column]
};

// Resize (to size, or the shortest edge to shortest_edge), center crop, rescale (in double, stored as f32, as
// numpy), normalize ((x - mean) / std in f32), CHW. Throws Error{invalid_input} when a crop is larger than the
// resized image.
PixelValues preprocess(const Image& image, const ImageProcessorConfig& config);

}  // namespace accel::media
