#include "accel/engine/whisper_model.h"

#include <whisper.h>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/backend.h"

namespace accel::engine {

void WhisperModel::Free::operator()(whisper_context* ctx) const { whisper_free(ctx); }

WhisperModel::WhisperModel(WhisperModel&&) noexcept = default;
WhisperModel& WhisperModel::operator=(WhisperModel&&) noexcept = default;
WhisperModel::~WhisperModel() = default;

WhisperModel WhisperModel::load(const std::filesystem::path& path, const WhisperModelParams& params) {
    const model::WhisperFileInfo info = model::validate_whisper_file(path);  // whisper.cpp trusts its input
    if (params.n_threads < 1) throw Error(ErrorKind::invalid_input, "whisper: n_threads must be at least 1");
    init_backend();  // routes ggml's and whisper.cpp's logs
    clear_backend_message();
    whisper_context_params cp = whisper_context_default_params();
    cp.use_gpu = params.use_gpu;
    cp.gpu_device = params.gpu_device;
    cp.flash_attn = params.flash_attn;
    WhisperModel m;
    m.ctx_.reset(whisper_init_from_file_with_params(path.c_str(), cp));
    if (!m.ctx_)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper.cpp could not load it: {}", path.string(),
                                                    last_backend_message()));
    m.hparams_ = info.hparams;
    m.path_ = path;
    m.params_ = params;
    return m;
}

int32_t WhisperModel::n_vocab() const { return whisper_n_vocab(ctx_.get()); }

void WhisperModel::encode(std::span<const float> mel, int32_t n_frames) {
    const int32_t want = 2 * hparams_.n_audio_ctx;
    if (n_frames != want || mel.size() != static_cast<size_t>(n_frames) * static_cast<size_t>(hparams_.n_mels))
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: the encoder takes {} mel bands x {} frames; got {} values for {} frames",
                                path_.string(), hparams_.n_mels, want, mel.size(), n_frames));
    encoded_ = false;
    clear_backend_message();
    if (whisper_set_mel(ctx_.get(), mel.data(), n_frames, hparams_.n_mels) != 0)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_set_mel failed: {}", path_.string(), last_backend_message()));
    if (whisper_encode(ctx_.get(), 0, params_.n_threads) != 0)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_encode failed: {}", path_.string(), last_backend_message()));
    encoded_ = true;
}

std::vector<float> WhisperModel::decode_teacher_forced(std::span<const int32_t> tokens) {
    if (!encoded_) throw Error(ErrorKind::invalid_input, fmt::format("{}: decode before encode", path_.string()));
    const int32_t nv = n_vocab();
    if (tokens.size() > static_cast<size_t>(hparams_.n_text_ctx))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} tokens, the decoder holds {}", path_.string(),
                                                          tokens.size(), hparams_.n_text_ctx));
    for (const int32_t t : tokens)
        if (t < 0 || t >= nv)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: token {} is outside the vocabulary of {}",
                                                              path_.string(), t, nv));
    std::vector<float> out;
    out.reserve(tokens.size() * static_cast<size_t>(nv));
    for (size_t i = 0; i < tokens.size(); ++i) {
        clear_backend_message();
        if (whisper_decode(ctx_.get(), &tokens[i], 1, static_cast<int>(i), params_.n_threads) != 0)
            throw Error(ErrorKind::backend, fmt::format("{}: whisper_decode failed at token {}: {}", path_.string(), i,
                                                        last_backend_message()));
        const float* logits = whisper_get_logits(ctx_.get());
        if (logits == nullptr)
            throw Error(ErrorKind::backend, fmt::format("{}: whisper_get_logits returned nothing", path_.string()));
        out.insert(out.end(), logits, logits + nv);
    }
    return out;
}

}  // namespace accel::engine
