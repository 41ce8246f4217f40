#include "web_whisper_printer.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/statistics.h"
#include "accel/core/version.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

double median(const std::vector<double>& v) { return bench::summarize(v).p50; }

// RTF of the first browser over the second's: how many times faster the first runs the same decode.
std::optional<double> ratio(const web::WhisperBench& b, const std::string& first, const std::string& second) {
    const web::WhisperFigures *a = nullptr, *c = nullptr;
    for (const auto& r : b.runs) {
        if (r.figures && r.outcome.browser == first) a = &*r.figures;
        if (r.figures && r.outcome.browser == second) c = &*r.figures;
    }
    if (a == nullptr || c == nullptr) return std::nullopt;
    return median(a->rtf()) / median(c->rtf());
}

}  // namespace

int print_whisper_bench(const web::WhisperBench& b, const std::string& model, bool json) {
    bool failed = false;
    Table t{.columns = {"browser", "version", "audio s", "threads", "wall ms (p50)", "RTF (p50)", "encode ms",
                        "decode ms", "tokens"},
            .numeric = {false, false, true, true, true, true, true, true, true}};
    nlohmann::json doc{{"schema_version", json_schema_version}, {"model", model}, {"run_id", b.run_id},
                       {"browsers", nlohmann::json::array()}};
    for (const auto& r : b.runs) {
        nlohmann::json bj{
            {"browser", r.outcome.browser}, {"version", r.outcome.version}, {"ok", r.figures.has_value()}};
        if (!r.figures) {
            failed = true;
            bj["error"] = r.outcome.error;
            t.rows.push_back({r.outcome.browser, r.outcome.version, std::nullopt, std::nullopt,
                              "failed: " + r.outcome.error, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
            doc["browsers"].push_back(bj);
            continue;
        }
        const web::WhisperFigures& f = *r.figures;
        t.rows.push_back({r.outcome.browser, r.outcome.version, fmt::format("{:.2f}", f.audio_seconds),
                          std::to_string(f.threads), fmt::format("{:.1f}", median(f.wall_ms)),
                          fmt::format("{:.2f}", median(f.rtf())), fmt::format("{:.1f}", median(f.encode_ms)),
                          fmt::format("{:.1f}", median(f.decode_ms)), std::to_string(f.n_tokens)});
        bj.update({{"audio_seconds", f.audio_seconds}, {"threads", f.threads}, {"wall_ms", f.wall_ms},
                   {"rtf", f.rtf()}, {"encode_ms", f.encode_ms}, {"decode_ms", f.decode_ms},
                   {"n_tokens", f.n_tokens}, {"text", f.text}, {"load_ms", f.load_ms}});
        doc["browsers"].push_back(bj);
    }
    const auto firefox_over_chromium = ratio(b, "firefox", "chromium");
    doc["firefox_over_chromium_rtf"] =
        firefox_over_chromium ? nlohmann::json(*firefox_over_chromium) : nlohmann::json();
    if (json) {
        print_json(doc);
    } else {
        fmt::print("{}", render_table(t));
        if (firefox_over_chromium)
            fmt::print("Firefox / Chromium real-time factor: {:.3f} (medians; above 1: Firefox faster; WASM in both)\n",
                       *firefox_over_chromium);
        if (!b.run_id.empty()) fmt::print("stored as run {}\n", b.run_id);
    }
    return failed ? exit_runtime : exit_ok;
}

}  // namespace accel::cli
