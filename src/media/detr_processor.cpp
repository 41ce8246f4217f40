// DetrImageProcessor (image_processing_detr.py, PIL path) and its post_process_object_detection. The settings it
// shares with ViTImageProcessor (resample, rescale, normalize) are read and applied by image_processor.cpp; this
// file adds the aspect-preserving resize, the padding with its pixel mask, and the post-processing.
#include "accel/media/detr_processor.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/media/image_processor.h"

namespace accel::media {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& source, const std::string& why) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", source, why));
}

uint32_t size_value(const json& v, const std::string& what, const std::string& source) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 65536)
        bad(source, fmt::format("'{}' is not a size from 1 to 65536", what));
    return v.get<uint32_t>();
}

std::optional<std::pair<uint32_t, uint32_t>> height_width(const json& j, const char* key, const std::string& source) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    const json& s = j[key];
    if (!s.is_object() || !s.contains("height") || !s.contains("width"))
        bad(source, fmt::format("'{}' is not {{height, width}}", key));
    return std::pair{size_value(s["height"], fmt::format("{}.height", key), source),
                     size_value(s["width"], fmt::format("{}.width", key), source)};
}

// size: {shortest_edge, longest_edge}, {height, width}, or (older files) an integer with max_size beside it.
void read_size(const json& j, DetrProcessorConfig& c, const std::string& source) {
    const std::optional<uint32_t> max_size =
        j.contains("max_size") && !j["max_size"].is_null() ? std::optional{size_value(j["max_size"], "max_size", source)}
                                                           : std::nullopt;
    if (!j.contains("size") || j["size"].is_null()) {
        if (max_size) c.longest_edge = max_size;
        return;
    }
    const json& s = j["size"];
    if (s.is_number()) {
        c.shortest_edge = size_value(s, "size", source);
        c.longest_edge = max_size;
    } else if (s.is_object() && s.contains("shortest_edge")) {
        c.shortest_edge = size_value(s["shortest_edge"], "size.shortest_edge", source);
        c.longest_edge = s.contains("longest_edge") && !s["longest_edge"].is_null()
                             ? std::optional{size_value(s["longest_edge"], "size.longest_edge", source)}
                             : max_size;
    } else if (s.is_object() && s.contains("height")) {
        c.exact = height_width(j, "size", source);
    } else {
        bad(source, "'size' is neither {shortest_edge, longest_edge} nor {height, width} (accel does not read "
                    "max_height/max_width)");
    }
    if (!c.exact && !c.longest_edge)
        bad(source, "'size' has a shortest_edge but no longest_edge, which DetrImageProcessor refuses");
}

DetrProcessorConfig read_config(const json& j, const std::string& source) {
    if (!j.is_object()) bad(source, "not a JSON object");
    std::string type = j.value("image_processor_type", "DetrImageProcessor");
    if (type.ends_with("Fast")) type.resize(type.size() - 4);
    if (type != "DetrImageProcessor")
        bad(source, fmt::format("image processor '{}' is not DetrImageProcessor", type));
    DetrProcessorConfig c;
    // The keys ViTImageProcessor shares, read by its parser with DETR's defaults filled in.
    json shared = json::object();
    for (const char* k : {"do_resize", "resample", "do_rescale", "rescale_factor", "do_normalize", "image_mean",
                          "image_std"})
        if (j.contains(k) && !j[k].is_null()) shared[k] = j[k];
    shared["image_processor_type"] = "ViTImageProcessor";
    if (!shared.contains("image_mean")) shared["image_mean"] = c.mean;
    if (!shared.contains("image_std")) shared["image_std"] = c.std;
    const ImageProcessorConfig v = parse_image_processor_config(shared.dump(), source);
    c.do_resize = v.do_resize;
    c.resample = v.resample;
    c.do_rescale = v.do_rescale;
    c.rescale_factor = v.rescale_factor;
    c.do_normalize = v.do_normalize;
    c.mean = v.mean;
    c.std = v.std;
    read_size(j, c, source);
    if (j.contains("do_pad") && !j["do_pad"].is_null()) {
        if (!j["do_pad"].is_boolean()) bad(source, "'do_pad' is not true or false");
        c.do_pad = j["do_pad"].get<bool>();
    }
    c.pad_size = height_width(j, "pad_size", source);
    return c;
}

}  // namespace

DetrProcessorConfig parse_detr_processor_config(const std::string& json_text, const std::string& source) {
    try {
        return read_config(json::parse(json_text), source);
    } catch (const json::exception& e) {
        bad(source, fmt::format("malformed JSON: {}", e.what()));
    }
}

std::pair<uint32_t, uint32_t> detr_resize_size(uint32_t width, uint32_t height, const DetrProcessorConfig& config) {
    if (config.exact) return {config.exact->second, config.exact->first};
    double size = config.shortest_edge;
    std::optional<double> raw;
    const double lo = std::min(width, height), hi = std::max(width, height);
    if (config.longest_edge && hi / lo * size > *config.longest_edge) {
        raw = *config.longest_edge * lo / hi;
        size = std::nearbyint(*raw);  // Python's round(): half to even
    }
    const double s = raw.value_or(size);
    if ((height <= width && height == size) || (width <= height && width == size)) return {width, height};
    if (width < height) return {static_cast<uint32_t>(size), static_cast<uint32_t>(s * height / width)};
    return {static_cast<uint32_t>(s * width / height), static_cast<uint32_t>(size)};
}

DetrBatch preprocess_detr(std::span<const Image> images, const DetrProcessorConfig& config) {
    if (images.empty()) throw Error(ErrorKind::invalid_input, "no images to preprocess");
    ImageProcessorConfig shared{.do_resize = false, .do_center_crop = false, .do_rescale = config.do_rescale,
                                .rescale_factor = config.rescale_factor, .do_normalize = config.do_normalize,
                                .mean = config.mean, .std = config.std};
    std::vector<PixelValues> pixels;
    DetrBatch b;
    for (const auto& im : images) {
        const auto [w, h] = detr_resize_size(im.width, im.height, config);
        pixels.push_back(preprocess(config.do_resize ? resize(im, w, h, config.resample) : im, shared));
        b.sizes.emplace_back(pixels.back().width, pixels.back().height);
        b.height = std::max(b.height, pixels.back().height);
        b.width = std::max(b.width, pixels.back().width);
    }
    if (config.pad_size) {
        if (config.pad_size->first < b.height || config.pad_size->second < b.width)
            throw Error(ErrorKind::invalid_input, fmt::format("pad_size {}x{} is smaller than a resized image ({}x{})",
                                                              config.pad_size->second, config.pad_size->first,
                                                              b.width, b.height));
        b.height = config.pad_size->first;
        b.width = config.pad_size->second;
    } else if (!config.do_pad && images.size() > 1) {
        for (const auto& p : pixels)
            if (p.width != b.width || p.height != b.height)
                throw Error(ErrorKind::invalid_input, "do_pad is false and the images differ in size");
    }
    b.n_images = static_cast<uint32_t>(images.size());
    const size_t plane = size_t{b.height} * b.width;
    b.pixel_values.assign(plane * 3 * b.n_images, 0.0f);
    b.pixel_mask.assign(plane * b.n_images, 0);
    for (size_t i = 0; i < pixels.size(); ++i) {
        const PixelValues& p = pixels[i];
        for (uint32_t y = 0; y < p.height; ++y) {
            for (uint32_t c = 0; c < 3; ++c)
                std::copy_n(p.data.begin() + static_cast<ptrdiff_t>((size_t{c} * p.height + y) * p.width), p.width,
                            b.pixel_values.begin() + static_cast<ptrdiff_t>((i * 3 + c) * plane + size_t{y} * b.width));
            std::fill_n(b.pixel_mask.begin() + static_cast<ptrdiff_t>(i * plane + size_t{y} * b.width), p.width, 1);
        }
    }
    return b;
}

std::vector<DetectedObject> post_process_object_detection(std::span<const float> logits, std::span<const float> boxes,
                                                          uint32_t n_classes, float threshold, uint32_t target_width,
                                                          uint32_t target_height) {
    if (n_classes < 2 || logits.size() % n_classes != 0 || boxes.size() != logits.size() / n_classes * 4)
        throw Error(ErrorKind::invalid_input, fmt::format("post-processing: {} logits and {} box values do not make "
                                                          "queries of {} classes", logits.size(), boxes.size(),
                                                          n_classes));
    const float w = static_cast<float>(target_width), h = static_cast<float>(target_height);
    std::vector<DetectedObject> out;
    for (size_t q = 0; q < logits.size() / n_classes; ++q) {
        const float* l = logits.data() + q * n_classes;
        const float max = *std::max_element(l, l + n_classes);
        float sum = 0;
        for (uint32_t k = 0; k < n_classes; ++k) sum += std::exp(l[k] - max);
        const auto best = static_cast<uint32_t>(std::max_element(l, l + n_classes - 1) - l);  // first of equals
        const float score = std::exp(l[best] - max) / sum;
        if (!(score > threshold)) continue;
        const float* b = boxes.data() + q * 4;
        out.push_back({static_cast<int32_t>(best), score,
                       {(b[0] - 0.5f * b[2]) * w, (b[1] - 0.5f * b[3]) * h, (b[0] + 0.5f * b[2]) * w,
                        (b[1] + 0.5f * b[3]) * h}});
    }
    return out;
}

}  // namespace accel::media
