// accel infer on a CTC speech recognizer (Wav2Vec2): the greedy transcript of --audio, through engine::CtcModel.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/engine/ctc_model.h"
#include "accel/media/audio.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {

int infer_ctc(const InferOptions& o) {
    if (o.audio.empty()) throw Error(ErrorKind::invalid_input, "accel infer: a wav2vec2 model needs --audio FILE");
    auto model = engine::CtcModel::load(o.model, {.device = o.device, .n_threads = o.threads});
    const media::Audio audio = media::load_audio(o.audio, static_cast<int32_t>(model.sampling_rate()));
    if (model.n_frames(audio.samples.size()) == 0)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: {:.3f} s is shorter than the model's receptive field", o.audio, audio.seconds()));
    const std::string transcript = engine::transcribe_ctc(model, audio.samples);
    if (o.json) {
        print_json({{"schema_version", json_schema_version},
                    {"model", o.model},
                    {"task", "speech_recognition"},
                    {"audio", o.audio},
                    {"audio_seconds", audio.seconds()},
                    {"transcript", transcript}});
    } else {
        fmt::print("{}\n", transcript);
    }
    return exit_ok;
}

}  // namespace accel::cli
