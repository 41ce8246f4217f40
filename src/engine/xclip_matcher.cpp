// match_video_texts: a video (file or folder of frames) and texts in, X-CLIP's similarity out (frames through
// media::read_video and the model's processor, tokens through its tokenizer, the graph in graphs/xclip.cpp,
// softmax here).
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/xclip_model.h"
#include "accel/media/video.h"

namespace accel::engine {

XclipMatches match_video_texts(const std::filesystem::path& model, const std::filesystem::path& video,
                               const std::vector<std::string>& texts, const VisionParams& params) {
    XclipModel xclip = XclipModel::load(model, params);  // another architecture is refused here
    if (texts.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: X-CLIP scores a video against texts: give at least one "
                                                          "--text TEXT",
                                                          model.string()));
    XclipMatches m{.video = video, .texts = texts};
    for (const auto& t : texts) {
        m.input_ids.push_back(xclip.tokenize(t));
        if (m.input_ids.back().size() > xclip.context_length())
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: the text '{}' is {} tokens, over the model's {}", model.string(), t,
                                    m.input_ids.back().size(), xclip.context_length()));
    }
    const media::Video v = media::read_video(video, xclip.n_frames());
    m.n_frames_total = v.n_frames_total;
    m.frame_indices = v.indices;
    std::vector<media::PixelValues> pixels;
    for (const auto& f : v.frames) pixels.push_back(media::preprocess(f, xclip.processor()));
    m.output = xclip.run(pixels, m.input_ids);
    const auto& row = m.output.logits_per_video;
    const float max = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (const float l : row) sum += std::exp(double(l) - max);
    for (const float l : row) m.probabilities.push_back(static_cast<float>(std::exp(double(l) - max) / sum));
    m.best_text = static_cast<uint32_t>(std::max_element(row.begin(), row.end()) - row.begin());
    return m;
}

}  // namespace accel::engine
