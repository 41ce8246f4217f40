#include "accel/media/wav2vec2_features.h"

#include <cmath>

namespace accel::media {

std::vector<float> wav2vec2_normalize(std::span<const float> samples) {
    if (samples.empty()) return {};
    double sum = 0;
    for (const float x : samples) sum += x;
    const double mean = sum / static_cast<double>(samples.size());
    double sq = 0;
    for (const float x : samples) sq += (x - mean) * (x - mean);
    const double scale = 1.0 / std::sqrt(sq / static_cast<double>(samples.size()) + 1e-7);
    std::vector<float> out(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) out[i] = static_cast<float>((samples[i] - mean) * scale);
    return out;
}

}  // namespace accel::media
