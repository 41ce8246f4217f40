#pragma once
// A whisper.cpp model: a file that model::validate_whisper_file() accepted, loaded by whisper.cpp, with the
// encoder run on given log-mel features and the decoder run teacher-forced. whisper.h stays in the .cpp.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "accel/media/audio.h"
#include "accel/media/log_mel.h"
#include "accel/model/whisper_file.h"

struct whisper_context;

namespace accel::engine {

struct WhisperModelParams {
    int32_t n_threads = 4;
    bool use_gpu = false;      // whisper.cpp's GPU backend, when the ggml it links has one
    int32_t gpu_device = 0;
    bool flash_attn = false;   // whisper.cpp's default is on; off keeps the attention in f32 on CPU
};

// Token 0 of every `accel make-model whisper` file: whisper.cpp's format has no metadata, so the vocabulary says that
// the weights are random (it contains synthetic_model.h's random_weights_marker).
inline constexpr const char* whisper_random_weights_token = "[RANDOM WEIGHTS]";

// How whisper_full decodes: greedy, temperature 0 and no temperature fallback (whisper-cli falls back by 0.2 steps;
// off keeps a run deterministic and its time comparable), segment timestamps on, 30 s windows as whisper.cpp seeks.
struct TranscribeParams {
    std::string language;    // "" or "auto": detect (multilingual models); an English-only model always gets "en"
    bool translate = false;  // to English (multilingual models)
    int32_t n_threads = 4;
    int32_t max_tokens = 0;  // tokens per segment at most; 0: whisper.cpp's default (no cap but the context)
};

struct TranscriptSegment {
    int64_t t0_ms = 0, t1_ms = 0;  // whisper.cpp's segment times (10 ms steps) from the start of the audio
    std::string text;
};

// whisper.cpp's own timers (whisper_get_timings: it times its phases itself, in ms), as means, not totals:
// encode_ms per whisper_encode call (per 30 s window), decode_ms per one-token whisper_decode call, batchd_ms per
// token of the calls of 2 to 15 tokens and prompt_ms per token of the calls of 16 and more, sample_ms per sampling.
// whisper.h does not expose the counts, so totals are known only where the caller knows the calls.
struct WhisperPhaseTimes {
    double encode_ms = 0, decode_ms = 0, batchd_ms = 0, prompt_ms = 0, sample_ms = 0;
};

struct Transcript {
    std::vector<TranscriptSegment> segments;
    std::string language;  // the language decoded ("en" for English-only models)
    double audio_seconds = 0;
    WhisperPhaseTimes whisper_times;
    int32_t n_encode = 0;  // encoder passes whisper_full ran (one per window it seeked to): encode_ms x this is the total
};

// Called for each segment as whisper.cpp finishes it (from the thread that called transcribe()).
using SegmentCallback = std::function<void(const TranscriptSegment&)>;

class WhisperModel {
public:
    // Validates `path` first (model::validate_whisper_file: Error{invalid_input}, one line naming the file), then
    // loads it; Error{backend} with whisper.cpp's last log line when whisper.cpp refuses it. Owns the context.
    static WhisperModel load(const std::filesystem::path& path, const WhisperModelParams& params = {});

    const model::WhisperHparams& hparams() const { return hparams_; }
    int32_t n_vocab() const;  // whisper.cpp's vocabulary (the stored tokens and the specials it adds)

    // Runs the encoder on log-mel features `mel`, row-major [n_mels][n_frames] (WhisperFeatureExtractor's
    // input_features layout); n_frames must be 2 * n_audio_ctx. Error{invalid_input} for a wrong size,
    // Error{backend} when whisper_set_mel or whisper_encode fails. whisper.cpp keeps the encoder's output inside
    // its state (whisper.h has no getter for it), for the decoder's cross-attention.
    void encode(std::span<const float> mel, int32_t n_frames);

    // Whisper's log-mel features of 16 kHz mono `samples` as whisper.cpp lays them out for whisper_full: the
    // samples followed by 30 s of zeros (whisper.cpp's padding, so the last window is whole), through
    // media::whisper_log_mel with WhisperFeatureExtractor's filter bank for the model's n_mels. Thread-safe.
    media::LogMel features(std::span<const float> samples, int32_t n_threads = 1) const;

    // Transcribes `mel` (from features() over n_samples samples) with whisper_full: 30 s windows, seeking by the
    // decoded timestamps as whisper.cpp does; on_segment (may be empty) sees each segment as it is decoded.
    // Error{invalid_input} for mel of another n_mels or fewer frames than n_samples need, or an unknown
    // language; Error{backend} with whisper.cpp's last log line when whisper_full fails; an exception thrown by
    // on_segment stops the run and is rethrown. Audio under 100 ms gives no segments (whisper.cpp skips it).
    Transcript transcribe(const media::LogMel& mel, size_t n_samples, const TranscribeParams& params,
                          const SegmentCallback& on_segment = {});

    // Whether the file is `accel make-model whisper` output: its token 0 is whisper_random_weights_token
    // (the file format has no metadata; a real vocabulary's token 0 is "!"). Such a model's text is meaningless.
    bool random_weights() const;
    bool multilingual() const;

    // Feeds `tokens` one at a time from position 0 (after encode()) and returns each step's logits,
    // row-major [tokens.size()][n_vocab()]: row i predicts token i + 1. Error{invalid_input} for a token outside
    // the vocabulary, more tokens than n_text_ctx or no encode() yet; Error{backend} when whisper_decode fails.
    std::vector<float> decode_teacher_forced(std::span<const int32_t> tokens);

    // One whisper_decode: `tokens` (one call, as a batch) at positions n_past, n_past + 1, ... after encode();
    // the KV cache from n_past on is dropped first, as whisper_decode does. whisper.cpp computes the last token's
    // logits only, and last_logits() reads them without a copy. This is whisper-bench's unit of work, so a caller
    // that times decoding times whisper.cpp and not a copy of the logits. Error{invalid_input} for no tokens, a
    // token outside the vocabulary, n_past < 0, n_past + tokens.size() past n_text_ctx or no encode() yet;
    // Error{backend} when whisper_decode fails.
    void decode(std::span<const int32_t> tokens, int32_t n_past);
    // The last decode()'s logits for its last token: n_vocab() values owned by whisper.cpp, valid until the next
    // decode(), encode() or transcribe(). Error{invalid_input} before any decode().
    std::span<const float> last_logits() const;

    // whisper.cpp's own phase timers (the wall time inside whisper_encode and whisper_decode, as the means
    // described at WhisperPhaseTimes; whisper-bench prints them times the counts) since load() or reset_timings();
    // transcribe() resets them itself.
    WhisperPhaseTimes timings() const;
    void reset_timings();

    // Not copyable; movable. One thread at a time.
    WhisperModel(WhisperModel&&) noexcept;
    WhisperModel& operator=(WhisperModel&&) noexcept;
    ~WhisperModel();

private:
    struct Free {
        void operator()(whisper_context* ctx) const;
    };
    WhisperModel() = default;
    std::string decode_language(const std::string& requested) const;  // "auto", or a code whisper.cpp knows
    std::unique_ptr<whisper_context, Free> ctx_;
    model::WhisperHparams hparams_;
    std::filesystem::path path_;
    WhisperModelParams params_;
    bool encoded_ = false;
    int32_t n_last_tokens_ = 0;  // tokens in the last decode() (its last token's logits row), 0: none since encode()
};

// Computes the features of `audio` (16 kHz mono, e.g. media::load_audio(file, 16000)) and transcribes it with
// `model`. Throws as features() and transcribe(), and Error{invalid_input} for another sample rate.
Transcript transcribe_audio(WhisperModel& model, const media::Audio& audio, const TranscribeParams& params,
                            const SegmentCallback& on_segment = {});

}  // namespace accel::engine
