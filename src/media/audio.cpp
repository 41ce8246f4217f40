#include "accel/media/audio.h"

#include <sndfile.h>
#include <soxr.h>

#include <cmath>
#include <memory>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::media {
namespace {

struct SndClose {
    void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndFile = std::unique_ptr<SNDFILE, SndClose>;

[[noreturn]] void refuse(const std::filesystem::path& file, const std::string& why) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", file.string(), why));
}

// The containers accel reads: WAV (and its 64-bit and extensible forms), FLAC, Ogg.
bool supported_container(int format) {
    const int major = format & SF_FORMAT_TYPEMASK;
    return major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64 || major == SF_FORMAT_FLAC ||
           major == SF_FORMAT_OGG;
}

std::string container_name(int format) {
    SF_FORMAT_INFO info{};
    info.format = format & SF_FORMAT_TYPEMASK;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof info) == 0 && info.name != nullptr) return info.name;
    return fmt::format("format 0x{:x}", info.format);
}

void check_file(const std::filesystem::path& file) {
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (ec || !std::filesystem::exists(status)) refuse(file, "cannot read the audio file: it does not exist");
    if (!std::filesystem::is_regular_file(status)) refuse(file, "cannot read the audio file: not a regular file");
    if (std::filesystem::file_size(file, ec) == 0 && !ec) refuse(file, "the audio file is empty (0 bytes)");
}

}  // namespace

Audio decode_audio(const std::filesystem::path& file) {
    check_file(file);
    SF_INFO info{};
    SndFile f(sf_open(file.c_str(), SFM_READ, &info));
    if (!f)
        refuse(file, fmt::format("cannot decode audio (accel reads WAV, FLAC and Ogg): {}", sf_strerror(nullptr)));
    if (!supported_container(info.format))
        refuse(file, fmt::format("{} audio is not supported (accel reads WAV, FLAC and Ogg)", container_name(info.format)));
    if (info.channels < 1 || info.samplerate < 1)
        refuse(file, fmt::format("invalid audio header ({} channels at {} Hz)", info.channels, info.samplerate));
    if (info.frames <= 0) refuse(file, "the audio file holds no samples");
    if (static_cast<uint64_t>(info.frames) > max_audio_frames)
        refuse(file, fmt::format("{} samples per channel, more than accel reads ({})", info.frames, max_audio_frames));
    const auto n_ch = static_cast<size_t>(info.channels);
    std::vector<float> interleaved(static_cast<size_t>(info.frames) * n_ch);
    const sf_count_t got = sf_readf_float(f.get(), interleaved.data(), info.frames);
    if (sf_error(f.get()) != SF_ERR_NO_ERROR)
        refuse(file, fmt::format("cannot decode the audio samples: {}", sf_strerror(f.get())));
    if (got <= 0) refuse(file, "the audio file holds no samples");
    Audio a{.sample_rate = info.samplerate, .samples = std::vector<float>(static_cast<size_t>(got))};
    for (size_t i = 0; i < a.samples.size(); ++i) {
        double sum = 0;
        for (size_t c = 0; c < n_ch; ++c) sum += interleaved[i * n_ch + c];
        a.samples[i] = static_cast<float>(sum / static_cast<double>(n_ch));
    }
    return a;
}

Audio resample_audio(const Audio& in, int32_t rate) {
    if (rate < 1 || in.sample_rate < 1)
        throw Error(ErrorKind::invalid_input, fmt::format("resample: rates must be positive ({} Hz to {} Hz)",
                                                          in.sample_rate, rate));
    if (rate == in.sample_rate || in.samples.empty()) return Audio{.sample_rate = rate, .samples = in.samples};
    const double ratio = static_cast<double>(rate) / in.sample_rate;
    const auto n_out = static_cast<size_t>(std::llround(static_cast<double>(in.samples.size()) * ratio));
    Audio out{.sample_rate = rate, .samples = std::vector<float>(n_out)};
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    size_t done = 0;
    const soxr_error_t err = soxr_oneshot(in.sample_rate, rate, 1, in.samples.data(), in.samples.size(), nullptr,
                                          out.samples.data(), n_out, &done, &io, &q, nullptr);
    if (err != nullptr)
        throw Error(ErrorKind::internal, fmt::format("libsoxr: resampling {} Hz to {} Hz failed: {}", in.sample_rate,
                                                     rate, err));
    out.samples.resize(done);  // libsoxr flushes its filter at the end, so done == n_out
    return out;
}

Audio load_audio(const std::filesystem::path& file, int32_t rate) { return resample_audio(decode_audio(file), rate); }

}  // namespace accel::media
