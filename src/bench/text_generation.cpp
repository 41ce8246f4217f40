#include "accel/bench/text_generation.h"

#include <algorithm>
#include <chrono>

#include "accel/bench/measure.h"
#include "accel/engine/generator.h"

namespace accel::bench {
namespace {

double per_second(double n, std::chrono::nanoseconds t) {
    return t.count() > 0 ? n * 1e9 / static_cast<double>(t.count()) : 0.0;
}

}  // namespace

TextGenerationFigures measure_text_generation(const TextGenerationSpec& spec) {
    MeasuredModel m;
    m.load({.model = spec.model, .device = spec.device, .options = {.n_ctx = spec.n_ctx}, .n_threads = spec.n_threads});
    TextGenerationFigures f;
    PointResult where;
    m.record(where);
    f.device = where.device;
    f.placement = where.placement;
    f.n_threads = where.n_threads;
    f.load_ms = std::chrono::duration<double, std::milli>(m.guard().model().load_time()).count();
    engine::Session& session = m.session();
    if (spec.greedy_n > 0) {
        engine::generate(session, spec.greedy_prompt, {.n_predict = spec.greedy_n}, [&](std::string_view piece) {
            f.greedy_text += piece;
            return true;
        });
    }
    const engine::GenerateParams timed{.n_predict = spec.n_gen};
    const auto sink = [](std::string_view) { return true; };
    for (int32_t i = 0; i < spec.n_warmup; ++i) engine::generate(session, spec.prompt, timed, sink);
    for (int32_t i = 0; i < spec.reps; ++i) {
        const engine::GenerateStats st = engine::generate(session, spec.prompt, timed, sink);
        f.n_prompt = st.n_tokens_prompt;
        f.n_gen = st.n_tokens_gen;
        f.pp_ts.push_back(per_second(st.n_tokens_prompt, st.prompt_time));
        // The first generated token comes from the prompt's logits (see cmd_generate): count the rest.
        f.tg_ts.push_back(per_second(std::max(0, st.n_tokens_gen - 1), st.gen_time));
    }
    return f;
}

}  // namespace accel::bench
