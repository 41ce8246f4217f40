#include "accel/media/clap_features.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/media/log_mel.h"

namespace accel::media {
namespace {

using nlohmann::json;

double hz_to_mel(double hz, bool slaney) {
    if (!slaney) return 2595.0 * std::log10(1.0 + hz / 700.0);
    const double logstep = 27.0 / std::log(6.4);
    return hz >= 1000.0 ? 15.0 + std::log(hz / 1000.0) * logstep : 3.0 * hz / 200.0;
}

double mel_to_hz(double mel, bool slaney) {
    if (!slaney) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    const double logstep = std::log(6.4) / 27.0;
    return mel >= 15.0 ? 1000.0 * std::exp(logstep * (mel - 15.0)) : 200.0 * mel / 3.0;
}

std::vector<double> linspace(double a, double b, size_t n) {  // as numpy: a + i * step, the last exactly b
    std::vector<double> v(n);
    const double step = n > 1 ? (b - a) / double(n - 1) : 0.0;
    for (size_t i = 0; i < n; ++i) v[i] = a + double(i) * step;
    if (n > 1) v.back() = b;
    return v;
}

uint32_t positive(const json& j, const char* key, uint32_t fallback, const std::string& source) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_number_unsigned() || j[key].get<uint64_t>() == 0 || j[key].get<uint64_t>() > (1u << 24))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is not a positive integer", source, key));
    return j[key].get<uint32_t>();
}

// The clip at exactly max_length samples: cut to its first max_length, or padded as `padding` says.
std::vector<float> fit(std::span<const float> x, size_t max_length, const std::string& padding) {
    if (x.size() >= max_length) return {x.begin(), x.begin() + static_cast<std::ptrdiff_t>(max_length)};
    std::vector<float> out;
    const size_t n_repeat = max_length / x.size();
    if (padding == "repeat" || padding == "repeatpad") {
        for (size_t r = 0; r < n_repeat + (padding == "repeat" ? 1 : 0); ++r) out.insert(out.end(), x.begin(), x.end());
    } else {
        out.assign(x.begin(), x.end());
    }
    out.resize(max_length, 0.0f);
    return out;
}

}  // namespace

ClapFeatureConfig parse_clap_feature_config(const std::string& json_text, const std::string& source) {
    const json j = json::parse(json_text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Error(ErrorKind::invalid_input, source + ": not a JSON object");
    if (const std::string t = j.value("feature_extractor_type", "ClapFeatureExtractor"); t != "ClapFeatureExtractor")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: feature_extractor_type '{}', not ClapFeatureExtractor",
                                                          source, t));
    ClapFeatureConfig c;
    c.sampling_rate = positive(j, "sampling_rate", c.sampling_rate, source);
    c.feature_size = positive(j, "feature_size", c.feature_size, source);
    c.fft_window_size = positive(j, "fft_window_size", c.fft_window_size, source);
    c.hop_length = positive(j, "hop_length", c.hop_length, source);
    c.max_length_s = positive(j, "max_length_s", c.max_length_s, source);
    for (auto [key, v] : {std::pair{"frequency_min", &c.frequency_min}, std::pair{"frequency_max", &c.frequency_max}})
        if (j.contains(key) && j[key].is_number()) *v = j[key].get<float>();
    c.truncation = j.value("truncation", c.truncation);
    c.padding = j.value("padding", c.padding);
    if (c.truncation != "rand_trunc" && c.truncation != "fusion")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: truncation '{}' (ClapFeatureExtractor has rand_trunc "
                                                          "and fusion)", source, c.truncation));
    if (c.padding != "repeatpad" && c.padding != "repeat" && c.padding != "pad")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: padding '{}' (accel has repeatpad, repeat and pad)",
                                                          source, c.padding));
    if (j.contains("top_db") && !j["top_db"].is_null())
        throw Error(ErrorKind::invalid_input, source + ": top_db is set (accel implements ClapFeatureExtractor's "
                                                       "default, none)");
    if (c.frequency_min < 0 || c.frequency_max <= c.frequency_min || c.frequency_max > c.sampling_rate / 2.0f ||
        c.fft_window_size < 2)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: frequencies {}-{} Hz do not fit {} Hz sampling", source,
                                                          c.frequency_min, c.frequency_max, c.sampling_rate));
    return c;
}

std::vector<float> mel_filter_bank(uint32_t n_mels, uint32_t n_fft, uint32_t sampling_rate, double f_min, double f_max,
                                   bool slaney) {
    const size_t n_bins = 1 + n_fft / 2;
    const auto fft_freqs = linspace(0.0, double(sampling_rate / 2), n_bins);
    auto f = linspace(hz_to_mel(f_min, slaney), hz_to_mel(f_max, slaney), n_mels + 2);
    for (double& m : f) m = mel_to_hz(m, slaney);
    std::vector<float> out(size_t{n_mels} * n_bins);
    for (size_t m = 0; m < n_mels; ++m) {
        const double enorm = slaney ? 2.0 / (f[m + 2] - f[m]) : 1.0;
        for (size_t k = 0; k < n_bins; ++k) {
            const double down = -(f[m] - fft_freqs[k]) / (f[m + 1] - f[m]);
            const double up = (f[m + 2] - fft_freqs[k]) / (f[m + 2] - f[m + 1]);
            out[m * n_bins + k] = static_cast<float>(std::max(0.0, std::min(down, up)) * enorm);
        }
    }
    return out;
}

ClapMel clap_log_mel(std::span<const float> samples, const ClapFeatureConfig& config, int32_t n_threads) {
    if (samples.empty()) throw Error(ErrorKind::invalid_input, "CLAP features: an empty clip");
    const size_t max_length = size_t{config.max_length_s} * config.sampling_rate;
    const std::vector<float> x = fit(samples, max_length, config.padding);
    const auto filters = mel_filter_bank(config.feature_size, config.fft_window_size, config.sampling_rate,
                                         config.frequency_min, config.frequency_max, config.truncation == "rand_trunc");
    const LogMelSpec spec{.n_fft = static_cast<int32_t>(config.fft_window_size),
                          .hop_length = static_cast<int32_t>(config.hop_length),
                          .n_mels = static_cast<int32_t>(config.feature_size)};
    const size_t n_frames = 1 + x.size() / config.hop_length;
    const std::vector<double> power = mel_power(x, filters, spec, n_frames, n_threads);
    ClapMel out{static_cast<uint32_t>(n_frames), config.feature_size, std::vector<float>(power.size()),
                samples.size() > max_length};
    for (size_t m = 0; m < config.feature_size; ++m)
        for (size_t t = 0; t < n_frames; ++t)
            out.data[t * config.feature_size + m] = static_cast<float>(10.0 * std::log10(std::max(power[m * n_frames + t], 1e-10)));
    return out;
}

}  // namespace accel::media
