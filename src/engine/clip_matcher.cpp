// match_images_texts: files and texts in, CLIP's similarity matrix out (decode and preprocess through media/,
// tokens through the model's tokenizer, both towers through graphs/clip.cpp, softmax here).
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/clip_model.h"
#include "accel/media/image.h"

namespace accel::engine {

ClipMatches match_images_texts(const std::filesystem::path& model, const std::vector<std::filesystem::path>& images,
                               const std::vector<std::string>& texts, const VisionParams& params) {
    ClipModel clip = ClipModel::load(model, params);  // another architecture is refused here
    if (images.empty() || texts.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: CLIP scores images against texts: give at least one "
                                                          "--image FILE and one --text TEXT", model.string()));
    ClipMatches m{.images = images, .texts = texts};
    for (const auto& t : texts) {
        m.input_ids.push_back(clip.tokenize(t));
        if (m.input_ids.back().size() > clip.context_length())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: the text '{}' is {} tokens, over the model's {}",
                                                              model.string(), t, m.input_ids.back().size(),
                                                              clip.context_length()));
    }
    std::vector<media::PixelValues> pixels;
    for (const auto& f : images) pixels.push_back(media::preprocess(media::decode_image(f), clip.processor()));
    m.output = clip.run(pixels, m.input_ids);
    const size_t n_texts = texts.size();
    for (size_t i = 0; i < images.size(); ++i) {
        const float* row = m.output.logits_per_image.data() + i * n_texts;
        const float max = *std::max_element(row, row + n_texts);
        double sum = 0;
        for (size_t t = 0; t < n_texts; ++t) sum += std::exp(double(row[t]) - max);
        for (size_t t = 0; t < n_texts; ++t)
            m.probabilities.push_back(static_cast<float>(std::exp(double(row[t]) - max) / sum));
        m.best_text.push_back(static_cast<uint32_t>(std::max_element(row, row + n_texts) - row));
    }
    return m;
}

}  // namespace accel::engine
