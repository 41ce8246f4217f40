// ObjectDetector: a "detr" GGUF on a ggml backend (the graph: graphs/detr.cpp), and detect_objects: files in,
// boxes out (decode and preprocess through media/, post-processing through media/detr_processor.h).
#include "accel/engine/object_detector.h"

#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/media/image.h"
#include "graphs/detr_graph.h"
#include "graphs/ggml_runtime.h"

namespace accel::engine {

using graphs::GgufWeights;
using graphs::GraphRunner;

namespace {

void check_detr(const GgufWeights& w) {
    const std::string arch = w.architecture();
    if (arch == "detr") return;
    if (arch.empty()) throw Error(ErrorKind::invalid_input, fmt::format("{}: no general.architecture", w.file().string()));
    throw Error(ErrorKind::invalid_input, fmt::format("{}: a '{}' model is not an object detector (accel runs 'detr' "
                                                      "here)", w.file().string(), arch));
}

// The host-side inputs of one batch: the sine position embedding and the two attention masks.
struct HostInputs {
    uint32_t fh = 0, fw = 0;
    std::vector<float> pos, enc_mask, cross_mask;
};

HostInputs host_inputs(const media::DetrBatch& b, const graphs::DetrHparams& hp) {
    HostInputs h;
    h.fh = graphs::detr_feature_size(b.height, hp);
    h.fw = graphs::detr_feature_size(b.width, hp);
    const size_t t = size_t{h.fh} * h.fw, plane = size_t{b.height} * b.width;
    h.pos.resize(t * hp.n_embd * b.n_images);
    h.enc_mask.resize(t * t * b.n_images);
    h.cross_mask.resize(t * hp.n_queries * b.n_images);
    for (uint32_t i = 0; i < b.n_images; ++i) {
        const auto m = graphs::detr_feature_mask(b.pixel_mask.data() + i * plane, b.height, b.width, h.fh, h.fw);
        bool any = false;
        for (const auto v : m) any = any || v != 0;
        if (!any)
            throw Error(ErrorKind::invalid_input, fmt::format("image {} of the batch has no pixel at DETR's feature "
                                                              "resolution ({}x{})", i, h.fw, h.fh));
        graphs::detr_sine_position(m, h.fh, h.fw, hp.n_embd, h.pos.data() + i * t * hp.n_embd);
        float* enc = h.enc_mask.data() + i * t * t;
        float* cross = h.cross_mask.data() + i * t * hp.n_queries;
        for (size_t k = 0; k < t; ++k) {
            const float v = m[k] != 0 ? 0.0f : -std::numeric_limits<float>::infinity();
            for (size_t q = 0; q < t; ++q) enc[q * t + k] = v;
            for (size_t q = 0; q < hp.n_queries; ++q) cross[q * t + k] = v;
        }
    }
    return h;
}

ggml_tensor* input(ggml_context* ctx, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    ggml_tensor* t = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, ne0, ne1, ne2, ne3);
    ggml_set_input(t);
    return t;
}

}  // namespace

struct ObjectDetector::Impl {
    GraphRunner runner;
    GgufWeights weights;
    graphs::DetrHparams hp;
    graphs::DetrWeights w;
    std::vector<std::string> labels;
    media::DetrProcessorConfig processor;

    Impl(const std::filesystem::path& file, const VisionParams& params)
        : runner(params.device, params.n_threads), weights(file, runner.device(), check_detr) {}
};

ObjectDetector::ObjectDetector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ObjectDetector::ObjectDetector(ObjectDetector&&) noexcept = default;
ObjectDetector& ObjectDetector::operator=(ObjectDetector&&) noexcept = default;
ObjectDetector::~ObjectDetector() = default;

ObjectDetector ObjectDetector::load(const std::filesystem::path& gguf, const VisionParams& params) {
    auto impl = std::make_unique<Impl>(gguf, params);
    const GgufWeights& w = impl->weights;
    impl->hp = graphs::read_detr_hparams(w);
    impl->labels = w.get_strings("detr.labels");
    if (impl->labels.empty()) throw Error(ErrorKind::invalid_input, fmt::format("{}: detr.labels is empty", gguf.string()));
    impl->hp.n_labels = static_cast<uint32_t>(impl->labels.size());
    impl->w = graphs::read_detr_weights(w, impl->hp);
    if (const auto text = w.find_string("detr.preprocessor_config"))
        impl->processor = media::parse_detr_processor_config(*text, gguf.string() + " (detr.preprocessor_config)");
    return ObjectDetector(std::move(impl));
}

const media::DetrProcessorConfig& ObjectDetector::processor() const { return impl_->processor; }
const std::vector<std::string>& ObjectDetector::labels() const { return impl_->labels; }

DetrOutput ObjectDetector::run(const media::DetrBatch& batch) {
    const graphs::DetrHparams& hp = impl_->hp;
    if (batch.n_images == 0 || batch.pixel_values.size() != size_t{batch.n_images} * 3 * batch.height * batch.width ||
        batch.pixel_mask.size() != size_t{batch.n_images} * batch.height * batch.width)
        throw Error(ErrorKind::invalid_input, "DETR: an empty or inconsistent batch");
    const HostInputs h = host_inputs(batch, hp);
    const int64_t t = int64_t{h.fh} * h.fw, n = batch.n_images;
    graphs::DetrGraphInputs in{};
    graphs::DetrGraphOutputs out{};
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        in.pixels = input(ctx, batch.width, batch.height, 3, n);
        in.pos = input(ctx, hp.n_embd, t, n, 1);
        in.enc_mask = input(ctx, t, t, 1, n);
        in.cross_mask = input(ctx, t, hp.n_queries, 1, n);
        out = graphs::build_detr(ctx, hp, impl_->w, in);
        ggml_set_output(out.logits);
        ggml_set_output(out.boxes);
        ggml_build_forward_expand(graph, out.logits);
        ggml_build_forward_expand(graph, out.boxes);
    };
    auto set = [&] {
        ggml_backend_tensor_set(in.pixels, batch.pixel_values.data(), 0, ggml_nbytes(in.pixels));
        ggml_backend_tensor_set(in.pos, h.pos.data(), 0, ggml_nbytes(in.pos));
        ggml_backend_tensor_set(in.enc_mask, h.enc_mask.data(), 0, ggml_nbytes(in.enc_mask));
        ggml_backend_tensor_set(in.cross_mask, h.cross_mask.data(), 0, ggml_nbytes(in.cross_mask));
    };
    DetrOutput r{batch.n_images, hp.n_queries, hp.n_labels + 1, {}, {}};
    auto read = [&] {
        r.logits.resize(ggml_nelements(out.logits));
        ggml_backend_tensor_get(out.logits, r.logits.data(), 0, ggml_nbytes(out.logits));
        r.boxes.resize(ggml_nelements(out.boxes));
        ggml_backend_tensor_get(out.boxes, r.boxes.data(), 0, ggml_nbytes(out.boxes));
    };
    impl_->runner.run(build, set, read);
    return r;
}

std::vector<ImageDetections> detect_objects(const std::filesystem::path& model,
                                            const std::vector<std::filesystem::path>& images, float threshold,
                                            const VisionParams& params) {
    if (!(threshold >= 0.0f && threshold <= 1.0f))
        throw Error(ErrorKind::invalid_input, fmt::format("--threshold {} is not between 0 and 1", threshold));
    ObjectDetector detector = ObjectDetector::load(model, params);
    if (images.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: an object detector needs an image (--image FILE)",
                                                          model.string()));
    std::vector<ImageDetections> result;
    for (const auto& f : images) {
        const media::Image im = media::decode_image(f);
        const media::DetrBatch batch = media::preprocess_detr(std::span(&im, 1), detector.processor());
        const DetrOutput out = detector.run(batch);
        ImageDetections d{f, im.width, im.height, {}};
        for (const auto& o : media::post_process_object_detection(out.logits, out.boxes, out.n_classes, threshold,
                                                                  im.width, im.height))
            d.detections.push_back({o.label, detector.labels()[static_cast<size_t>(o.label)], o.score, o.box});
        result.push_back(std::move(d));
    }
    return result;
}

}  // namespace accel::engine
