// The figures image, video and audio points carry beyond their throughput (extra.vision, extra.audio): per-frame
// cost, preprocessing or features timed apart, what a latency sample covers, FLOPs and graph buffers, or why not.
#include <map>
#include <set>

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/report/report_sections.h"

namespace accel::report {
namespace {

std::string num_or_dash(std::optional<double> v) {
    return v ? format_number(*v) : "-";
}

// A figure that is either there or unavailable: "n/a" in its cell, the reason once in the notes.
std::string figure_or_na(std::optional<double> v, const std::string& arch, const std::string& what,
                         const std::string& reason, std::map<std::string, std::string>& why) {
    if (v) return format_number(*v);
    why[fmt::format("{} for {}", what, arch.empty() ? "this model" : arch)] =
        reason.empty() ? "not counted (the result stores no reason)" : reason;
    return "n/a";
}

std::string latency_text(const ResultRow& r, const MediaPoint& m) {
    if (r.scenario == "vision") return "pass";
    return m.latency_covers.empty() ? "-" : m.latency_covers;
}

}  // namespace

Section media_section(const ReportData& d) {
    Section s{.id = "media", .title = "Image, video and audio points"};
    std::vector<const ResultRow*> rows;
    for (const ResultRow* r : perf_rows(d))
        if (r->media) rows.push_back(r);
    if (rows.empty()) {
        s.no_data = "no vision or audio points: run `accel bench --scenario vision` or `--scenario audio`";
        return s;
    }
    TextTable t{.columns = {"model · device", "scenario", "arch", "shape", "throughput", "latency covers",
                            "per frame ms", "preprocess/features ms", "audio window s", "FLOPs per item", "GFLOP/s",
                            "graph buffers"}};
    std::map<std::string, std::string> why;  // "FLOPs for detr" -> the reason it is n/a
    for (const ResultRow* r : rows) {
        const MediaPoint& m = *r->media;
        const bool vision = r->scenario == "vision";
        std::string shape = point_shape(*r);  // the batch is in it (batch=, from extra.spec)
        if (m.n_frames) shape += fmt::format("{}frames={:.0f}", shape.empty() ? "" : " ", *m.n_frames);
        const std::string tput =
            r->avg_ts ? fmt::format("{} {}", format_number(*r->avg_ts), throughput_unit(*r)) : std::string("-");
        const std::string flops = figure_or_na(m.flops, m.arch, "FLOPs", m.flops_unavailable, why);
        const std::string bytes = !vision                    ? "-"
                                  : m.compute_bytes_measured ? format_bytes(*m.compute_bytes_measured)
                                                             : figure_or_na(std::nullopt, m.arch, "graph buffers",
                                                                            m.compute_bytes_unavailable, why);
        t.rows.push_back({group_label(*r), r->scenario, m.arch.empty() ? "-" : m.arch, shape.empty() ? "-" : shape,
                          tput, latency_text(*r, m), m.n_frames ? num_or_dash(m.frame_ms) : "-",
                          num_or_dash(m.prep_p50_ms), num_or_dash(m.window_seconds), flops,
                          m.flops ? num_or_dash(m.gflops_per_s) : "n/a", bytes});
    }
    s.notes.push_back(
        "vision: the throughput and latency are the forward pass alone; preprocessing (resize, normalize; xclip's "
        "frame sampling too) is timed apart (p50 per batch). xclip: `batch` clips of `frames` frames per pass, "
        "clips/s, per frame = the pass's mean time / (frames x batch). audio: the real-time factor (audio s/s) over "
        "what a latency sample covers (pass: the model alone; features+...: the features included); features: mean "
        "ms. n/a: not counted or not reported, never 0.");
    for (const auto& [what, reason] : why) s.notes.push_back(fmt::format("n/a: {}: {}", what, reason));
    s.tables.push_back(std::move(t));
    s.source = source_of_rows(d, rows);
    return s;
}

}  // namespace accel::report
