// ViTForImageClassification as a ggml graph: the shared ViT encoder (vit_encoder.h), then the classifier on the
// CLS token's final state (transformers' ViTForImageClassification: classifier(sequence_output[:, 0, :])).
#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/image_classifier.h"
#include "ggml_runtime.h"
#include "vit_encoder.h"

namespace accel::engine {

using graphs::GgufWeights;
using graphs::GraphRunner;

namespace {

void check_vit(const GgufWeights& w) {
    const std::string arch = w.architecture();
    if (arch == "vit") return;
    if (arch.empty()) throw Error(ErrorKind::invalid_input, fmt::format("{}: no general.architecture", w.file().string()));
    if (arch == "clip_model")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a CLIP model: accel runs CLIP as a library "
                                                          "(engine::ClipModel), not yet as an image classifier",
                                                          w.file().string()));
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: a '{}' model is not an image classifier (accel runs 'vit' here; text models run "
                            "through `accel generate` and `accel embed`)", w.file().string(), arch));
}

}  // namespace

struct ImageClassifier::Impl {
    GraphRunner runner;
    GgufWeights weights;
    graphs::VitHparams hp;
    graphs::VitEncoderWeights encoder;
    ggml_tensor *cls_w = nullptr, *cls_b = nullptr;
    std::vector<std::string> labels;
    media::ImageProcessorConfig processor;

    Impl(const std::filesystem::path& file, const VisionParams& params)
        : runner(params.device, params.n_threads), weights(file, runner.device(), check_vit) {}
};

namespace {

media::ImageProcessorConfig read_processor(const GgufWeights& w, uint32_t image_size) {
    media::ImageProcessorConfig c;
    if (const auto text = w.find_string("vit.preprocessor_config"))
        c = media::parse_image_processor_config(*text, w.file().string() + " (vit.preprocessor_config)");
    else
        c.height = c.width = image_size;
    const bool square = !c.shortest_edge && c.height == image_size && c.width == image_size;
    const bool cropped = c.do_center_crop && c.crop_height == image_size && c.crop_width == image_size;
    if (c.do_resize && !square && !cropped)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: the image processor does not give {}x{} images, the "
                                                          "model's size", w.file().string(), image_size, image_size));
    return c;
}

}  // namespace

ImageClassifier::ImageClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageClassifier::ImageClassifier(ImageClassifier&&) noexcept = default;
ImageClassifier& ImageClassifier::operator=(ImageClassifier&&) noexcept = default;
ImageClassifier::~ImageClassifier() = default;

ImageClassifier ImageClassifier::load(const std::filesystem::path& gguf, const VisionParams& params) {
    auto impl = std::make_unique<Impl>(gguf, params);
    const GgufWeights& w = impl->weights;
    impl->hp = graphs::read_vit_hparams(w, "vit");
    impl->hp.flash_attn = impl->runner.on_cpu();
    impl->encoder = graphs::read_vit_encoder(w, impl->hp);
    impl->labels = w.get_strings("vit.labels");
    const auto n_labels = static_cast<int64_t>(impl->labels.size());
    if (n_labels == 0) throw Error(ErrorKind::invalid_input, fmt::format("{}: vit.labels is empty", gguf.string()));
    impl->cls_w = w.tensor("cls.weight", {impl->hp.n_embd, n_labels});
    impl->cls_b = w.tensor("cls.bias", {n_labels});
    impl->processor = read_processor(w, impl->hp.image_size);
    return ImageClassifier(std::move(impl));
}

const media::ImageProcessorConfig& ImageClassifier::processor() const { return impl_->processor; }
const std::vector<std::string>& ImageClassifier::labels() const { return impl_->labels; }
uint32_t ImageClassifier::image_size() const { return impl_->hp.image_size; }
VisionMemory ImageClassifier::memory() const { return {impl_->weights.buffer_bytes(), impl_->runner.compute_buffer_bytes()}; }

VitOutput ImageClassifier::run(std::span<const media::PixelValues> images) {
    const graphs::VitHparams& hp = impl_->hp;
    graphs::PixelInput input(images, hp.image_size);
    VitOutput out{static_cast<uint32_t>(images.size()), static_cast<uint32_t>(impl_->labels.size()), hp.n_tokens(),
                  hp.n_embd, {}, {}};
    ggml_tensor *hidden = nullptr, *logits = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        hidden = graphs::build_vit_encoder(ctx, hp, impl_->encoder, input.create(ctx));
        ggml_set_output(hidden);
        logits = ggml_add(ctx, ggml_mul_mat(ctx, impl_->cls_w, graphs::cls_states(ctx, hidden)), impl_->cls_b);
        ggml_set_output(logits);
        ggml_build_forward_expand(graph, hidden);
        ggml_build_forward_expand(graph, logits);
    };
    auto read = [&] {
        out.logits.resize(ggml_nelements(logits));
        ggml_backend_tensor_get(logits, out.logits.data(), 0, ggml_nbytes(logits));
        out.last_hidden_state.resize(ggml_nelements(hidden));
        ggml_backend_tensor_get(hidden, out.last_hidden_state.data(), 0, ggml_nbytes(hidden));
    };
    impl_->runner.run(build, [&] { input.set(); }, read);
    return out;
}

}  // namespace accel::engine
