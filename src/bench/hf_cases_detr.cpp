// DETR against transformers: accel's graph (engine/graphs/detr.cpp) on the padded batch and pixel mask that
// transformers' DetrImageProcessor gave (reference.safetensors), compared with its class logits and boxes. The
// processor and the post-processing are checked apart (tests/media/detr_processor_test), so a difference here is
// the model's. A second fixture (detr_timm: timm's backbone under timm's names) is converted and run the same way,
// each figure being the worse of the two.
#include <algorithm>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/object_detector.h"
#include "accel/model/hf_convert.h"
#include "accel/model/safetensors_file.h"
#include "hf_cases.h"

namespace accel::bench::detail {
namespace {

// The reference's batch: pixel_values [N, 3, H, W] (F32) and pixel_mask [N, H, W] (I64).
media::DetrBatch reference_batch(const std::filesystem::path& st) {
    const model::SafetensorsFile f = model::read_safetensors(st);
    const model::SafetensorsTensor* mask = nullptr;
    for (const auto& t : f.tensors)
        if (t.name == "pixel_mask") mask = &t;
    if (mask == nullptr || mask->dtype != "I64" || mask->shape.size() != 3)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no I64 pixel_mask [images, height, width]", st.string()));
    media::DetrBatch b;
    b.n_images = static_cast<uint32_t>(mask->shape[0]);
    b.height = static_cast<uint32_t>(mask->shape[1]);
    b.width = static_cast<uint32_t>(mask->shape[2]);
    const std::vector<uint8_t> raw = model::read_tensor_bytes(st, f.header_bytes, *mask);
    for (size_t i = 0; i + 8 <= raw.size(); i += 8) {
        bool on = false;
        for (size_t k = 0; k < 8; ++k) on = on || raw[i + k] != 0;
        b.pixel_mask.push_back(on ? 1 : 0);
    }
    b.pixel_values = read_f32_tensor(st, "pixel_values");
    if (b.pixel_values.size() != size_t{b.n_images} * 3 * b.height * b.width)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: pixel_values is not {} x 3 x {} x {}", st.string(),
                                                          b.n_images, b.height, b.width));
    return b;
}

}  // namespace

void run_object_detection(const HfCase& c, ConformResult& r) {
    const auto st = c.dir / "reference.safetensors";
    const media::DetrBatch batch = reference_batch(st);
    auto model = engine::ObjectDetector::load(c.model, {.device = c.device == "cpu" ? "" : c.device,
                                                        .n_threads = c.n_threads});
    r.loaded = true;
    auto out = model.run(batch);
    if (perturbed(c.cls)) {
        for (auto& v : out.logits) v = -v;
    }
    const auto logits = read_f32_tensor(st, "logits");
    const auto boxes = read_f32_tensor(st, "pred_boxes");
    if (out.logits.size() != logits.size() || out.boxes.size() != boxes.size())
        throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} logits and {} box values, the reference {} "
                                                          "and {}", out.logits.size(), out.boxes.size(), logits.size(),
                                                          boxes.size()));
    add_metric(r, c, model::HfMetric::logits_rel, max_abs_diff(out.logits.data(), logits.data(), logits.size()) / range_of(logits));
    add_metric(r, c, model::HfMetric::box_max_abs, max_abs_diff(out.boxes.data(), boxes.data(), boxes.size()));
}

void run_object_detection_also(const HfCase& c, ConformResult& r) {
    model::convert_hf(c.dir, c.model, {.type = c.type});
    ConformResult other;
    run_object_detection(c, other);
    for (const auto& m : other.metrics) {
        auto it = std::find_if(r.metrics.begin(), r.metrics.end(),
                               [&](const ConformMetric& x) { return x.name == m.name; });
        if (it == r.metrics.end()) {
            r.metrics.push_back(m);
        } else {
            it->value = m.higher_is_better ? std::min(it->value, m.value) : std::max(it->value, m.value);
        }
    }
}

}  // namespace accel::bench::detail
