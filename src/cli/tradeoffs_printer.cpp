// accel tradeoffs' output: the measured points as a table (or CSV, Markdown) with the notes, or as JSON.
#include "tradeoffs_printer.h"

#include <algorithm>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/units.h"
#include "accel/core/version.h"

namespace accel::cli {
namespace {

std::string mib_cell(const std::optional<uint64_t>& b) {
    return b ? fmt::format("{:.2f}", to_mib(*b)) : "";
}

std::optional<std::string> num(const std::optional<double>& v, int digits) {
    if (!v) return std::nullopt;
    return fmt::format("{:.{}f}", *v, digits);
}

Table measures_table(const std::vector<bench::TradeoffsMeasure>& ms) {
    Table t{.columns = {"variant",  "type",        "ctk",    "fa",         "ctx",         "mmap",         "ngl",
                        "file MiB", "weights MiB", "KV MiB", "KV est MiB", "compute MiB", "peak RSS MiB", "GPU MiB",
                        "load ms",  "TTFT ms",     "pp t/s", "tg t/s",     "PPL",         "KL",           "cos"},
            .numeric = {false, false, false, false, true, false, true, true, true, true, true,
                        true,  true,  false, true,  true, true,  true, true, true, true}};
    for (const auto& m : ms) {
        t.rows.push_back({m.random_weights ? m.variant + " (random weights)" : m.variant,
                          m.type,
                          m.point.type_k,
                          m.point.flash_attn,
                          std::to_string(m.point.n_ctx),
                          m.point.mmap ? "on" : "off",
                          std::to_string(m.point.n_gpu_layers),
                          mib_cell(m.file_bytes),
                          mib_cell(m.weights_bytes),
                          mib_cell(m.kv_bytes_measured),
                          mib_cell(m.kv_bytes_estimated),
                          mib_cell(m.compute_buffer_bytes),
                          mib_cell(m.peak_rss_bytes),
                          m.device_memory_bytes ? mib_cell(m.device_memory_bytes) : m.device_memory_note,
                          num(m.load_ms, 1),
                          num(m.ttft_ms, 1),
                          num(m.pp_ts, 1),
                          num(m.tg_ts, 1),
                          num(m.perplexity, 3),
                          num(m.kl_mean, 5),
                          num(m.cosine, 5)});
    }
    return t;
}

nlohmann::json skipped_json(const std::vector<bench::SkippedPoint>& skipped) {
    nlohmann::json skip = nlohmann::json::array();
    for (const auto& s : skipped) {
        skip.push_back({{"type_k", s.point.type_k},
                        {"flash_attn", s.point.flash_attn == "on"},
                        {"n_ctx", s.point.n_ctx},
                        {"mmap", s.point.mmap},
                        {"n_gpu_layers", s.point.n_gpu_layers},
                        {"reason", s.reason}});
    }
    return skip;
}

void print_json_doc(const bench::TradeoffsRun& run, const bench::TradeoffsVariant& ref,
                    const std::vector<bench::SkippedPoint>& skipped) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& m : run.measures) rows.push_back(nlohmann::json::parse(bench::to_json_text(m)));
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& f : run.failures) {
        failures.push_back({{"variant", f.variant},
                            {"stage", f.stage},
                            {"reason", f.reason},
                            {"point", nlohmann::json::parse(f.point_json)}});
    }
    nlohmann::json cl = nlohmann::json::array();
    for (const auto& c : run.claims) cl.push_back({{"claim", c.claim}, {"measured", c.measured}});
    print_json({{"schema_version", json_schema_version},
                {"run_id", run.outcome.run_id},
                {"reference", ref.name},
                {"tradeoffs", rows},
                {"failures", failures},
                {"skipped", skipped_json(skipped)},
                {"claims", cl}});
}

}  // namespace

void print_tradeoffs(const bench::TradeoffsRun& run, const bench::TradeoffsVariant& ref,
                     const std::vector<bench::SkippedPoint>& skipped, Format format) {
    if (format == Format::json) {
        print_json_doc(run, ref, skipped);
        return;
    }
    const auto& measures = run.measures;
    const Table t = measures_table(measures);
    fmt::print("{}", render_as(t, format));
    if (format == Format::csv) return;
    fmt::print("quality reference: {} ({}); quality is measured with an f16 KV cache\n", ref.name, ref.type);
    if (std::any_of(measures.begin(), measures.end(), [](const auto& m) { return m.random_weights; })) {
        fmt::print("random weights: synthetic models (accel make-model); their PPL, KL and cos show how far "
                   "a type moves a random model, not the quality of a real one, and rank nothing\n");
    }
    for (const auto& sp : skipped) {
        fmt::print("skipped: ctk {} fa {} ctx {} mmap {} ngl {}: {}\n", sp.point.type_k, sp.point.flash_attn,
                   sp.point.n_ctx, sp.point.mmap ? "on" : "off", sp.point.n_gpu_layers, sp.reason);
    }
    for (const auto& c : run.claims) fmt::print("claim \"{}\": {}\n", c.claim, c.measured);
}

}  // namespace accel::cli
