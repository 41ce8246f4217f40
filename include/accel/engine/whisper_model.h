#pragma once
// A whisper.cpp model: a file that model::validate_whisper_file() accepted, loaded by whisper.cpp, with the
// encoder run on given log-mel features and the decoder run teacher-forced. whisper.h stays in the .cpp.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "accel/model/whisper_file.h"

struct whisper_context;

namespace accel::engine {

struct WhisperModelParams {
    int32_t n_threads = 4;
    bool use_gpu = false;      // whisper.cpp's GPU backend, when the ggml it links has one
    int32_t gpu_device = 0;
    bool flash_attn = false;   // whisper.cpp's default is on; off keeps the attention in f32 on CPU
};

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

    // Feeds `tokens` one at a time from position 0 (after encode()) and returns each step's logits,
    // row-major [tokens.size()][n_vocab()]: row i predicts token i + 1. Error{invalid_input} for a token outside
    // the vocabulary, more tokens than n_text_ctx or no encode() yet; Error{backend} when whisper_decode fails.
    std::vector<float> decode_teacher_forced(std::span<const int32_t> tokens);

    // Not copyable; movable. One thread at a time.
    WhisperModel(WhisperModel&&) noexcept;
    WhisperModel& operator=(WhisperModel&&) noexcept;
    ~WhisperModel();

private:
    struct Free {
        void operator()(whisper_context* ctx) const;
    };
    WhisperModel() = default;
    std::unique_ptr<whisper_context, Free> ctx_;
    model::WhisperHparams hparams_;
    std::filesystem::path path_;
    WhisperModelParams params_;
    bool encoded_ = false;
};

}  // namespace accel::engine
