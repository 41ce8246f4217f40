#include "accel/web/web_whisper.h"

#include <cmath>
#include <cstdlib>
#include <unistd.h>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/provenance.h"
#include "accel/bench/statistics.h"
#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/media/audio.h"
#include "accel/model/whisper_file.h"
#include "accel/store/result_writer.h"

namespace accel::web {
using json = nlohmann::json;

std::vector<double> WhisperFigures::rtf() const {
    std::vector<double> r;
    for (double ms : wall_ms) r.push_back(ms > 0 ? audio_seconds * 1000.0 / ms : 0.0);
    return r;
}

std::optional<WhisperFigures> parse_whisper_figures(const std::string& page_json) {
    const json doc = json::parse(page_json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("whisper")) return std::nullopt;
    const json& w = doc["whisper"];
    WhisperFigures f;
    f.threads = w.value("threads", 1);
    f.max_tokens = w.value("max_tokens", 0);
    f.load_ms = w.value("load_ms", 0.0);
    f.audio_seconds = w.value("audio_seconds", 0.0);
    f.text = w.value("text", "");
    f.system_info = w.value("system_info", "");
    for (const json& r : w.value("reps", json::array())) {
        f.wall_ms.push_back(r.value("wall_ms", 0.0));
        f.encode_ms.push_back(r.value("encode_ms", 0.0));
        f.decode_ms.push_back(r.value("decode_ms", 0.0));
        f.n_tokens = r.value("n_tokens", 0);
    }
    if (f.wall_ms.empty()) throw Error(ErrorKind::invalid_input, "web: the whisper page posted no timed run");
    return f;
}

store::ResultRecord whisper_result_record(const WhisperFigures& f, const std::string& model_sha256,
                                          const std::string& model_name, const std::string& extra_json) {
    json extra = json::parse(extra_json, nullptr, false);
    if (!extra.is_object()) extra = json::object();
    const auto rtf = f.rtf();
    extra["platform"] = "web";
    extra["engine"] = "whisper.cpp (WebAssembly)";
    extra["audio_seconds"] = f.audio_seconds;
    extra["rtf_samples"] = rtf;
    extra["rtf_mean"] = bench::summarize(rtf).mean;
    extra["encode_ms_samples"] = f.encode_ms;
    extra["decode_ms_samples"] = f.decode_ms;
    extra["load_ms"] = f.load_ms;
    extra["max_tokens"] = f.max_tokens;
    extra["n_tokens"] = f.n_tokens;
    extra["text"] = f.text;
    extra["system_info"] = f.system_info;
    store::ResultRecord r{.model_id = model_sha256, .model_sha256 = model_sha256, .model_name = model_name,
                          .scenario = "audio", .device = "wasm"};
    r.n_threads = f.threads;
    std::vector<double> ns;
    for (size_t i = 0; i < f.wall_ms.size(); ++i) {
        ns.push_back(f.wall_ms[i] * 1e6);
        r.samples.push_back({.seq = static_cast<int32_t>(i), .duration_ns = std::llround(ns.back()),
                             .n_tokens = f.n_tokens});
    }
    const auto s = bench::summarize(ns);
    r.avg_ns = s.mean;
    r.p50_ns = s.p50;
    r.p90_ns = s.p90;
    r.p99_ns = s.p99;
    r.extra_json = extra.dump();
    return r;
}

namespace {

// The decoded clip as the page fetches it (/audio/audio.f32), in a folder removed with this object.
class AudioFolder {
public:
    explicit AudioFolder(const std::vector<float>& samples) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "accel-web-audio.XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw Error(ErrorKind::io, "web: cannot create a temporary folder");
        dir_ = tmpl;
        std::ofstream out(file(), std::ios::binary);
        out.write(reinterpret_cast<const char*>(samples.data()), static_cast<std::streamsize>(samples.size() * 4));
        if (!out) throw Error(ErrorKind::io, fmt::format("web: cannot write {}", file().string()));
    }
    ~AudioFolder() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    AudioFolder(const AudioFolder&) = delete;
    AudioFolder& operator=(const AudioFolder&) = delete;
    std::filesystem::path file() const { return dir_ / "audio.f32"; }

private:
    std::filesystem::path dir_;
};

std::string store_whisper(const std::filesystem::path& db, const WebBenchOptions& o,
                          const std::vector<WhisperBrowserRun>& runs) {
    store::ResultWriter writer = bench::begin_run({.db = db}, {.command = "web-bench", .tags = {"web", "audio"}},
                                                  bench::current_provenance());
    const std::string sha = sha256_file(o.model);
    const std::string name = o.model.filename().string();
    writer.add_model({.id = sha, .sha256 = sha, .path = o.model.string(), .name = name});
    std::vector<store::ResultRecord> results;
    std::vector<store::FailureRecord> failures;
    for (const auto& r : runs) {
        const json params{{"platform", "web"}, {"browser", r.outcome.browser}, {"browser_version", r.outcome.version}};
        if (!r.figures) {
            failures.push_back({.model_id = sha, .scenario = "audio", .device = r.outcome.browser, .stage = "browser",
                                .reason = r.outcome.error, .params_json = params.dump()});
            continue;
        }
        results.push_back(whisper_result_record(*r.figures, sha, name, params.dump()));
    }
    if (!results.empty()) writer.add_results(std::move(results));
    if (!failures.empty()) writer.add_failures(std::move(failures));
    writer.finish(store::RunStatus::complete);
    return writer.run_id();
}

}  // namespace

WhisperBench run_whisper_bench(WebBenchOptions o, const std::filesystem::path& audio,
                               const std::vector<std::string>& browsers, const std::filesystem::path& db) {
    model::validate_whisper_file(o.model);  // one line naming the file, before any browser starts
    const AudioFolder folder(media::load_audio(audio, 16000).samples);
    o.audio_f32 = folder.file();
    if (o.whisper_dir.empty()) o.whisper_dir = whisper_wasm_dir();
    WhisperBench out;
    for (const auto& b : browsers) {
        if (o.cancel != nullptr && o.cancel->load()) break;
        WhisperBrowserRun run{.outcome = run_browser(o, b)};
        if (run.outcome.ok) {
            try {
                run.figures = parse_whisper_figures(run.outcome.result_json);
                if (!run.figures) {
                    const json doc = json::parse(run.outcome.result_json, nullptr, false);
                    throw Error(ErrorKind::backend, fmt::format("web: the page ran no whisper: {}",
                                                                doc.value("errors", json::array()).dump()));
                }
            } catch (const Error& e) {
                run.outcome.ok = false;
                run.outcome.error = e.what();
            }
        }
        out.runs.push_back(std::move(run));
    }
    if (!db.empty()) out.run_id = store_whisper(db, o, out.runs);
    return out;
}

}  // namespace accel::web
