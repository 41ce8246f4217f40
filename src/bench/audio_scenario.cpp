// The audio scenario: Whisper through engine::WhisperModel (whisper.cpp), Wav2Vec2 through engine::CtcModel or
// CLAP's audio tower through engine::ClapModel (accel's ggml graphs), timed here.
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
#include "accel/engine/clap_model.h"
#include "accel/engine/ctc_model.h"
#include "accel/engine/whisper_model.h"
#include "accel/media/clap_features.h"
#include "accel/model/gguf_file.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int32_t whisper_rate = 16000;  // whisper.cpp's and Wav2Vec2's input rate

int64_t ns_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}
double ms(int64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

// load(), timed into r.load_ns; an Error from it marks the point as failed at the load stage.
template <typename Load>
auto load_timed(PointResult& r, Load load) {
    const auto t0 = Clock::now();
    try {
        auto model = load();
        r.load_ns = ns_between(t0, Clock::now());
        return model;
    } catch (const Error&) {
        r.failure_stage = "load";
        throw;
    }
}

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

// Why an audio point has no FLOP count: accel has no formula for these models' graphs yet.
std::string no_flops(const std::string& arch) {
    return fmt::format("not counted for {}: no FLOP formula yet", arch);
}

AudioStats summarize_reps(const std::vector<Rep>& reps, const Measurement& m, double seconds, int32_t n_threads) {
    AudioStats a{.clip_seconds = seconds,
                 .rtf = m.ts.mean,
                 .latency_covers = "features+transcription",
                 .latency_p50_ms = m.ns.p50 / 1e6,
                 .latency_p90_ms = m.ns.p90 / 1e6,
                 .latency_p99_ms = m.ns.p99 / 1e6,
                 .flops_unavailable = no_flops("whisper"),
                 .n_threads = n_threads};
    std::vector<double> feat, trans, enc, dec, segs, first;
    for (const auto& r : reps) {
        feat.push_back(ms(r.features_ns));
        trans.push_back(ms(r.transcribe_ns));
        const auto& w = r.transcript.whisper_times;
        // whisper.cpp's encoder timer is a mean per pass: the total is that times the passes counted. The decoder's
        // timers are means per call or per token with no count, so the decoder's share is whisper_full's time
        // outside the encoder (decoder passes, sampling, timestamps).
        const double encode_total = w.encode_ms * r.transcript.n_encode;
        enc.push_back(encode_total);
        dec.push_back(std::max(0.0, ms(r.transcribe_ns) - encode_total));
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

const char* weight_type(const model::GgufFile& file) {
    const uint64_t ftype = file.get_uint("general.file_type").value_or(0);
    return ftype == 0 ? "F32" : ftype == 1 ? "F16" : ftype == 2 ? "Q4_0" : ftype == 7 ? "Q8_0" : "other";
}

void record_gguf_model(PointResult& r, const model::GgufFile& file, const std::string& arch, std::string desc) {
    r.model_arch = arch;
    r.model_size = file.weights_bytes();
    for (const auto& t : file.tensors) r.model_n_params += t.n_elements;
    r.model_desc = std::move(desc);
    r.model_name = file.get_string("general.name").value_or(arch);
}

void record_ctc_model(PointResult& r, const model::GgufFile& file) {
    record_gguf_model(r, file, "wav2vec2",
                      fmt::format("wav2vec2 {}x{} {}", file.get_uint("wav2vec2.block_count").value_or(0),
                                  file.get_uint("wav2vec2.embedding_length").value_or(0), weight_type(file)));
}

// The Wav2Vec2 point: AudioStats with encode_ms = the forward pass, decode_ms = the greedy CTC decoding,
// transcribe_ms = their sum, no first segment (CTC gives one transcript at the end), segments = 1 when it is not empty.
void measure_ctc_point(PointResult& r, const PointSpec& spec, const PointOptions& options, int32_t n_threads,
                       const model::GgufFile& file) {
    const bool gpu = spec.device != "cpu" && !spec.device.empty();
    engine::CtcModel model = load_timed(r, [&] {
        return engine::CtcModel::load(spec.model, {.device = gpu ? spec.device : "", .n_threads = n_threads});
    });
    r.model_sha256 = sha256_file_cached(spec.model);
    record_ctc_model(r, file);
    r.device = gpu ? spec.device : "cpu";
    r.n_threads = n_threads;
    r.energy_unavailable = "not measured for audio points";
    const auto clip = synthetic_clip(spec.n_prompt, options.seed);
    const double seconds = static_cast<double>(clip.size()) / whisper_rate;
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
                         .latency_covers = "features+pass+ctc",
                         .latency_p50_ms = m.ns.p50 / 1e6,
                         .latency_p90_ms = m.ns.p90 / 1e6,
                         .latency_p99_ms = m.ns.p99 / 1e6,
                         .features_ms = mean_of(feat),
                         .transcribe_ms = mean_of(fwd) + mean_of(dec),
                         .encode_ms = mean_of(fwd),
                         .decode_ms = mean_of(dec),
                         .segments = mean_of(segs),
                         .flops_unavailable = no_flops("wav2vec2"),
                         .n_threads = n_threads};
    r.peak_rss_bytes = peak_rss_bytes();
    r.ok = true;
}

// CLAP's feature extractor as the model's GGUF configures it (ClapFeatureExtractor's defaults without one), checked
// against the model's mel bins.
media::ClapFeatureConfig clap_feature_config(const engine::ClapModel& model, const std::string& path) {
    const std::string pre = model.preprocessor_config();
    const media::ClapFeatureConfig config =
        pre.empty() ? media::ClapFeatureConfig{}
                    : media::parse_clap_feature_config(pre, path + " (clap.preprocessor_config)");
    if (config.feature_size != model.n_mels())
        throw Error(ErrorKind::invalid_input, fmt::format("audio scenario: {}: the feature extractor gives {} mel "
                                                          "bins, the model takes {}",
                                                          path, config.feature_size, model.n_mels()));
    return config;
}

struct ClapRep {
    int64_t features_ns = 0, pass_ns = 0;
};

// One repetition: the log-mel (media::clap_log_mel), then the audio tower over it, each timed by bench.
ClapRep run_clap_once(engine::ClapModel& model, const std::vector<float>& clip, const media::ClapFeatureConfig& config,
                      int32_t n_threads) {
    const auto t0 = Clock::now();
    media::ClapMel mel = media::clap_log_mel(clip, config, n_threads);
    std::vector<engine::ClapFeatures> features(1);
    features[0] = {mel.n_frames, mel.n_mels, std::move(mel.data)};
    const auto t1 = Clock::now();
    (void)model.embed_audio(features);
    const auto t2 = Clock::now();
    return {.features_ns = ns_between(t0, t1), .pass_ns = ns_between(t1, t2)};
}

// The CLAP point: the latency samples and rtf are the audio tower's pass alone (latency_covers "pass"); the features
// are timed apart (features_ms). The extractor repeats a short clip up to max_length_s and keeps only the first
// max_length_s of a longer one (media/clap_features.h), so the pass always sees that window: a longer clip is
// refused rather than counted as audio the model never heard.
void measure_clap_point(PointResult& r, const PointSpec& spec, const PointOptions& options, int32_t n_threads,
                        const model::GgufFile& file) {
    const bool gpu = spec.device != "cpu" && !spec.device.empty();
    engine::ClapModel model = load_timed(r, [&] {
        return engine::ClapModel::load(spec.model, {.device = gpu ? spec.device : "", .n_threads = n_threads});
    });
    const media::ClapFeatureConfig config = clap_feature_config(model, spec.model);
    if (spec.n_prompt > static_cast<int32_t>(config.max_length_s))
        throw Error(ErrorKind::invalid_input,
                    fmt::format("audio scenario: {} keeps the first {} s of a clip (CLAP's max_length_s): -p {} would "
                                "count audio the model never hears; give at most {}",
                                spec.model, config.max_length_s, spec.n_prompt, config.max_length_s));
    r.model_sha256 = sha256_file_cached(spec.model);
    record_gguf_model(
        r, file, "clap",
        fmt::format("clap htsat {}d spec {} {} mels {}", file.get_uint("clap.audio.embedding_length").value_or(0),
                    file.get_uint("clap.audio.spec_size").value_or(0), model.n_mels(), weight_type(file)));
    r.device = gpu ? spec.device : "cpu";
    r.n_threads = n_threads;
    r.energy_unavailable = "not measured for audio points";
    const auto clip = synthetic_clip(spec.n_prompt, options.seed, static_cast<int32_t>(config.sampling_rate));
    const double seconds = static_cast<double>(clip.size()) / config.sampling_rate;
    if (const auto n = media::clap_log_mel(clip, config, n_threads).n_frames; n > model.max_frames())
        throw Error(ErrorKind::invalid_input, fmt::format("audio scenario: {}: the feature extractor gives {} frames, "
                                                          "the model takes at most {}",
                                                          spec.model, n, model.max_frames()));
    const RunRules& rules = options.rules;
    for (int32_t i = 0; i < rules.n_warmup; ++i) (void)run_clap_once(model, clip, config, n_threads);
    std::vector<double> feat, pass;
    Measurement& m = r.measurement;
    while (static_cast<int32_t>(pass.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(pass.size()) < rules.n_min_reps || m.wall < rules.min_duration)) {
        const ClapRep rep = run_clap_once(model, clip, config, n_threads);
        m.samples_ns.push_back(rep.pass_ns);
        m.samples_ts.push_back(seconds * 1e9 / static_cast<double>(std::max<int64_t>(rep.pass_ns, 1)));
        m.wall += std::chrono::nanoseconds(rep.pass_ns);
        feat.push_back(ms(rep.features_ns));
        pass.push_back(ms(rep.pass_ns));
    }
    finish_measurement(m, rules);
    r.audio = AudioStats{.clip_seconds = seconds,
                         .rtf = m.ts.mean,
                         .latency_covers = "pass",
                         .latency_p50_ms = m.ns.p50 / 1e6,
                         .latency_p90_ms = m.ns.p90 / 1e6,
                         .latency_p99_ms = m.ns.p99 / 1e6,
                         .features_ms = mean_of(feat),
                         .encode_ms = mean_of(pass),
                         .window_seconds = static_cast<double>(config.max_length_s),
                         .flops_unavailable = no_flops("clap"),
                         .n_threads = n_threads};
    r.peak_rss_bytes = peak_rss_bytes();
    r.ok = true;
}

// A GGUF: accel's own audio graphs, by architecture.
void measure_gguf_point(PointResult& r, const PointSpec& spec, const PointOptions& options, int32_t n_threads) {
    const model::GgufFile file = model::read_gguf(spec.model);
    const std::string arch = file.get_string("general.architecture").value_or("");
    if (arch == "wav2vec2") return measure_ctc_point(r, spec, options, n_threads, file);
    if (arch == "clap") return measure_clap_point(r, spec, options, n_threads, file);
    r.failure_stage = "load";
    throw Error(ErrorKind::invalid_input, fmt::format("audio scenario: {} is a '{}' model, not a whisper.cpp file or a "
                                                      "wav2vec2 or clap GGUF",
                                                      spec.model, arch));
}

}  // namespace

std::vector<float> synthetic_clip(double seconds, uint64_t seed, int32_t sample_rate) {
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
        const double pause = std::fmod(t, 3.0) < 2.4 ? 1.0 : 0.0;                         // a pause every 3 s
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const double noise = (static_cast<double>(state >> 11) * 0x1.0p-53 - 0.5) * 0.02;
        x[i] = static_cast<float>(0.25 * v * syllable * pause + noise);
    }
    return x;
}

void measure_audio_point(PointResult& r, const PointSpec& spec, const PointOptions& options) {
    if (spec.n_prompt < 1)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("audio scenario: the clip is -p {} s; give at least 1", spec.n_prompt));
    const int32_t n_threads =
        spec.n_threads > 0 ? spec.n_threads : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    if (is_gguf(spec.model)) return measure_gguf_point(r, spec, options, n_threads);  // wav2vec2, clap
    const bool gpu = spec.device != "cpu" && !spec.device.empty();
    engine::WhisperModel model =
        load_timed(r, [&] { return engine::WhisperModel::load(spec.model, {.n_threads = n_threads, .use_gpu = gpu}); });
    record_model(r, spec, model);
    r.device = gpu ? spec.device : "cpu";
    r.n_threads = n_threads;
    r.energy_unavailable = "not measured for audio points";
    const auto clip = synthetic_clip(spec.n_prompt, options.seed);
    const double seconds = static_cast<double>(clip.size()) / whisper_rate;
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
