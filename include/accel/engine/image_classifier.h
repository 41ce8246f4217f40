#pragma once
// Image classification with accel's own ggml graphs (engine/graphs/vit.cpp): a GGUF of architecture "vit"
// (written by `accel convert` from a ViTForImageClassification checkpoint; keys in docs/convert.md), on any ggml
// backend through ggml_backend_sched.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "accel/media/image_processor.h"

namespace accel::engine {

struct VisionParams {
    std::string device;     // ggml device name ("cuda0"); "" or "cpu": the CPU
    int32_t n_threads = 0;  // CPU threads; 0: every core
};

// What a loaded image model holds on its device, measured (the estimate before load: model::estimate_vision_memory).
struct VisionMemory {
    uint64_t weights_bytes = 0;  // the weights' backend buffer
    uint64_t compute_bytes = 0;  // ggml's graph buffers as the last forward pass allocated them; 0 before the first
};

// What one forward pass over a batch gives.
struct VitOutput {
    uint32_t n_images = 0, n_labels = 0, n_tokens = 0, n_embd = 0;
    std::vector<float> logits;             // [image][label]
    std::vector<float> last_hidden_state;  // [image][token][n_embd], after the final layernorm; token 0 is CLS
};

class ImageClassifier {
public:
    // Loads the GGUF onto params.device. Throws Error{invalid_input} naming the file when it is not a readable
    // GGUF or not a "vit" model (the message says what a text model runs with), Error{invalid_input} for an
    // unknown device, Error{out_of_memory}/Error{backend} when the device cannot hold or run it.
    static ImageClassifier load(const std::filesystem::path& gguf, const VisionParams& params = {});
    ImageClassifier(ImageClassifier&&) noexcept;
    ImageClassifier& operator=(ImageClassifier&&) noexcept;
    ~ImageClassifier();

    // The image processor stored in the GGUF (vit.preprocessor_config), or ViTImageProcessor's defaults at the
    // model's image size.
    const media::ImageProcessorConfig& processor() const;
    const std::vector<std::string>& labels() const;  // id order
    uint32_t image_size() const;
    VisionMemory memory() const;

    // One forward pass over images preprocessed to image_size() x image_size(). Throws Error{invalid_input} when a
    // size differs, Error{backend} when the graph fails. Not thread-safe (one graph at a time).
    VitOutput run(std::span<const media::PixelValues> images);

private:
    struct Impl;
    explicit ImageClassifier(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct LabelScore {
    int32_t id = 0;
    std::string label;
    float probability = 0;  // softmax over all labels
    float logit = 0;
};

struct ImageClassification {
    std::filesystem::path image;
    std::vector<LabelScore> top;  // best first, at most top_n
};

// Loads the model, decodes each image (media::decode_image), preprocesses it with the model's processor, runs the
// model once over all of them and returns the top_n labels of each, in input order. Throws as
// ImageClassifier::load (a text model included), and Error{invalid_input} naming an image that cannot be read,
// naming the model when images is empty, or when top_n < 1.
std::vector<ImageClassification> classify_images(const std::filesystem::path& model,
                                                 const std::vector<std::filesystem::path>& images, int32_t top_n,
                                                 const VisionParams& params = {});

}  // namespace accel::engine
