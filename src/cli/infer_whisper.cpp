// accel infer on a whisper.cpp model: the transcript of one audio file, each segment printed as whisper.cpp decodes
// it (media::load_audio decodes and resamples; engine::transcribe_audio computes the log-mel and runs whisper_full).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/engine/whisper_model.h"
#include "accel/media/audio.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {
namespace {

constexpr const char* random_note =
    "note: this model has RANDOM WEIGHTS (accel make-model whisper): the text below is meaningless; its speed is real";

std::string clock_text(int64_t ms) {
    return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

engine::WhisperModelParams model_params(const InferOptions& o, int32_t n_threads) {
    engine::WhisperModelParams p{.n_threads = n_threads};
    if (o.device.empty() || o.device == "cpu") return p;
    size_t digits = o.device.size();
    while (digits > 0 && std::isdigit(static_cast<unsigned char>(o.device[digits - 1])) != 0) --digits;
    if (digits == o.device.size())
        throw Error(ErrorKind::invalid_input, fmt::format("--device {}: expected cpu or a GPU such as cuda0", o.device));
    p.use_gpu = true;
    p.gpu_device = std::stoi(o.device.substr(digits));
    return p;
}

nlohmann::json transcript_json(const InferOptions& o, const engine::Transcript& t, bool random_weights) {
    nlohmann::json segments = nlohmann::json::array();
    std::string text;
    for (const auto& s : t.segments) {
        segments.push_back({{"t0_ms", s.t0_ms}, {"t1_ms", s.t1_ms}, {"text", s.text}});
        text += s.text;
    }
    nlohmann::json doc{{"schema_version", json_schema_version},
                       {"model", o.model},
                       {"task", "transcription"},
                       {"audio", o.audio},
                       {"audio_seconds", t.audio_seconds},
                       {"language", t.language},
                       {"random_weights", random_weights},
                       {"text", text},
                       {"segments", segments}};
    if (random_weights) doc["note"] = random_note;
    return doc;
}

}  // namespace

int infer_whisper(const InferOptions& o) {
    if (o.audio.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a Whisper model needs an audio file (--audio FILE)", o.model));
    const int32_t n_threads = o.threads > 0 ? o.threads : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    const engine::WhisperModelParams mp = model_params(o, n_threads);
    const media::Audio audio = media::load_audio(o.audio, 16000);  // a bad file is refused before the model loads
    engine::WhisperModel model = engine::WhisperModel::load(o.model, mp);
    const bool random = model.random_weights();
    if (random && !o.json) fmt::print("{}\n", random_note);
    const engine::TranscribeParams params{.language = o.language, .n_threads = n_threads};
    const auto print_segment = [&](const engine::TranscriptSegment& s) {
        if (o.timestamps) {
            fmt::print("[{} --> {}] {}\n", clock_text(s.t0_ms), clock_text(s.t1_ms), s.text);
        } else {
            fmt::print("{}\n", s.text);
        }
        std::fflush(stdout);  // streamed: each segment as it is decoded
    };
    const engine::Transcript t =
        engine::transcribe_audio(model, audio, params, o.json ? engine::SegmentCallback{} : engine::SegmentCallback{print_segment});
    if (o.json) print_json(transcript_json(o, t, random));
    return exit_ok;
}

}  // namespace accel::cli
