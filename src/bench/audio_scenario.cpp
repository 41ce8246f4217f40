// The audio scenario: Whisper through engine::WhisperModel (whisper.cpp), or Wav2Vec2 through engine::CtcModel
// (accel's ggml graph), timed here.
#include "accel/bench/audio_scenario.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numbers>
#include <thread>

#include <fmt/core.h>

#include "accel/bench/measure.h"
#include "accel/core/error.h"
#include "accel/core/sha256_cache.h"
#include "accel/engine/ctc_model.h"
#include "accel/engine/whisper_model.h"
#include "accel/model/gguf_file.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int32_t sample_rate = 16000;

int64_t ns_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}
double ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

struct Rep {
    int64_t features_ns = 0, transcribe_ns = 0;
    std::optional<int64_t> first_segment_ns;
    engine::Transcript transcript;
};

// One repetition: features, then whisper_full; the first segment's time is taken in the streaming callback.
Rep run_once(engine::WhisperModel& model, const std::vector<float>& clip, int32_t n_threads) {
    Rep rep;
    const auto t0 = Clock::now();
    const media::LogMel mel = model.features(clip, n_threads);
    const auto t1 = Clock::now();
    Clock::time_point t_first{};
    rep.transcript = model.transcribe(mel, clip.size(), {.language = "en", .n_threads = n_threads},
                                      [&](const engine::TranscriptSegment&) {
                                          if (t_first == Clock::time_point{}) t_first = Clock::now();
                                      });
    const auto t2 = Clock::now();
    rep.features_ns = ns_between(t0, t1);
    rep.transcribe_ns = ns_between(t1, t2);
    if (t_first != Clock::time_point{}) rep.first_segment_ns = ns_between(t0, t_first);
    return rep;
}

double mean_of(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

AudioStats summarize_reps(const std::vector<Rep>& reps, const Measurement& m, double seconds, int32_t n_threads) {
    AudioStats a{.clip_seconds = seconds, .rtf = m.ts.mean, .latency_p50_ms = m.ns.p50 / 1e6,
                 .latency_p90_ms = m.ns.p90 / 1e6, .latency_p99_ms = m.ns.p99 / 1e6, .n_threads = n_threads};
    std::vector<double> feat, trans, enc, dec, segs, first;
    for (const auto& r : reps) {
        feat.push_back(ms(r.features_ns));
        trans.push_back(ms(r.transcribe_ns));
        const auto& w = r.transcript.whisper_times;
        enc.push_back(w.encode_ms);
        dec.push_back(w.decode_ms + w.batchd_ms + w.prompt_ms);
        segs.push_back(static_cast<double>(r.transcript.segments.size()));
        if (r.first_segment_ns) first.push_back(ms(*r.first_segment_ns));
    }
    a.features_ms = mean_of(feat);
    a.transcribe_ms = mean_of(trans);
    a.encode_ms = mean_of(enc);
    a.decode_ms = mean_of(dec);
    a.segments = mean_of(segs);
    if (!first.empty()) a.first_segment_ms_p50 = summarize(first).p50;
    return a;
}

void record_model(PointResult& r, const PointSpec& spec, const engine::WhisperModel& model) {
    const auto& h = model.hparams();
    r.model_sha256 = sha256_file_cached(spec.model);
    r.model_arch = "whisper";
    r.model_size = std::filesystem::file_size(spec.model);
    for (const auto& t : model::whisper_tensor_layout(h)) {
        uint64_t n = 1;
        for (int64_t d : t.ne) n *= static_cast<uint64_t>(d);
        r.model_n_params += n;
    }
    r.model_desc = fmt::format("whisper {}x{} {}", h.n_audio_layer, h.n_audio_state, h.ftype == 0 ? "F32" : "F16");
    r.model_name = model.random_weights() ? "whisper (RANDOM WEIGHTS, accel make-model)" : "whisper";
}

// Wav2Vec2: one repetition is the feature extractor (normalization), one forward pass over the whole clip and the
// greedy CTC decoding, each timed by bench.
struct CtcRep {
    int64_t features_ns = 0, forward_ns = 0, decode_ns = 0;
    bool text = false;  // a non-empty transcript
};

CtcRep run_ctc_once(engine::CtcModel& model, const std::vector<float>& clip) {
    const auto t0 = Clock::now();
    const std::vector<float> values = model.preprocess(clip);
    const auto t1 = Clock::now();
    const engine::CtcOutput out = model.run(values);
    const auto t2 = Clock::now();
    const std::string text = engine::ctc_decode(engine::ctc_greedy_ids(out.logits, out.n_vocab), model.vocab());
    const auto t3 = Clock::now();
    return {.features_ns = ns_between(t0, t1),
            .forward_ns = ns_between(t1, t2),
            .decode_ns = ns_between(t2, t3),
            .text = !text.empty()};
}

bool is_gguf(const std::string& path) {
    char magic[4] = {};
    std::ifstream in(path, std::ios::binary);
    return in.read(magic, sizeof magic) && std::string_view(magic, 4) == "GGUF";
}

void record_ctc_model(PointResult& r, const model::GgufFile& file) {
    r.model_arch = "wav2vec2";
    r.model_size = file.weights_bytes();
    for (const auto& t : file.tensors) r.model_n_params += t.n_elements;
    const uint64_t ftype = file.get_uint("general.file_type").value_or(0);
    r.model_desc = fmt::format("wav2vec2 {}x{} {}", file.get_uint("wav2vec2.block_count").value_or(0),
                               file.get_uint("wav2vec2.embedding_length").value_or(0),
                               ftype == 0   ? "F32"
                               : ftype == 1 ? "F16"
                               : ftype == 7 ? "Q8_0"
                                            : "other");
    r.model_name = file.get_string("general.name").value_or("wav2vec2");
}

// The Wav2Vec2 point: AudioStats with encode_ms = the forward pass, decode_ms = the greedy CTC decoding,
// transcribe_ms = their sum, no first segment (CTC gives one transcript at the end), segments = 1 when it is not empty.
void measure_ctc_point(PointResult& r, const PointSpec& spec, const PointOptions& options, int32_t n_threads) {
    const model::GgufFile file = model::read_gguf(spec.model);
    if (const auto arch = file.get_string("general.architecture").value_or(""); arch != "wav2vec2") {
        r.failure_stage = "load";
        throw Error(ErrorKind::invalid_input, fmt::format("audio scenario: {} is a '{}' model, not a whisper.cpp "
                                                          "file or a wav2vec2 GGUF",
                                                          spec.model, arch));
    }
    const bool gpu = spec.device != "cpu" && !spec.device.empty();
    const auto t_load = Clock::now();
    engine::CtcModel model = [&] {
        try {
            return engine::CtcModel::load(spec.model, {.device = gpu ? spec.device : "", .n_threads = n_threads});
        } catch (const Error&) {
            r.failure_stage = "load";
            throw;
        }
    }();
    r.load_ns = ns_between(t_load, Clock::now());
    r.model_sha256 = sha256_file_cached(spec.model);
    record_ctc_model(r, file);
    r.device = gpu ? spec.device : "cpu";
    r.n_threads = n_threads;
    r.energy_unavailable = "not measured for audio points";
    const auto clip = synthetic_clip(spec.n_prompt, options.seed);
    const double seconds = static_cast<double>(clip.size()) / sample_rate;
    const RunRules& rules = options.rules;
    for (int32_t i = 0; i < rules.n_warmup; ++i) (void)run_ctc_once(model, clip);
    std::vector<double> feat, fwd, dec, segs;
    Measurement& m = r.measurement;
    while (static_cast<int32_t>(feat.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(feat.size()) < rules.n_min_reps || m.wall < rules.min_duration)) {
        const CtcRep rep = run_ctc_once(model, clip);
        const int64_t e2e = rep.features_ns + rep.forward_ns + rep.decode_ns;
        m.samples_ns.push_back(e2e);
        m.samples_ts.push_back(seconds * 1e9 / static_cast<double>(std::max<int64_t>(e2e, 1)));
        m.wall += std::chrono::nanoseconds(e2e);
        feat.push_back(ms(rep.features_ns));
        fwd.push_back(ms(rep.forward_ns));
        dec.push_back(ms(rep.decode_ns));
        segs.push_back(rep.text ? 1.0 : 0.0);
    }
    finish_measurement(m, rules);
    r.audio = AudioStats{.clip_seconds = seconds,
                         .rtf = m.ts.mean,
                         .latency_p50_ms = m.ns.p50 / 1e6,
                         .latency_p90_ms = m.ns.p90 / 1e6,
                         .latency_p99_ms = m.ns.p99 / 1e6,
                         .features_ms = mean_of(feat),
                         .transcribe_ms = mean_of(fwd) + mean_of(dec),
                         .encode_ms = mean_of(fwd),
                         .decode_ms = mean_of(dec),
                         .segments = mean_of(segs),
                         .n_threads = n_threads};
    r.peak_rss_bytes = peak_rss_bytes();
    r.ok = true;
}

}  // namespace

std::vector<float> synthetic_clip(double seconds, uint64_t seed) {
    const auto n = static_cast<size_t>(std::max(0.0, seconds) * sample_rate);
    std::vector<float> x(n);
    uint64_t state = seed * 0x9e3779b97f4a7c15ULL + 1;
    double phase = 0;
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        const double pitch = 120.0 + 40.0 * std::sin(2 * std::numbers::pi * 0.7 * t);  // a gliding voice
        phase += 2 * std::numbers::pi * pitch / sample_rate;
        double v = 0;
        for (int k = 1; k <= 8; ++k) v += std::sin(k * phase) / k;
        const double syllable = std::max(0.0, std::sin(2 * std::numbers::pi * 4.0 * t));  // ~4 syllables a second
        const double pause = std::fmod(t, 3.0) < 2.4 ? 1.0 : 0.0;                          // a pause every 3 s
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const double noise = (static_cast<double>(state >> 11) * 0x1.0p-53 - 0.5) * 0.02;
        x[i] = static_cast<float>(0.25 * v * syllable * pause + noise);
    }
    return x;
}

void measure_audio_point(PointResult& r, const PointSpec& spec, const PointOptions& options) {
    if (spec.n_prompt < 1)
        throw Error(ErrorKind::invalid_input, fmt::format("audio scenario: the clip is -p {} s; give at least 1", spec.n_prompt));
    const int32_t n_threads = spec.n_threads > 0 ? spec.n_threads
                                                 : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    if (is_gguf(spec.model)) return measure_ctc_point(r, spec, options, n_threads);  // wav2vec2
    const bool gpu = spec.device != "cpu" && !spec.device.empty();
    const auto t_load = Clock::now();
    engine::WhisperModel model = [&] {
        try {
            return engine::WhisperModel::load(spec.model, {.n_threads = n_threads, .use_gpu = gpu});
        } catch (const Error&) {
            r.failure_stage = "load";
            throw;
        }
    }();
    r.load_ns = ns_between(t_load, Clock::now());
    record_model(r, spec, model);
    r.device = gpu ? spec.device : "cpu";
    r.n_threads = n_threads;
    r.energy_unavailable = "not measured for audio points";
    const auto clip = synthetic_clip(spec.n_prompt, options.seed);
    const double seconds = static_cast<double>(clip.size()) / sample_rate;
    const RunRules& rules = options.rules;
    for (int32_t i = 0; i < rules.n_warmup; ++i) (void)run_once(model, clip, n_threads);
    std::vector<Rep> reps;
    Measurement& m = r.measurement;
    while (static_cast<int32_t>(reps.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(reps.size()) < rules.n_min_reps || m.wall < rules.min_duration)) {
        reps.push_back(run_once(model, clip, n_threads));
        const Rep& rep = reps.back();
        const int64_t e2e = rep.features_ns + rep.transcribe_ns;
        m.samples_ns.push_back(e2e);
        m.samples_ts.push_back(seconds * 1e9 / static_cast<double>(std::max<int64_t>(e2e, 1)));
        if (rep.first_segment_ns) m.ttft_ns.push_back(*rep.first_segment_ns);
        m.wall += std::chrono::nanoseconds(e2e);
    }
    finish_measurement(m, rules);
    r.audio = summarize_reps(reps, m, seconds, n_threads);
    r.peak_rss_bytes = peak_rss_bytes();
    r.ok = true;
}

}  // namespace accel::bench
