// ViTImageProcessor and CLIPImageProcessor as transformers' PIL processors run them (image_processing_vit.py,
// image_processing_clip.py, image_transforms.py): resize on the 8-bit image through PIL, center crop, then
// rescale in numpy's float64 stored as float32, and normalize in float32.
#include "accel/media/image_processor.h"

#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"

namespace accel::media {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& source, const std::string& why) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", source, why));
}

bool get_bool(const json& j, const char* key, bool fallback, const std::string& source) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_boolean()) bad(source, fmt::format("'{}' is not true or false", key));
    return j[key].get<bool>();
}

uint32_t get_size(const json& j, const char* key, const std::string& source) {
    if (!j[key].is_number_unsigned() || j[key].get<uint64_t>() == 0 || j[key].get<uint64_t>() > 65536)
        bad(source, fmt::format("'{}' is not a size from 1 to 65536", key));
    return static_cast<uint32_t>(j[key].get<uint64_t>());
}

std::array<float, 3> get_triple(const json& j, const char* key, std::array<float, 3> fallback,
                                const std::string& source) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    const json& v = j[key];
    if (v.is_number()) return {v.get<float>(), v.get<float>(), v.get<float>()};
    if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() || !v[2].is_number())
        bad(source, fmt::format("'{}' is not a number or a list of three", key));
    return {v[0].get<float>(), v[1].get<float>(), v[2].get<float>()};
}

// size: {height, width} or {shortest_edge}; an integer means a square (ViT) or the shortest edge (CLIP), as
// transformers' get_size_dict decides from the processor's default_to_square.
void read_size(const json& j, ImageProcessorConfig& c, const std::string& source) {
    if (!j.contains("size") || j["size"].is_null()) return;
    const json& s = j["size"];
    const bool square = c.type == "ViTImageProcessor";
    if (s.is_number()) {
        const json wrap = {{"v", s}};
        const uint32_t v = get_size(wrap, "v", source);
        if (square) c.height = c.width = v;
        else c.shortest_edge = v;
    } else if (s.is_object() && s.contains("height") && s.contains("width")) {
        c.height = get_size(s, "height", source);
        c.width = get_size(s, "width", source);
    } else if (s.is_object() && s.contains("shortest_edge")) {
        c.shortest_edge = get_size(s, "shortest_edge", source);
    } else {
        bad(source, "'size' is neither {height, width} nor {shortest_edge}");
    }
}

void read_crop(const json& j, ImageProcessorConfig& c, const std::string& source) {
    if (!j.contains("crop_size") || j["crop_size"].is_null()) return;
    const json& s = j["crop_size"];
    if (s.is_number()) {
        const json wrap = {{"v", s}};
        c.crop_height = c.crop_width = get_size(wrap, "v", source);
    } else if (s.is_object() && s.contains("height") && s.contains("width")) {
        c.crop_height = get_size(s, "height", source);
        c.crop_width = get_size(s, "width", source);
    } else {
        bad(source, "'crop_size' is not {height, width}");
    }
}

ImageProcessorConfig read_config(const json& j, const std::string& source) {
    if (!j.is_object()) bad(source, "not a JSON object");
    ImageProcessorConfig c;
    if (j.contains("image_processor_type") && j["image_processor_type"].is_string()) {
        c.type = j["image_processor_type"].get<std::string>();
    } else if (j.contains("feature_extractor_type") && j["feature_extractor_type"].is_string()) {
        // older checkpoints (openai/clip-vit-base-patch32, google/vit-base-patch16-224): the same settings
        c.type = j["feature_extractor_type"].get<std::string>();
        if (c.type.ends_with("FeatureExtractor")) c.type = c.type.substr(0, c.type.size() - 16) + "ImageProcessor";
    }
    if (c.type.ends_with("Fast")) c.type.resize(c.type.size() - 4);  // the same settings, run by torchvision
    if (c.type != "ViTImageProcessor" && c.type != "CLIPImageProcessor" && c.type != "VideoMAEImageProcessor")
        bad(source, fmt::format("image processor '{}' is not one accel runs (ViTImageProcessor, CLIPImageProcessor, "
                                "VideoMAEImageProcessor)", c.type));
    if (c.type == "CLIPImageProcessor") {  // CLIPImageProcessor's defaults
        c.shortest_edge = 224;
        c.resample = Resample::bicubic;
        c.do_center_crop = true;
        c.mean = {0.48145466f, 0.4578275f, 0.40821073f};
        c.std = {0.26862954f, 0.26130258f, 0.27577711f};
    }
    if (c.type == "VideoMAEImageProcessor") {  // X-CLIP's, per frame: its defaults (mean and std stay 0.5)
        c.shortest_edge = 224;
        c.do_center_crop = true;
    }
    c.do_resize = get_bool(j, "do_resize", c.do_resize, source);
    read_size(j, c, source);
    if (j.contains("resample") && !j["resample"].is_null()) {
        if (!j["resample"].is_number_integer()) bad(source, "'resample' is not one of PIL's filter numbers");
        c.resample = resample_from_pil(j["resample"].get<int>());
    }
    c.do_center_crop = get_bool(j, "do_center_crop", c.do_center_crop, source);
    read_crop(j, c, source);
    c.do_rescale = get_bool(j, "do_rescale", c.do_rescale, source);
    if (j.contains("rescale_factor") && !j["rescale_factor"].is_null()) {
        if (!j["rescale_factor"].is_number()) bad(source, "'rescale_factor' is not a number");
        c.rescale_factor = j["rescale_factor"].get<double>();
    }
    c.do_normalize = get_bool(j, "do_normalize", c.do_normalize, source);
    c.mean = get_triple(j, "image_mean", c.mean, source);
    c.std = get_triple(j, "image_std", c.std, source);
    for (const float s : c.std)
        if (!(s > 0.0f)) bad(source, "'image_std' has a value that is not positive");
    return c;
}

// transformers' get_resize_output_image_size(default_to_square=False): the short side becomes `edge`, the long one
// int(edge * long / short).
std::pair<uint32_t, uint32_t> shortest_edge_size(const Image& im, uint32_t edge) {
    const bool wide = im.width > im.height;
    const uint32_t s = wide ? im.height : im.width, l = wide ? im.width : im.height;
    const auto long_side = static_cast<uint32_t>(static_cast<double>(edge) * l / s);
    return wide ? std::pair{long_side, edge} : std::pair{edge, long_side};
}

}  // namespace

ImageProcessorConfig parse_image_processor_config(const std::string& json_text, const std::string& source) {
    try {
        return read_config(json::parse(json_text), source);
    } catch (const json::exception& e) {
        bad(source, fmt::format("malformed JSON: {}", e.what()));
    }
}

PixelValues preprocess(const Image& image, const ImageProcessorConfig& config) {
    Image im = image;
    if (config.do_resize) {
        const auto [w, h] = config.shortest_edge ? shortest_edge_size(image, *config.shortest_edge)
                                                 : std::pair{config.width, config.height};
        im = resize(image, w, h, config.resample);
    }
    if (config.do_center_crop) im = center_crop(im, config.crop_width, config.crop_height);
    PixelValues pv{3, im.height, im.width, std::vector<float>(size_t{3} * im.height * im.width)};
    const size_t plane = size_t{im.height} * im.width;
    for (size_t i = 0; i < plane; ++i) {
        for (size_t c = 0; c < 3; ++c) {
            float x = im.rgb[i * 3 + c];
            if (config.do_rescale) x = static_cast<float>(static_cast<double>(im.rgb[i * 3 + c]) * config.rescale_factor);
            if (config.do_normalize) x = (x - config.mean[c]) / config.std[c];
            pv.data[c * plane + i] = x;
        }
    }
    return pv;
}

}  // namespace accel::media
