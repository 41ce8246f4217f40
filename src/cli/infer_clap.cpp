// accel infer on a CLAP model: the audio-text similarity of --audio against each --text (cosine, CLAP's logit and
// the softmax over the texts, as ClapModel's logits_per_audio.softmax(dim=-1)) and the best match, through
// engine::match_audio_texts.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/engine/clap_model.h"
#include "commands.h"
#include "infer.h"
#include "output.h"

namespace accel::cli {
namespace {

void print_text(const engine::ClapMatches& m) {
    fmt::print("audio  {} ({:.2f} s{})\n\n", m.audio.string(), m.audio_seconds,
               m.truncated ? ", longer than the model's window: its start was scored" : "");
    fmt::print("{:>4}  {:>7}  {:>8}  {:>11}  {}\n", "", "cosine", "logit", "probability", "text");
    for (size_t t = 0; t < m.texts.size(); ++t)
        fmt::print("{:>4}  {:>7.4f}  {:>8.4f}  {:>11.4f}  {}\n", fmt::format("t{}", t), m.cosine[t],
                   m.output.logits_per_audio[t], m.probabilities[t], m.texts[t]);
    fmt::print("\nbest  t{} {}\n", m.best_text, m.texts[m.best_text]);
}

void print_json_results(const InferOptions& o, const engine::ClapMatches& m) {
    nlohmann::json texts = nlohmann::json::array();
    for (size_t t = 0; t < m.texts.size(); ++t)
        texts.push_back({{"text", m.texts[t]},
                         {"input_ids", m.input_ids[t]},
                         {"cosine", m.cosine[t]},
                         {"logit", m.output.logits_per_audio[t]},
                         {"probability", m.probabilities[t]}});
    print_json({{"schema_version", json_schema_version},
                {"model", o.model},
                {"task", "audio_text_similarity"},
                {"audio", o.audio},
                {"audio_seconds", m.audio_seconds},
                {"truncated", m.truncated},
                {"texts", texts},
                {"best", {{"text_index", m.best_text}, {"text", m.texts[m.best_text]},
                          {"probability", m.probabilities[m.best_text]}}}});
}

}  // namespace

int infer_clap(const InferOptions& o) {
    if (o.audio.empty()) throw Error(ErrorKind::invalid_input, "accel infer: a CLAP model needs --audio FILE");
    const auto m = engine::match_audio_texts(o.model, o.audio, o.texts, {.device = o.device, .n_threads = o.threads});
    if (o.json) {
        print_json_results(o, m);
    } else {
        print_text(m);
    }
    return exit_ok;
}

}  // namespace accel::cli
