#pragma once
// `accel make-model whisper`: whisper.cpp model files of Whisper's real shapes with RANDOM WEIGHTS, for speed
// measurements (accel bench's audio scenario, parity with whisper-bench). Their text is meaningless; the file says
// so in its vocabulary (token 0 is engine::whisper_random_weights_token, see whisper_model.h).
#include <cstdint>
#include <filesystem>
#include <string>

#include "accel/engine/synthetic_model.h"
#include "accel/model/whisper_file.h"

namespace accel::engine {

// "tiny", "base", "small": openai/whisper-tiny, -base and -small's hyperparameters (multilingual vocabulary of
// 51,865, 80 mels, 1,500 audio and 448 text positions). Throws Error{invalid_input} naming the sizes for another.
model::WhisperHparams whisper_size_hparams(const std::string& size);

struct SyntheticWhisperSpec {
    std::string size = "tiny";
    WeightType type = WeightType::f16;  // f32 or f16 (what whisper.cpp files accel reads hold)
    uint64_t seed = 1;
    std::filesystem::path out;
};

// Writes the file (atomically: a temporary renamed when whole) and returns what make-model prints; shape.n_embd is
// the width, n_layer the encoder's (the decoder has as many), n_ctx_train the text positions. The same spec gives
// the same bytes. Throws Error{invalid_input} for an unknown size or a type other than f32/f16, Error{io} when
// the file cannot be written.
SyntheticModel make_synthetic_whisper(const SyntheticWhisperSpec& spec);

}  // namespace accel::engine
