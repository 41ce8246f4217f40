// match_audio_texts: an audio file and texts in, CLAP's similarities out (decoding, resampling and log-mel through
// media/, tokens through the model's tokenizer, both towers through graphs/clap.cpp, softmax here).
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/clap_model.h"
#include "accel/media/audio.h"
#include "accel/media/clap_features.h"

namespace accel::engine {

ClapMatches match_audio_texts(const std::filesystem::path& model, const std::filesystem::path& audio,
                              const std::vector<std::string>& texts, const VisionParams& params) {
    ClapModel clap = ClapModel::load(model, params);  // another architecture is refused here
    if (texts.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: CLAP scores a clip against texts: give at least one "
                                                          "--text TEXT", model.string()));
    const std::string pre = clap.preprocessor_config();
    const media::ClapFeatureConfig config =
        pre.empty() ? media::ClapFeatureConfig{} : media::parse_clap_feature_config(pre, model.string() + " (clap.preprocessor_config)");
    if (config.feature_size != clap.n_mels())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: the feature extractor gives {} mel bins, the model takes "
                                                          "{}", model.string(), config.feature_size, clap.n_mels()));
    ClapMatches m{.audio = audio, .texts = texts};
    for (const auto& t : texts) {
        m.input_ids.push_back(clap.tokenize(t));
        if (m.input_ids.back().size() > clap.context_length())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: the text '{}' is {} tokens, over the model's {}",
                                                              model.string(), t, m.input_ids.back().size(),
                                                              clap.context_length()));
    }
    const media::Audio clip = media::load_audio(audio, static_cast<int32_t>(config.sampling_rate));
    if (clip.samples.empty()) throw Error(ErrorKind::invalid_input, fmt::format("{}: no audio samples", audio.string()));
    m.audio_seconds = clip.seconds();
    const media::ClapMel mel = media::clap_log_mel(clip.samples, config, std::max(params.n_threads, 1));
    m.truncated = mel.truncated;
    if (mel.n_frames > clap.max_frames())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: the feature extractor gives {} frames, the model takes "
                                                          "at most {}", model.string(), mel.n_frames, clap.max_frames()));
    const std::vector<ClapFeatures> features = {{mel.n_frames, mel.n_mels, mel.data}};
    m.output = clap.run(features, m.input_ids);
    const auto& logits = m.output.logits_per_audio;
    const float max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (const float l : logits) sum += std::exp(double(l) - max);
    for (size_t t = 0; t < texts.size(); ++t) {
        m.probabilities.push_back(static_cast<float>(std::exp(double(logits[t]) - max) / sum));
        double dot = 0;
        for (size_t d = 0; d < m.output.dim; ++d)
            dot += double(m.output.audio_embeds[d]) * m.output.text_embeds[t * m.output.dim + d];
        m.cosine.push_back(static_cast<float>(dot));
    }
    m.best_text = static_cast<uint32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    return m;
}

}  // namespace accel::engine
