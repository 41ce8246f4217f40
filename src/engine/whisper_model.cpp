#include "accel/engine/whisper_model.h"

#include <whisper.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <string_view>

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
    n_last_tokens_ = 0;
    clear_backend_message();
    if (whisper_set_mel(ctx_.get(), mel.data(), n_frames, hparams_.n_mels) != 0)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_set_mel failed: {}", path_.string(), last_backend_message()));
    if (whisper_encode(ctx_.get(), 0, params_.n_threads) != 0)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_encode failed: {}", path_.string(), last_backend_message()));
    encoded_ = true;
}

std::vector<float> WhisperModel::decode_teacher_forced(std::span<const int32_t> tokens) {
    if (!encoded_) throw Error(ErrorKind::invalid_input, fmt::format("{}: decode before encode", path_.string()));
    if (tokens.size() > static_cast<size_t>(hparams_.n_text_ctx))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} tokens, the decoder holds {}", path_.string(),
                                                          tokens.size(), hparams_.n_text_ctx));
    const size_t nv = static_cast<size_t>(n_vocab());
    std::vector<float> out;
    out.reserve(tokens.size() * nv);
    for (size_t i = 0; i < tokens.size(); ++i) {
        decode(tokens.subspan(i, 1), static_cast<int32_t>(i));
        const std::span<const float> logits = last_logits();
        out.insert(out.end(), logits.begin(), logits.end());
    }
    return out;
}

void WhisperModel::decode(std::span<const int32_t> tokens, int32_t n_past) {
    if (!encoded_) throw Error(ErrorKind::invalid_input, fmt::format("{}: decode before encode", path_.string()));
    if (tokens.empty()) throw Error(ErrorKind::invalid_input, fmt::format("{}: decode of no tokens", path_.string()));
    // whisper_decode checks neither: past n_text_ctx it writes outside its KV cache and position table
    if (n_past < 0 || static_cast<size_t>(n_past) + tokens.size() > static_cast<size_t>(hparams_.n_text_ctx))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} tokens at position {}, the decoder holds {}",
                                                          path_.string(), tokens.size(), n_past, hparams_.n_text_ctx));
    const int32_t nv = n_vocab();
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= nv)
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: token {} is outside the vocabulary of {}", path_.string(), tokens[i], nv));
    n_last_tokens_ = 0;
    clear_backend_message();
    if (whisper_decode(ctx_.get(), tokens.data(), static_cast<int>(tokens.size()), n_past, params_.n_threads) != 0)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_decode failed at position {}: {}", path_.string(),
                                                    n_past, last_backend_message()));
    n_last_tokens_ = static_cast<int32_t>(tokens.size());
}

std::span<const float> WhisperModel::last_logits() const {
    if (n_last_tokens_ == 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no decode since the last encode", path_.string()));
    const float* logits = whisper_get_logits(ctx_.get());
    if (logits == nullptr)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_get_logits returned nothing", path_.string()));
    // whisper.cpp keeps one row per token of the call and fills the last one only (its legacy batch)
    const size_t nv = static_cast<size_t>(n_vocab());
    return {logits + static_cast<size_t>(n_last_tokens_ - 1) * nv, nv};
}

WhisperPhaseTimes WhisperModel::timings() const {
    // whisper_get_timings returns a new struct that the caller owns (whisper.cpp 1.9.3).
    const std::unique_ptr<whisper_timings> t{whisper_get_timings(ctx_.get())};
    if (!t) return {};
    return {t->encode_ms, t->decode_ms, t->batchd_ms, t->prompt_ms, t->sample_ms};
}

void WhisperModel::reset_timings() { whisper_reset_timings(ctx_.get()); }

}  // namespace accel::engine

namespace accel::engine {
namespace {

constexpr int32_t whisper_rate = 16000, whisper_n_fft = 400, whisper_hop = 160;
constexpr size_t whisper_window_samples = 30 * whisper_rate;

struct FullRun {
    const SegmentCallback* on_segment = nullptr;
    Transcript* out = nullptr;
    std::exception_ptr error;
};

void on_new_segments(whisper_context* /*ctx*/, whisper_state* state, int n_new, void* user) {
    auto& run = *static_cast<FullRun*>(user);
    if (run.error) return;
    try {
        const int n = whisper_full_n_segments_from_state(state);
        for (int i = std::max(0, n - n_new); i < n; ++i) {
            const char* text = whisper_full_get_segment_text_from_state(state, i);
            TranscriptSegment s{.t0_ms = 10 * whisper_full_get_segment_t0_from_state(state, i),
                                .t1_ms = 10 * whisper_full_get_segment_t1_from_state(state, i),
                                .text = text != nullptr ? text : ""};
            run.out->segments.push_back(s);
            if (*run.on_segment) (*run.on_segment)(run.out->segments.back());
        }
    } catch (...) {
        run.error = std::current_exception();
    }
}

bool abort_when_failed(void* user) { return static_cast<FullRun*>(user)->error != nullptr; }

// Counts the encoder passes: whisper.cpp's timers are means per pass, and whisper.h gives no count.
bool count_encode(whisper_context* /*ctx*/, whisper_state* /*state*/, void* user) {
    auto& run = *static_cast<FullRun*>(user);
    ++run.out->n_encode;
    return run.error == nullptr;
}

}  // namespace

bool WhisperModel::random_weights() const {
    const char* t0 = whisper_token_to_str(ctx_.get(), 0);
    return t0 != nullptr && std::string_view(t0) == whisper_random_weights_token;
}

bool WhisperModel::multilingual() const { return whisper_is_multilingual(ctx_.get()) != 0; }

media::LogMel WhisperModel::features(std::span<const float> samples, int32_t n_threads) const {
    std::vector<float> padded(samples.size() + whisper_window_samples, 0.0f);
    std::copy(samples.begin(), samples.end(), padded.begin());
    const auto filters = model::whisper_mel_filters(hparams_.n_mels, whisper_n_fft, whisper_rate);
    return media::whisper_log_mel(padded, filters,
                                  {.n_fft = whisper_n_fft, .hop_length = whisper_hop, .n_mels = hparams_.n_mels},
                                  n_threads);
}

std::string WhisperModel::decode_language(const std::string& requested) const {
    if (!multilingual()) {
        if (!requested.empty() && requested != "auto" && requested != "en")
            throw Error(ErrorKind::invalid_input, fmt::format("{}: an English-only model transcribes English only, "
                                                              "not --language {}", path_.string(), requested));
        return "en";
    }
    if (requested.empty() || requested == "auto") return "auto";
    if (whisper_lang_id(requested.c_str()) < 0)
        throw Error(ErrorKind::invalid_input, fmt::format("--language {}: whisper.cpp does not know this language "
                                                          "(use a code such as en, de, fr, or auto)", requested));
    return requested;
}

Transcript WhisperModel::transcribe(const media::LogMel& mel, size_t n_samples, const TranscribeParams& params,
                                    const SegmentCallback& on_segment) {
    const size_t need = (n_samples + whisper_window_samples) / whisper_hop;
    if (mel.n_mels != hparams_.n_mels || mel.n_frames < 0 || static_cast<size_t>(mel.n_frames) < need ||
        mel.data.size() != static_cast<size_t>(mel.n_mels) * static_cast<size_t>(mel.n_frames))
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: features of {} mels x {} frames do not fit {} samples (use features())",
                                path_.string(), mel.n_mels, mel.n_frames, n_samples));
    if (params.n_threads < 1) throw Error(ErrorKind::invalid_input, "whisper: n_threads must be at least 1");
    const std::string language = decode_language(params.language);
    Transcript out{.language = language, .audio_seconds = static_cast<double>(n_samples) / whisper_rate};
    FullRun run{.on_segment = &on_segment, .out = &out};
    whisper_full_params wp = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
    wp.n_threads = params.n_threads;
    wp.language = language.c_str();
    wp.translate = params.translate;
    wp.max_tokens = params.max_tokens;
    wp.temperature_inc = 0.0f;  // no fallback: one greedy pass per window
    wp.print_progress = wp.print_realtime = wp.print_timestamps = wp.print_special = false;
    wp.duration_ms = static_cast<int>(n_samples * 1000 / whisper_rate);
    wp.new_segment_callback = on_new_segments;
    wp.new_segment_callback_user_data = &run;
    wp.abort_callback = abort_when_failed;
    wp.abort_callback_user_data = &run;
    wp.encoder_begin_callback = count_encode;
    wp.encoder_begin_callback_user_data = &run;
    encoded_ = false;  // whisper_full runs the encoder itself
    n_last_tokens_ = 0;
    clear_backend_message();
    whisper_reset_timings(ctx_.get());
    if (whisper_set_mel(ctx_.get(), mel.data.data(), mel.n_frames, mel.n_mels) != 0)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_set_mel failed: {}", path_.string(), last_backend_message()));
    const int rc = whisper_full(ctx_.get(), wp, nullptr, 0);  // no samples: the mel set above is used
    if (run.error) std::rethrow_exception(run.error);
    if (rc != 0)
        throw Error(ErrorKind::backend, fmt::format("{}: whisper_full failed ({}): {}", path_.string(), rc,
                                                    last_backend_message()));
    if (language == "auto")
        if (const char* detected = whisper_lang_str(whisper_full_lang_id(ctx_.get()))) out.language = detected;
    out.whisper_times = timings();
    return out;
}

Transcript transcribe_audio(WhisperModel& model, const media::Audio& audio, const TranscribeParams& params,
                            const SegmentCallback& on_segment) {
    if (audio.sample_rate != whisper_rate)
        throw Error(ErrorKind::invalid_input, fmt::format("whisper: audio at {} Hz; Whisper takes {} Hz (resample it)",
                                                          audio.sample_rate, whisper_rate));
    const media::LogMel mel = model.features(audio.samples, params.n_threads);
    return model.transcribe(mel, audio.samples.size(), params, on_segment);
}

}  // namespace accel::engine
