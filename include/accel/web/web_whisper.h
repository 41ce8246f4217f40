#pragma once
// Whisper in browsers: what the page's whisper.js posts (whisper.cpp compiled to WebAssembly, the same decode in
// every browser), and the rows web-bench stores for it. docs/web.md, "Whisper in browsers".
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <filesystem>

#include "accel/store/records.h"
#include "accel/web/web_bench.h"

namespace accel::web {

struct WhisperFigures {
    int32_t threads = 1;
    int32_t max_tokens = 0;
    double load_ms = 0.0;        // module, model and audio fetched, model loaded
    double audio_seconds = 0.0;  // the clip's length
    std::vector<double> wall_ms, encode_ms, decode_ms;  // per timed run: around whisper_full, and whisper.cpp's own
    int32_t n_tokens = 0;        // tokens decoded in the last run
    std::string text, system_info;
    // Real-time factor per run: audio seconds per wall second (above 1: faster than real time).
    std::vector<double> rtf() const;
};

// The "whisper" member of the page's document; nullopt when the page ran none. Throws Error{invalid_input} when it
// is there but has no timed run.
std::optional<WhisperFigures> parse_whisper_figures(const std::string& page_json);

// One result row (scenario "audio", device "wasm"): wall time per run as samples and p50/p90/p99, the RTF and
// whisper.cpp's encode/decode times in extra_json beside `extra` (browser, version, user agent).
store::ResultRecord whisper_result_record(const WhisperFigures& f, const std::string& model_sha256,
                                          const std::string& model_name, const std::string& extra_json);

struct WhisperBrowserRun {
    BrowserOutcome outcome;
    std::optional<WhisperFigures> figures;  // absent when the browser or its page failed (outcome.error says why)
};

struct WhisperBench {
    std::vector<WhisperBrowserRun> runs;  // in the order asked
    std::string run_id;                   // empty when nothing was stored
};

// Runs Whisper (options.model, a whisper.cpp file) on `audio` in each browser in turn: the audio is decoded and
// resampled natively once (media::load_audio, 16 kHz mono), so every browser gets the same samples, then served
// with the page, whisper.cpp's WebAssembly build and the model. Stores one "audio" row per browser and a failure
// per failed browser into `db` (empty: store nothing). Throws Error{invalid_input} for an unreadable audio file or a
// model that is not whisper.cpp's, Error{io} when the WebAssembly build is missing.
WhisperBench run_whisper_bench(WebBenchOptions options, const std::filesystem::path& audio,
                               const std::vector<std::string>& browsers, const std::filesystem::path& db);

}  // namespace accel::web
