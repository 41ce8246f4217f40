// classify_images: files in, top labels out (decode and preprocess through media/, the forward pass through
// graphs/vit.cpp, softmax here).
#include "accel/engine/image_classifier.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/media/image.h"

namespace accel::engine {
namespace {

std::vector<LabelScore> top_labels(const float* logits, const std::vector<std::string>& labels, int32_t top_n) {
    const size_t n = labels.size();
    const float max = *std::max_element(logits, logits + n);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - max);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    const size_t k = std::min(n, static_cast<size_t>(top_n));
    std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(),
                      [&](size_t a, size_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    std::vector<LabelScore> top;
    for (size_t i = 0; i < k; ++i) {
        const size_t id = order[i];
        top.push_back({static_cast<int32_t>(id), labels[id],
                       static_cast<float>(std::exp(double(logits[id]) - max) / sum), logits[id]});
    }
    return top;
}

}  // namespace

std::vector<ImageClassification> classify_images(const std::filesystem::path& model,
                                                 const std::vector<std::filesystem::path>& images, int32_t top_n,
                                                 const VisionParams& params) {
    if (top_n < 1) throw Error(ErrorKind::invalid_input, "--top must be at least 1");
    ImageClassifier classifier = ImageClassifier::load(model, params);  // a text model is refused here
    if (images.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: an image classifier needs an image (--image FILE)",
                                                          model.string()));
    std::vector<media::Image> decoded;
    for (const auto& f : images) decoded.push_back(media::decode_image(f));
    std::vector<media::PixelValues> pixels;
    for (const auto& im : decoded) pixels.push_back(media::preprocess(im, classifier.processor()));
    const VitOutput out = classifier.run(pixels);
    std::vector<ImageClassification> result;
    for (size_t i = 0; i < images.size(); ++i)
        result.push_back({images[i], top_labels(out.logits.data() + i * out.n_labels, classifier.labels(), top_n)});
    return result;
}

}  // namespace accel::engine
