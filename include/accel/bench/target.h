#pragma once

// The engine-neutral target, in the manner of LoadGen's SystemUnderTest: a model of some kind that accepts typed
// inputs, does the work, and reports how much it did. It never times itself: the scenario owns the clock.
//
// A new model family (image, audio, multimodal) adds an adapter, `class EngineImageTarget : public
// Target<Image>`, over its engine session, and either reuses run_batches below (throughput over batches of inputs)
// or adds a scenario that drives Target<Input>; the facts, the load through the pool, the energy window, the
// recorder and the campaign are the same for every kind. The LLM scenarios use finer-grained targets of their own
// (LlmTarget: prefill and one-token decode steps; engine::ParallelLlmTarget for continuous batching), because a
// token-level schedule is what they measure.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "accel/bench/measurement.h"

namespace accel::bench {

// What one call to Target::run did.
struct WorkDone {
    int64_t n_items = 0;   // inputs completed: texts embedded, images classified, clips transcribed
    int64_t n_tokens = 0;  // tokens processed, where the kind has tokens and the adapter counts them; else 0
};

template <typename Input>
class Target {
public:
    virtual ~Target() = default;
    virtual std::string_view name() const = 0;  // the runtime: "llama.cpp"
    virtual std::string_view kind() const = 0;  // what it does: "embed" (later "image", "audio", …)
    // Runs the inputs as one batch and returns when the device has finished (synchronised), so the scenario's
    // clock measures the work. Not thread-safe: one scenario drives it. Throws accel::Error when the device fails.
    virtual WorkDone run(std::span<const Input> inputs) = 0;
};

// The batch-throughput scenario for any target: rules.n_warmup untimed calls, then timed calls of the same
// batch until rules are met (both the minimum count and duration, at most n_max_reps). samples_ts are items per
// second and samples_tokens the items each call did (what ts counts). Throws what target.run throws.
template <typename Input>
Measurement run_batches(Target<Input>& target, std::span<const Input> inputs, const RunRules& rules) {
    using Clock = std::chrono::steady_clock;
    Measurement m;
    for (int32_t i = 0; i < rules.n_warmup; ++i) (void)target.run(inputs);
    while (static_cast<int32_t>(m.samples_ns.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(m.samples_ns.size()) < rules.n_min_reps || m.wall < rules.min_duration)) {
        const auto t0 = Clock::now();
        const WorkDone done = target.run(inputs);
        const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        m.samples_ns.push_back(ns);
        m.samples_ts.push_back(static_cast<double>(done.n_items) * 1e9 / static_cast<double>(std::max<int64_t>(ns, 1)));
        m.samples_tokens.push_back(static_cast<int32_t>(done.n_items));
        m.wall += std::chrono::nanoseconds(ns);
    }
    finish_measurement(m, rules);
    return m;
}

}  // namespace accel::bench
