// Wav2Vec2 (accel's ggml graph) against transformers: the CTC logits and the encoder's output on the input values
// transformers' feature extractor gave (the extractor itself is checked apart, tests/engine/wav2vec2_reference_test),
// each frame's best id, and the greedy CTC transcription.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/ctc_model.h"
#include "hf_cases.h"

namespace accel::bench::detail {

using model::HfMetric;

void run_ctc(const HfCase& c, ConformResult& r) {
    const auto ref = nlohmann::json::parse(read_text(c.dir / "reference.json"));
    const auto st = c.dir / "reference.safetensors";
    auto model = engine::CtcModel::load(c.model, {.device = c.device == "cpu" ? "" : c.device, .n_threads = c.n_threads});
    r.loaded = true;
    auto out = model.run(read_f32_tensor(st, "input_values"));
    if (perturbed(c.cls)) {
        for (auto& v : out.logits) v = -v;
    }
    const auto logits = read_f32_tensor(st, "logits"), hidden = read_f32_tensor(st, "last_hidden_state");
    if (out.logits.size() != logits.size() || out.last_hidden_state.size() != hidden.size())
        throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} frames of {} logits, the reference {} values",
                                                          out.n_frames, out.n_vocab, logits.size()));
    add_metric(r, c, HfMetric::logits_rel, max_abs_diff(out.logits.data(), logits.data(), logits.size()) / range_of(logits));
    add_metric(r, c, HfMetric::state_rel, max_abs_diff(out.last_hidden_state.data(), hidden.data(), hidden.size()) / range_of(hidden));
    // every frame whose reference margin exceeds the epsilon: no greedy steps of its own
    r.top1 = teacher_forced_top1(out.logits, logits, out.n_vocab, 0, {}, {});
    add_metric(r, c, HfMetric::top1, *r.top1);
    // The decoder on transformers' own ids gives its text; at f32 accel's own ids must give it too (at other types a
    // frame may flip where the reference's margin is below the epsilon, which top-1 judges).
    const auto want = ref.at("greedy_ctc_text").get<std::string>();
    const auto ref_ids = ref.at("greedy_ctc_ids").get<std::vector<int32_t>>();
    const auto& vocab = model.vocab();
    if (const auto text = engine::ctc_decode(ref_ids, vocab); text != want) {
        r.reason = fmt::format("CTC decoding of transformers' ids gives \"{}\", transformers \"{}\"", text, want);
    } else if (c.type == model::ConvertType::f32) {
        if (const auto got = engine::ctc_decode(engine::ctc_greedy_ids(out.logits, out.n_vocab), vocab); got != want)
            r.reason = fmt::format("greedy CTC transcript \"{}\", transformers \"{}\"", got, want);
    }
}

}  // namespace accel::bench::detail
