#include <algorithm>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/point_result.h"
#include "accel/bench/run_recorder.h"
#include "accel/bench/statistics.h"
#include "accel/hw/roofline.h"
#include "accel/report/html_report.h"
#include "accel/report/markdown_report.h"
#include "accel/report/report.h"
#include "accel/report/report_analysis.h"
#include "accel/report/report_data.h"
#include "accel/report/report_sections.h"
#include "accel/report/report_summary.h"
#include "accel/report/roofline_plot.h"
#include "accel/report/sample_ratio.h"
#include "accel/store/database.h"
#include "report_fixture.h"
#include "test_support.h"

namespace {

using namespace accel::report;
using accel::report::test::write_fixture_db;
using accel::report::test::write_summary_fixture_db;
namespace fs = std::filesystem;

fs::path source_dir() {
    const char* s = std::getenv("ACCEL_SOURCE_DIR");
    return s ? fs::path(s) : fs::path(".");
}

// Compares with tests/report/golden/<name>; ACCEL_UPDATE_GOLDEN=1 rewrites the file instead (review the diff).
void expect_golden(const std::string& name, const std::string& actual) {
    const fs::path golden = source_dir() / "tests/report/golden" / name;
    if (const char* u = std::getenv("ACCEL_UPDATE_GOLDEN"); u && std::string(u) == "1") {
        accel::test::write_file(golden, actual);
        GTEST_SKIP() << "rewrote " << golden;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden << " is missing: run with ACCEL_UPDATE_GOLDEN=1";
    EXPECT_EQ(actual, accel::test::read_file(golden)) << "golden " << name << " differs";
}

class ReportTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        accel::report::test::use_private_cache_dir();
        dir_ = new accel::test::TempDir();
        write_fixture_db(db());
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    static fs::path db() { return *dir_ / "r.duckdb"; }
    static ReportData load(const ReportOptions& o = {}) {
        auto d = accel::store::Database::open(db());
        return load_report_data(d, o);
    }
    static accel::test::TempDir* dir_;
};
accel::test::TempDir* ReportTest::dir_ = nullptr;

TEST_F(ReportTest, MarkdownGolden) {
    const auto r = accel::test::run_accel({"report", "--db", db().string(), "--format", "markdown"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_golden("report.md", r.out);
}

TEST_F(ReportTest, MarkdownGoldenForOneRunAgainstABaseline) {
    const auto r = accel::test::run_accel(
        {"report", "--db", db().string(), "--format", "markdown", "--run", "run-0001", "--baseline", "nightly-1"});
    // pp went from 10 ms to 12 ms per repetition over 10 samples each: a regression, so exit 3.
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("1 regression(s) against baseline nightly-1"), std::string::npos) << r.err;
    expect_golden("report-run-baseline.md", r.out);
}

TEST_F(ReportTest, LoadsEveryPointOnceWithItsSamples) {
    const ReportData d = load();
    EXPECT_EQ(d.runs.size(), 4u);
    ASSERT_EQ(d.machines.size(), 1u);
    EXPECT_FALSE(d.rooflines.at(0).available);  // no `detect --measure` cache for the fixture machine
    // The baseline's pp point and run-0001's pp point have the same shape: only the newer is shown.
    EXPECT_EQ(d.n_superseded, 1);
    EXPECT_EQ(d.results.size(), 11u);
    EXPECT_EQ(d.failures.size(), 1u);
    EXPECT_EQ(d.data_until, "2026-11-18 11:40:40");  // the last trade-off result
    for (const auto& r : d.results) {
        if (r.id == "res-pp") {
            EXPECT_EQ(r.samples_ns.size(), 10u);
            EXPECT_EQ(r.samples_ns.front(), 12'000'000);
            EXPECT_EQ(*r.prefill_flops_pct, 112.5);
            EXPECT_EQ(r.roofline_defect, "above 100% of the measured roof") << "flagged, never a plain percentage";
            EXPECT_EQ(*r.memory_estimate_bytes, 1000000.0 + (2 << 20));
        }
        if (r.id == "res-tg") {
            EXPECT_DOUBLE_EQ(*r.tpot_ns, 2'250'000.0);
        }
    }
    const auto one = load({.run = "run-0001"});
    EXPECT_EQ(one.runs.size(), 1u);
    EXPECT_EQ(one.results.size(), 5u);
    EXPECT_EQ(load({.since = "2026-11-18 11:30"}).runs.size(), 1u);  // only the trade-off run started after
}

TEST_F(ReportTest, DerivedFiguresAreExact) {
    const ReportData d = load();
    const auto ratios = web_ratios(d);
    ASSERT_EQ(ratios.size(), 1u);
    ASSERT_NE(ratios[0].native, nullptr);
    EXPECT_EQ(ratios[0].native->id, "res-web-native");  // the same run's native figure, not res-tg
    EXPECT_NEAR(*ratios[0].ratio, 0.5, 1e-12);

    const auto rows = tradeoff_rows(d);
    const auto pareto = pareto_optimal(rows);
    std::set<std::string> optimal;
    for (size_t i = 0; i < rows.size(); ++i)
        if (pareto[i]) optimal.insert(rows[i]->tradeoffs->variant);
    // q4_0 is dominated by q4_0-fa (less memory, faster, same perplexity); f16 has the best perplexity.
    EXPECT_EQ(optimal, (std::set<std::string>{"f16", "q4_0-ctk-q8_0", "q4_0-fa"}));

    std::map<std::string, double> reduction;
    for (const auto& x : tradeoff_reductions(d))
        if (x.reduction) reduction[x.claim + "|" + x.metric + "|" + x.variant] = *x.reduction;
    EXPECT_NEAR(reduction.at("4-bit weights: 75% less memory|weights bytes|q4_0"), 1 - 1.1 / 4, 1e-12);
    EXPECT_NEAR(reduction.at("KV cache quantization: 25-75% less KV memory|KV bytes|q4_0-ctk-q8_0"), 1 - 4.25 / 8,
                1e-12);
    EXPECT_NEAR(reduction.at("flash attention: 45% less memory|compute buffer bytes|q4_0-fa"), 0.5, 1e-12);

    const auto cells = compat_cells(d);
    ASSERT_EQ(cells.size(), 3u);  // cpu, cuda0 (the failure), wasm
    EXPECT_EQ(cells[1].col, "cuda0 · Q4_0");
    EXPECT_EQ(cells[1].n_failed, 1);
    EXPECT_EQ(cells[1].evidence, std::vector<std::string>{"fail-1"});
}

TEST_F(ReportTest, HtmlEscapesDatabaseTextAndLinksEvidence) {
    const std::string html = render_html(load());
    EXPECT_EQ(html.find("<b>|model</b>"), std::string::npos);
    EXPECT_NE(html.find("tiny &lt;b&gt;|model&lt;/b&gt; &amp; &#39;x&#39;"), std::string::npos);
    EXPECT_NE(html.find("out of memory | needs 2 GiB &lt;more&gt;"), std::string::npos);
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find(" src="), std::string::npos);  // nothing is loaded from anywhere
    // Every in-page link has its target.
    std::set<std::string> ids;
    std::regex id_re("id=\"([^\"]+)\"");
    for (std::sregex_iterator it(html.begin(), html.end(), id_re), end; it != end; ++it) ids.insert((*it)[1].str());
    std::regex href_re("href=\"#([^\"]+)\"");
    size_t n_links = 0;
    for (std::sregex_iterator it(html.begin(), html.end(), href_re), end; it != end; ++it, ++n_links)
        EXPECT_TRUE(ids.count((*it)[1].str())) << "dangling link #" << (*it)[1].str();
    EXPECT_GT(n_links, 12u);
    EXPECT_TRUE(ids.count("ev-fail-1"));
    // The failed cell of the heatmap says so and links to the failure's reason.
    EXPECT_NE(html.find("<a href=\"#ev-fail-1\"><rect class=\"pt cell\""), std::string::npos);
    EXPECT_NE(html.find(">1 failed</text>"), std::string::npos);
    EXPECT_NE(html.find(">11 ok</text>"), std::string::npos);
    // Every chart has data points, and states its source and the command to reproduce it.
    std::regex pts("data-points=\"([0-9]+)\"");
    size_t n_charts = 0;
    for (std::sregex_iterator it(html.begin(), html.end(), pts), end; it != end; ++it, ++n_charts)
        EXPECT_NE((*it)[1].str(), "0");
    EXPECT_GE(n_charts, 10u);
    size_t n_captions = 0;
    for (size_t p = html.find("<figcaption>Source: run <code>"); p != std::string::npos;
         p = html.find("<figcaption>Source: run <code>", p + 1))
        ++n_captions;
    EXPECT_EQ(n_captions, n_charts);
    EXPECT_NE(html.find("reproduce with <code>accel tradeoffs --model tiny.gguf</code>"), std::string::npos);
    EXPECT_NE(html.find("@media print"), std::string::npos);
}

TEST_F(ReportTest, ShowsTheCachedRooflineOfTheMachine) {
    accel::hw::Roofline r{.fingerprint = "report-test-machine",
                          .measured_at = "2026-11-18T11:00:00Z",
                          .accel_version = "0.0.0-test",
                          .duration_s = 1.5};
    r.bandwidth.push_back({.kernel = "read",
                           .threads = 2,
                           .array_bytes = 1 << 26,
                           .gb_per_s = {.median = 40, .min = 33, .max = 43, .n = 5}});
    r.matmul.push_back({.device = "cpu",
                        .type = "q4_0",
                        .m = 2048,
                        .n = 256,
                        .k = 2048,
                        .threads = 2,
                        .gflops = {.median = 184, .min = 160, .max = 187, .n = 5}});
    r.unavailable.push_back({.what = "matmul cuda0 q4_0", .reason = "no CUDA device"});
    const fs::path cache = accel::hw::roofline_cache_path("report-test-machine");
    fs::create_directories(cache.parent_path());
    accel::hw::save_roofline(r, cache);
    const ReportData d = load();
    const std::string html = render_html(d);
    fs::remove(cache);  // the golden tests expect no roofline
    ASSERT_EQ(d.rooflines.size(), 1u);
    ASSERT_TRUE(d.rooflines[0].available) << d.rooflines[0].note;
    ASSERT_EQ(d.rooflines[0].figures.size(), 2u);
    EXPECT_EQ(d.rooflines[0].figures[0].what, "memory bandwidth read, 2 thread(s)");
    EXPECT_EQ(d.rooflines[0].figures[1].unit, "GFLOP/s");
    EXPECT_NE(html.find("Roofline of report-test-machine: median, min-max bars (GB/s)"), std::string::npos);
    EXPECT_NE(html.find("reproduce with <code>accel detect --measure</code>"), std::string::npos);
    EXPECT_NE(html.find("unavailable: no CUDA device"), std::string::npos);
}

// The roofline plot places each point where the stored figures put it, computed here from the fixture's stored
// weight bytes (1e6), repeating-block parameters (250000), token counts and raw times, and flags the point above
// its roof: res-pp carries the bench's defect flag, and a point over a roof set too low is flagged by placement.
TEST_F(ReportTest, RooflinePlotPlacesPointsFromStoredBytesFlopsAndTimes) {
    const fs::path cache = accel::report::test::write_fixture_roofline();
    const ReportData d = load();
    const std::string html = render_html(d);
    fs::remove(cache);
    const auto mean_ts = [](int n, int64_t base, int tokens) {
        double sum = 0;
        for (int i = 0; i < n; ++i) sum += tokens * 1e9 / static_cast<double>(base + base * (i % 5) / 50);
        return sum / n;
    };
    const double flop_per_token = 2.0 * 250000;
    const double tg_gflops = flop_per_token * mean_ts(5, 40'000'000, 16) / 1e9;
    const double pp_gflops = flop_per_token * mean_ts(10, 12'000'000, 64) / 1e9;
    const auto plots = roofline_plots(d);
    ASSERT_EQ(plots.size(), 1u);
    ASSERT_TRUE(plots[0].roof.has_value());
    EXPECT_EQ(*plots[0].roof->bandwidth_gbs, 40.0);
    std::map<std::string, RooflinePlotPoint> by_id;
    for (const auto& p : plots[0].points) by_id[p.row->id] = p;
    ASSERT_TRUE(by_id.count("res-tg") && by_id.count("res-pp"));
    EXPECT_NEAR(by_id["res-tg"].at.flop_per_byte, flop_per_token / 1e6, 1e-12);  // decode: all weights per token
    EXPECT_NEAR(by_id["res-tg"].at.gflops, tg_gflops, 1e-9);
    EXPECT_EQ(by_id["res-tg"].bound, "memory");
    EXPECT_NEAR(*by_id["res-tg"].roof_gflops, 40 * 0.5, 1e-12);
    EXPECT_FALSE(by_id["res-tg"].above_roof);
    EXPECT_NEAR(by_id["res-pp"].at.flop_per_byte, flop_per_token / (1e6 / 64), 1e-9);  // prefill: per 64-token batch
    EXPECT_NEAR(by_id["res-pp"].at.gflops, pp_gflops, 1e-9);
    EXPECT_EQ(by_id["res-pp"].bound, "compute");
    EXPECT_TRUE(by_id["res-pp"].above_roof) << "the stored defect flag is shown, never dropped";
    // The chart carries the same figures.
    EXPECT_NE(html.find(fmt::format("data-x=\"{:.6g}\" data-y=\"{:.6g}\"", 0.5, tg_gflops)), std::string::npos);
    EXPECT_NE(html.find(fmt::format("data-x=\"{:.6g}\" data-y=\"{:.6g}\"", 32.0, pp_gflops)), std::string::npos);
    EXPECT_NE(html.find("memory 40.0 GB/s"), std::string::npos);
    EXPECT_NE(html.find("q4_0 184 GFLOP/s"), std::string::npos);

    // A roof measured too low: the point lands above it and is flagged by its placement alone.
    ReportData low;
    low.rooflines.push_back({.machine_id = "m", .available = true, .roofs = {{.device = "cpu", .bandwidth_gbs = 0.1}}});
    ResultRow row = *by_id["res-tg"].row;
    row.machine_id = "m";
    row.roofline_defect.clear();
    low.results.push_back(row);
    const auto lp = roofline_plots(low);
    ASSERT_EQ(lp.size(), 1u);
    ASSERT_EQ(lp[0].points.size(), 1u);
    EXPECT_NEAR(*lp[0].points[0].roof_gflops, 0.05, 1e-12);
    EXPECT_TRUE(lp[0].points[0].above_roof);
}

// The chart of one title in an HTML report ("" when absent).
std::string chart_titled(const std::string& html, const std::string& title) {
    const size_t at = html.find("aria-label=\"" + title + "\"");
    if (at == std::string::npos) return "";
    const size_t open = html.rfind("<svg", at);
    return html.substr(open, html.find("</svg>", at) - open);
}

// A server sweep's throughput-latency curve: every plotted point is a stored (achieved qps, p50/p99) pair, and the
// SLO line sits where the chart's own scale puts the stored limit (derived from two plotted points, not from the
// renderer's code). The figures come from the database by SQL, not from the fixture's constants.
TEST_F(ReportTest, ServerCurvesPlotStoredFiguresWithTheStoredSloLine) {
    std::vector<std::pair<double, double>> stored;  // (achieved qps, latency ms)
    std::set<double> slo_p99, slo_ttft;
    {
        auto d = accel::store::Database::open(db());
        const auto q = d.query(
            "SELECT extra->'server'->>'achieved_qps', extra->'server'->>'p50_ms', extra->'server'->>'p99_ms', "
            "extra->'server'->'slo_limits'->>'p99_ms', extra->'server'->'slo_limits'->>'ttft_p99_ms' "
            "FROM results WHERE scenario = 'server'");
        ASSERT_EQ(q.rows.size(), 3u);
        for (const auto& row : q.rows) {
            stored.emplace_back(std::stod(*row[0]), std::stod(*row[1]));
            stored.emplace_back(std::stod(*row[0]), std::stod(*row[2]));
            slo_p99.insert(std::stod(*row[3]));
            slo_ttft.insert(std::stod(*row[4]));
        }
    }
    ASSERT_EQ(slo_p99, (std::set<double>{60.0}));
    const std::string html = render_html(load());
    const std::string svg = chart_titled(html, "Latency p50 and p99 versus achieved throughput");
    ASSERT_FALSE(svg.empty()) << "no throughput-latency chart";
    std::vector<std::pair<double, double>> plotted;
    std::vector<std::pair<double, double>> value_to_pixel;  // (latency ms, cy)
    const std::regex pt("<circle class=\"pt\" cx=\"[0-9.]+\" cy=\"([0-9.]+)\" r=\"[0-9.]+\" "
                        "data-x=\"([0-9.e+-]+)\" data-y=\"([0-9.e+-]+)\"");
    for (std::sregex_iterator it(svg.begin(), svg.end(), pt), end; it != end; ++it) {
        plotted.emplace_back(std::stod((*it)[2].str()), std::stod((*it)[3].str()));
        value_to_pixel.emplace_back(std::stod((*it)[3].str()), std::stod((*it)[1].str()));
    }
    auto sorted = [](auto v) {
        std::sort(v.begin(), v.end());
        return v;
    };
    EXPECT_EQ(sorted(plotted), sorted(stored));
    EXPECT_NE(svg.find("data-points=\"6\""), std::string::npos);
    // The y scale from the two most distant points, then where 60 ms must be drawn.
    const auto [lo, hi] = std::minmax_element(value_to_pixel.begin(), value_to_pixel.end());
    ASSERT_NE(lo->first, hi->first);
    const double px_per_ms = (hi->second - lo->second) / (hi->first - lo->first);
    const double expected_y = lo->second + (60.0 - lo->first) * px_per_ms;
    std::smatch line;
    ASSERT_TRUE(
        std::regex_search(svg, line, std::regex("<line class=\"ref\" data-y=\"([0-9.]+)\"[^>]* y1=\"([0-9.]+)\"")))
        << svg;
    EXPECT_EQ(std::stod(line[1].str()), 60.0);
    EXPECT_NEAR(std::stod(line[2].str()), expected_y, 0.15);  // pixels are written with one decimal
    EXPECT_NE(svg.find("SLO p99 &lt;= 60 ms"), std::string::npos);
    EXPECT_NE(svg.find("<desc>"), std::string::npos) << "the text alternative";
    // TTFT has its own line at its own limit; TPOT had none stored, so its chart has no line.
    const std::string ttft = chart_titled(html, "TTFT p99 versus achieved throughput");
    EXPECT_NE(ttft.find(fmt::format("<line class=\"ref\" data-y=\"{}\"", *slo_ttft.begin())), std::string::npos);
    const std::string tpot = chart_titled(html, "TPOT p99 versus achieved throughput");
    ASSERT_FALSE(tpot.empty());
    EXPECT_EQ(tpot.find("class=\"ref\""), std::string::npos);
    EXPECT_NE(tpot.find("No SLO was stored"), std::string::npos);
    // The table, the text alternative, names the SLO and the verdict of each load.
    EXPECT_NE(html.find("p99 &lt;= 60 ms, TTFT p99 &lt;= 6.5 ms: MISS"), std::string::npos);
}

// The latency section's percentiles use the method of every other figure (type 7), not nearest rank: over
// 1..10 ms, p50 = 5.5 ms and p90 = 9.1 ms (nearest rank would give 5 and 9).
TEST(Report, LatencyPercentilesAreType7) {
    std::vector<int64_t> ns;
    for (int64_t i = 10; i >= 1; --i) ns.push_back(i * 1000000);
    const auto st = accel::report::sample_stats(ns);
    ASSERT_TRUE(st.has_value());
    EXPECT_NEAR(st->p50, 5.5e6, 1.0);
    EXPECT_NEAR(st->p90, 9.1e6, 1.0);
    EXPECT_NEAR(st->p99, 9.91e6, 1.0);
    EXPECT_DOUBLE_EQ(st->min, 1e6);
    EXPECT_DOUBLE_EQ(st->max, 10e6);
}

// Two variants of one model alike but for perplexity: the worse one is dominated, unless the weights are random,
// where perplexity ranks nothing.
TEST(Report, RandomWeightPerplexityIsLeftOutOfTheParetoRanking) {
    using accel::report::ResultRow;
    using accel::report::TradeoffPoint;
    for (const bool random : {false, true}) {
        ResultRow a{.model = "m"}, b{.model = "m"};
        a.tradeoffs = TradeoffPoint{.peak_rss_bytes = 100, .tg_ts = 10, .perplexity = 5, .random_weights = random};
        b.tradeoffs = TradeoffPoint{.peak_rss_bytes = 100, .tg_ts = 10, .perplexity = 6, .random_weights = random};
        const auto pareto = accel::report::pareto_optimal({&a, &b});
        EXPECT_TRUE(pareto[0]);
        EXPECT_EQ(pareto[1], random) << (random ? "random weights" : "trained");
    }
}

// Times in exact proportion: the ratio is the factor, and the interval is symmetric around it on the log scale
// (every pairwise log ratio is log(c) plus a difference that occurs with both signs).
TEST(SampleRatio, ProportionalSamplesGiveTheFactorWithASymmetricInterval) {
    std::vector<int64_t> fast, slow;
    for (int i = 0; i < 10; ++i) {
        fast.push_back(20'000'000 + 400'000 * (i % 5));
        slow.push_back(25'000'000 + 500'000 * (i % 5));
    }
    const auto r = time_ratio(slow, fast);
    ASSERT_TRUE(r.has_value());
    EXPECT_NEAR(r->ratio, 1.25, 1e-12);
    ASSERT_TRUE(r->ci_low && r->ci_high);
    EXPECT_NEAR(*r->ci_low * *r->ci_high, 1.25 * 1.25, 1e-9);
    EXPECT_GT(*r->ci_low, 1.0);
    EXPECT_LT(r->p_value, 0.001);
    EXPECT_TRUE(r->measurable);
    EXPECT_EQ(describe_ratio(*r, "the default's speed").rfind("1.25x the default's speed (95% CI ", 0), 0u);
}

TEST(SampleRatio, OverlappingOrFewSamplesAreNoMeasurableDifference) {
    std::vector<int64_t> a, b;
    for (int i = 0; i < 10; ++i) {
        a.push_back(30'000'000 + 600'000 * (i % 5));
        b.push_back(29'700'000 + 594'000 * (i % 5));  // 1% faster, inside a spread of 8%
    }
    const auto r = time_ratio(a, b);
    ASSERT_TRUE(r.has_value());
    EXPECT_NEAR(r->ratio, 30.0 / 29.7, 1e-9);
    EXPECT_FALSE(r->measurable);
    EXPECT_LT(*r->ci_low, 1.0);
    EXPECT_GT(*r->ci_high, 1.0);
    EXPECT_EQ(describe_ratio(*r, "x").rfind("no measurable difference from x (1.01x, 95% CI ", 0), 0u);
    // Three against three cannot reach 95% however far apart: no interval, no claim.
    const auto few = time_ratio({30, 31, 32}, {10, 11, 12});
    ASSERT_TRUE(few.has_value());
    EXPECT_FALSE(few->ci_low.has_value());
    EXPECT_FALSE(few->measurable);
    EXPECT_NE(describe_ratio(*few, "x").find("too few samples for a 95% interval: 3 and 3"), std::string::npos);
    EXPECT_FALSE(time_ratio({}, {1}).has_value());
}

// The summary of a fixed warehouse: the known best (t=1, 1.25x the default), a planted regression (the default tg
// point went from 20 to 25 ms per repetition against nightly-s), an INVALID result and a failed load.
TEST(ReportSummary, MarkdownGoldenWithBestRegressionAndFailures) {
    accel::test::TempDir dir;
    write_summary_fixture_db(dir / "s.duckdb");
    const auto r = accel::test::run_accel({"report", "--db", (dir / "s.duckdb").string(), "--format", "markdown",
                                           "--run", "sum-new", "--baseline", "nightly-s"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    const std::string& md = r.out;
    const size_t summary = md.find("## Summary"), first_section = md.find("## Runs");
    ASSERT_NE(summary, std::string::npos);
    ASSERT_LT(summary, first_section) << "the answer comes first";
    const std::string top = md.substr(summary, first_section - summary);
    EXPECT_NE(top.find("### ⚠ Failed checks and INVALID results"), std::string::npos) << top;
    EXPECT_NE(top.find("failed at load: out of memory: needs 2 GiB → [failure s-fail-load](#compatibility-matrix)"),
              std::string::npos)
        << top;
    EXPECT_NE(top.find("cpu pp p=64 b=2048 t=2: INVALID, the result failed its check → [result s-pp-invalid]"),
              std::string::npos)
        << top;
    EXPECT_NE(top.find("tg n=16: throughput best t=1 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1: 770 tokens/s; 1.25x "
                       "the default's speed (95% CI "),
              std::string::npos)
        << top;  // 16 tokens over 20, 20.4, ... 21.6 ms: a mean of 770 tokens/s
    EXPECT_NE(top.find("tg n=32: throughput best t=0 b=2048 ub=512 kv=f16/f16 fa=on ngl=-1: 1037 tokens/s; no "
                       "measurable difference from the default's speed"),
              std::string::npos)
        << top;
    EXPECT_NE(top.find("memory best t=0 b=512 ub=128 kv=f16/f16 fa=auto ngl=-1: peak RSS 38.15 MiB; 0.67x"),
              std::string::npos)
        << top;
    // Energy: the package domain only (core lies inside it), over 10 repetitions x 16 tokens.
    EXPECT_NE(top.find(fmt::format("energy best t=1 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1: {} J/token (upper bound); "
                                   "0.80x the default's ({} J/token; one measurement each",
                                   format_number(6.4 / 160), format_number(8.0 / 160))),
              std::string::npos)
        << top;
    EXPECT_NE(top.find("Energy per token unavailable for 1 of 2 test(s): no RAPL counter (1 test(s))"),
              std::string::npos)
        << top;
    EXPECT_NE(top.find("### ⚠ Regressions against the baseline"), std::string::npos) << top;
    EXPECT_NE(top.find("median latency +25.0% against nightly-s"), std::string::npos) << top;
    EXPECT_NE(top.find("### Noisy points\n\n- summary-model · cpu tg"), std::string::npos) << top;
    expect_golden("summary.md", md);
}

// Each scenario's cost in its own unit, from its throughput: 3.6 per machine-hour is 0.001 per second, so 50 tokens/s
// costs 20 per million tokens, 50 images/s 0.02 per thousand images, and audio at 4 audio seconds per second
// (an hour of audio in 900 s) 0.9 per audio hour.
TEST(ReportCost, EachScenarioInItsOwnUnit) {
    accel::bench::PriceTable prices{.any = 3.6};
    accel::report::ResultRow r;
    r.avg_ts = 50;
    r.scenario = "tg";
    EXPECT_NEAR(*accel::report::cost_per_unit(r, prices), 20.0, 1e-12);
    EXPECT_STREQ(accel::report::cost_unit(r).name, "million tokens");
    r.scenario = "vision";
    EXPECT_NEAR(*accel::report::cost_per_unit(r, prices), 0.02, 1e-12);
    EXPECT_STREQ(accel::report::cost_unit(r).name, "thousand images");
    EXPECT_STREQ(accel::report::throughput_unit(r), "images/s");
    r.scenario = "audio";
    r.avg_ts = 4;
    EXPECT_NEAR(*accel::report::cost_per_unit(r, prices), 0.9, 1e-12);
    EXPECT_STREQ(accel::report::cost_unit(r).name, "audio hour");
    r.avg_ts.reset();
    EXPECT_FALSE(accel::report::cost_per_unit(r, prices).has_value());
    r.avg_ts = 4;
    EXPECT_FALSE(accel::report::cost_per_unit(r, accel::bench::PriceTable{}).has_value());
}

// With a price per machine-hour the summary and the throughput table show the cost per million tokens, computed
// from the measured throughput; without one, no cost anywhere; a price that is not positive is exit 2.
TEST(ReportSummary, CostPerMillionTokensOnlyWithAGivenPrice) {
    accel::test::TempDir dir;
    write_summary_fixture_db(dir / "s.duckdb");
    const std::string db = (dir / "s.duckdb").string();
    const auto r = accel::test::run_accel(
        {"report", "--db", db, "--format", "markdown", "--run", "sum-new", "--price-per-hour", "3.6"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    double mean_ts = 0;  // t=1: 16 tokens over 20 ms x (1, 1.02, ..., 1.08), twice
    for (int i = 0; i < 10; ++i) mean_ts += 16e9 / (20e6 * (1 + 0.02 * (i % 5))) / 10;
    const double cost = 3.6 / (mean_ts * 3600) * 1e6;
    EXPECT_NE(r.out.find(fmt::format("770 tokens/s ({:.2f} per million tokens at 3.60 per machine-hour)", cost)),
              std::string::npos)
        << r.out.substr(0, 3000);
    EXPECT_NE(r.out.find("| cost per 1M tokens |"), std::string::npos);
    const auto plain = accel::test::run_accel({"report", "--db", db, "--format", "markdown"});
    EXPECT_EQ(plain.out.find("per million"), std::string::npos);
    EXPECT_EQ(plain.out.find("cost per 1M"), std::string::npos);
    const auto bad = accel::test::run_accel({"report", "--db", db, "--price-per-hour", "-1"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("--price-per-hour must be a positive number"), std::string::npos) << bad.err;
}

// The configuration file's [price]: per machine fingerprint (a prefix), else per device, else per_hour; the flag
// replaces the file. The price is looked up by each result's machine and device.
TEST(ReportSummary, CostFromTheConfigFilePerMachineOrDevice) {
    accel::test::TempDir dir;
    write_summary_fixture_db(dir / "s.duckdb");
    const std::string db = (dir / "s.duckdb").string();
    std::string machine;
    {
        auto d = accel::store::Database::open(dir / "s.duckdb");
        machine = d.query("SELECT machine_id FROM runs WHERE id = 'sum-new'").rows.at(0).at(0).value_or("");
    }
    ASSERT_GE(machine.size(), 6u);
    double mean_ts = 0;  // t=1, as in CostPerMillionTokensOnlyWithAGivenPrice
    for (int i = 0; i < 10; ++i) mean_ts += 16e9 / (20e6 * (1 + 0.02 * (i % 5))) / 10;
    const auto report = [&](const std::string& toml, std::vector<std::string> extra = {}) {
        accel::test::write_file(dir / "config.toml", toml);
        std::vector<std::string> args = {"report", "--db", db, "--format", "markdown", "--run", "sum-new"};
        args.insert(args.end(), extra.begin(), extra.end());
        return accel::test::run_accel(args, {"ACCEL_CONFIG=" + (dir / "config.toml").string()});
    };
    const auto expect_cost = [&](const accel::test::ProcessResult& r, double price) {
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const double cost = price / (mean_ts * 3600) * 1e6;
        EXPECT_NE(r.out.find(fmt::format("770 tokens/s ({} per million tokens at {} per machine-hour)",
                                         format_number(cost), format_number(price))),
                  std::string::npos)
            << price << "\n" << r.out.substr(0, 3000);
    };
    expect_cost(report("[price.device]\ncpu = 7.2\n"), 7.2);
    expect_cost(report("[price]\nper_hour = 1.5\n[price.device]\ncuda0 = 7.2\n"), 1.5);
    expect_cost(report(fmt::format("[price.device]\ncpu = 7.2\n[price.machine]\n\"{}\" = 2.4\n", machine.substr(0, 8))),
                2.4);
    expect_cost(report("[price.device]\ncpu = 7.2\n", {"--price-per-hour", "3.6"}), 3.6);
    const auto other = report("[price.device]\ncuda0 = 7.2\n");  // no price applies to cpu: no cost on its lines
    EXPECT_EQ(other.out.find("per million tokens at"), std::string::npos);
    const auto bad = report("[price.machine]\nabc = 1\n");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("price.machine.abc: a machine key is its fingerprint id"), std::string::npos) << bad.err;
}

// Tables sort with JavaScript on; with it off (or in print) every row is already in the HTML, in stored order.
TEST_F(ReportTest, TablesAreSortableButNeedNoScript) {
    const ReportData d = load();
    const std::string html = render_html(d);
    EXPECT_NE(html.find("<table class=\"sortable\">"), std::string::npos);
    EXPECT_NE(html.find("data-sortable"), std::string::npos);
    for (const ResultRow* r : perf_rows(d))
        EXPECT_NE(html.find("<tr id=\"" + anchor_id("pt-", r->id) + "\">"), std::string::npos) << r->id;
    EXPECT_NE(html.find("@media print {\n  table.sortable th::after { content: none; }"), std::string::npos);
}

// The matrix across machines and devices: the best valid throughput per model, test, machine and device.
TEST(ReportMachines, MatrixOfTheHeadlineFigureAcrossMachinesAndDevices) {
    ReportData d;
    d.machines.push_back({.id = "aaaaaaaaaaaaaaaa", .cpu_model = "CPU A"});
    const auto row = [](std::string id, std::string machine, std::string device, double ts, bool valid = true) {
        ResultRow r{.id = std::move(id), .model = "m", .model_name = "m", .scenario = "tg",
                    .device = std::move(device)};
        r.n_gen = 128;
        r.avg_ts = ts;
        r.valid = valid;
        r.machine_id = std::move(machine);
        return r;
    };
    d.results = {row("a1", "aaaaaaaaaaaaaaaa", "cpu", 50), row("a2", "aaaaaaaaaaaaaaaa", "cpu", 60),
                 row("a3", "aaaaaaaaaaaaaaaa", "cpu", 90, false), row("b1", "bbbb", "cuda0", 400)};
    const Section s = machines_section(d);
    ASSERT_TRUE(s.no_data.empty()) << s.no_data;
    const TextTable& t = s.tables.at(0);
    EXPECT_EQ(t.columns, (std::vector<std::string>{"model", "test", "aaaaaaaaaaaa (CPU A) · cpu", "bbbb · cuda0",
                                                   "evidence"}));
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.rows[0], (std::vector<std::string>{"m", "tg p=0 n=128", "60.0 tokens/s", "400 tokens/s", "a2,b1"}));
    // The same figures as grouped bars, one group per model and test, one bar per machine and device.
    d.rooflines.push_back({.machine_id = "aaaaaaaaaaaaaaaa"});  // one per machine, as load_report_data gives
    const std::string html = render_html(d);
    const size_t chart = html.find("aria-label=\"Best mean throughput per machine and device\"");
    ASSERT_NE(chart, std::string::npos);
    const std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
    EXPECT_NE(svg.find("data-points=\"2\""), std::string::npos) << svg;
    EXPECT_NE(svg.find("data-value=\"60\""), std::string::npos);
    EXPECT_NE(svg.find("data-value=\"400\""), std::string::npos);
    EXPECT_NE(svg.find(">m · tg p=0 n=128</text>"), std::string::npos) << svg;
    d.results.pop_back();
    EXPECT_NE(machines_section(d).no_data.find("one machine and device"), std::string::npos);
}

// In HTML every summary line links to an element that exists below it.
TEST(ReportSummary, HtmlLinesLinkToExistingAnchors) {
    accel::test::TempDir dir;
    write_summary_fixture_db(dir / "s.duckdb");
    auto db = accel::store::Database::open(dir / "s.duckdb");
    const ReportData d = load_report_data(db, {.run = "sum-new", .baseline = "nightly-s"});
    const Summary sum = build_summary(d, build_sections(d));
    const std::string html = render_html(d);
    size_t n_lines = 0;
    for (const auto& b : sum.blocks) {
        for (const auto& l : b.lines) {
            ++n_lines;
            EXPECT_NE(html.find("id=\"" + l.anchor + "\""), std::string::npos) << l.text;
        }
    }
    EXPECT_GE(n_lines, 9u);
    const auto& best = sum.blocks.at(1).lines.front();
    EXPECT_EQ(best.anchor, "pt-s-tg-t1");
    EXPECT_LT(html.find("<section id=\"summary\""), html.find("<section id=\"runs\""));
}

// class x device x type from the stored conformance cases, with the reason of what did not pass and links to the
// evidence rows.
TEST(ReportClasses, KeyClassesTableFromStoredConformanceCases) {
    accel::test::TempDir dir;
    accel::report::test::write_conform_fixture_db(dir / "c.duckdb");
    auto db = accel::store::Database::open(dir / "c.duckdb");
    const ReportData d = load_report_data(db, {});
    ASSERT_EQ(d.conformance.size(), 4u);
    const Section s = key_classes_section(d);
    ASSERT_TRUE(s.no_data.empty()) << s.no_data;
    const TextTable& t = s.tables.at(0);
    EXPECT_EQ(t.columns, (std::vector<std::string>{"class", "llama.cpp architecture", "cpu · f32", "cpu · q4_0",
                                                   "evidence"}));
    ASSERT_EQ(t.rows.size(), 13u);
    std::map<std::string, std::vector<std::string>> row;
    for (const auto& r : t.rows) row[r[0]] = r;
    EXPECT_EQ(row["llama"], (std::vector<std::string>{"llama", "llama", "pass", "pass", "conf-llama-f32,conf-llama-q4_0"}));
    EXPECT_EQ(row["qwen2"][2], "fail (nmse 4 above 1e-6)");
    EXPECT_EQ(row["qwen2"][3], "not yet run");
    EXPECT_EQ(row["bert"][2], "unavailable: unsupported (no encoder output)");
    EXPECT_EQ(row["whisper"][2], "unavailable: no llama.cpp architecture");
    EXPECT_EQ(row["t5"][2], "not yet run");
    // The links reach the evidence rows of the compatibility section.
    const std::string html = render_html(d);
    EXPECT_NE(html.find("<a href=\"#ev-conf-qwen2-f32\">"), std::string::npos);
    EXPECT_NE(html.find("id=\"ev-conf-qwen2-f32\""), std::string::npos);
    EXPECT_NE(html.find("id=\"ev-conf-bert-f32\""), std::string::npos);
    EXPECT_EQ(key_classes_section(ReportData{}).no_data, "no conformance cases: run `accel conform --coverage`");
}

TEST(Report, EmptyDatabaseSaysNoDataWithTheCommand) {
    accel::test::TempDir dir;
    { auto db = accel::store::Database::open(dir / "e.duckdb"); }
    const auto r = accel::test::run_accel({"report", "--db", (dir / "e.duckdb").string(), "--format", "markdown"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    size_t n = 0;
    for (size_t p = r.out.find("No data: "); p != std::string::npos; p = r.out.find("No data: ", p + 1)) ++n;
    EXPECT_EQ(n, 14u) << r.out;
    EXPECT_NE(r.out.find("No data: no benchmark results: run `accel bench`."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("run `accel tradeoffs --model M`"), std::string::npos);
    EXPECT_NE(r.out.find("run `accel web-bench --model M --browser chromium,firefox`"), std::string::npos);
}

TEST(Report, WritesHtmlToOutAndPrintsThePath) {
    accel::test::TempDir dir;
    write_fixture_db(dir / "r.duckdb");
    const fs::path out = dir / "sub" / "rep.html";
    auto bad = accel::test::run_accel({"report", "--db", (dir / "r.duckdb").string(), "--out", out.string()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("does not exist"), std::string::npos) << bad.err;
    fs::create_directories(out.parent_path());
    const auto r = accel::test::run_accel({"report", "--db", (dir / "r.duckdb").string(), "--out", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, out.string() + "\n");
    const std::string html = accel::test::read_file(out);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(html.find("</html>\n"), std::string::npos);
    for (const auto& e : fs::directory_iterator(out.parent_path()))
        EXPECT_EQ(e.path().filename(), "rep.html");  // no temporary file left behind
}

TEST(Report, BadInputIsExit2WithAOneLineMessage) {
    accel::test::TempDir dir;
    write_fixture_db(dir / "r.duckdb");
    const std::string db = (dir / "r.duckdb").string();
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const Case cases[] = {
        {{"report", "--db", db, "--run", "nope"}, "--run 'nope' matches no run id or tag"},
        {{"report", "--db", db, "--since", "yesterday-ish"}, "--since 'yesterday-ish': expected a date"},
        {{"report", "--db", db, "--baseline", "nope"}, "--baseline 'nope' matches no run id or tag"},
        {{"report", "--db", (dir / "missing.duckdb").string()}, "no such database"},
        {{"report", "--db", db, "--format", "pdf"}, "--format"},
        {{"report", "--db", db, "--run", "run-0001", "--since", "2026-01-01"}, "excludes"},
    };
    for (const auto& c : cases) {
        const auto r = accel::test::run_accel(c.args);
        EXPECT_EQ(r.exit_code, 2) << c.message << ": " << r.err;
        EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    EXPECT_FALSE(fs::exists(dir / "missing.duckdb"));
}

// Image, video and audio points as accel bench stores them (bench::to_result_record): an X-CLIP point in clips/s
// with its per-frame cost, a DETR point stored by an older accel (0 for "not counted", no reason) and a CLAP point.
// The report's own section shows their figures, "n/a" where one is not counted with the reason in a note, never 0.
accel::bench::PointResult media_point(accel::bench::Scenario sc, const std::string& model, int64_t pass_ns,
                                      double per_s) {
    accel::bench::PointResult r;
    r.spec = {.scenario = sc, .model = "/m/" + model, .n_prompt = 2, .n_threads = 1, .embed_batch = 2};
    r.ok = true;
    r.device = "cpu";
    r.n_threads = 1;
    r.model_sha256 = std::string(64, model[0]);
    r.model_arch = model.substr(0, model.find('.'));
    auto& m = r.measurement;
    m.samples_ns = {pass_ns, pass_ns, pass_ns};
    m.samples_ts = {per_s, per_s, per_s};
    m.ns = accel::bench::summarize(std::vector<double>(3, static_cast<double>(pass_ns)));
    m.ts = accel::bench::summarize(m.samples_ts);
    return r;
}

TEST(ReportMedia, VisionAndAudioPointsShowTheirFiguresAndWhatIsNotCounted) {
    using accel::bench::Scenario;
    accel::test::TempDir dir;
    auto xclip = media_point(Scenario::vision, "xclip.gguf", 100'000'000, 20);  // 2 clips per 100 ms pass
    xclip.vision = accel::bench::VisionStats{.arch = "xclip",
                                             .batch = 2,
                                             .n_frames = 4,
                                             .n_source_frames = 8,
                                             .images_per_s = 80,
                                             .clips_per_s = 20,
                                             .frame_ms = 12.5,
                                             .preprocess_p50_ms = 3,
                                             .flops_unavailable = "not counted for xclip: no formula",
                                             .compute_bytes_measured = 1 << 20,
                                             .compute_bytes_unavailable = "no estimate for xclip"};
    auto detr = media_point(Scenario::vision, "detr.gguf", 50'000'000, 40);
    detr.vision = accel::bench::VisionStats{.arch = "detr", .batch = 2, .images_per_s = 40, .preprocess_p50_ms = 2};
    auto detr_rec = accel::bench::to_result_record(detr);
    auto x = nlohmann::json::parse(detr_rec.extra_json);  // as an older accel stored it: 0 for "not counted"
    for (const char* k : {"flops_per_image", "gflops_per_s", "compute_bytes_estimate", "compute_bytes_measured"})
        x["vision"][k] = 0;
    x["vision"].erase("flops_unavailable");
    x["vision"].erase("compute_bytes_unavailable");
    detr_rec.extra_json = x.dump();
    auto clap = media_point(Scenario::audio, "clap.gguf", 10'000'000, 200);  // 2 s of audio per 10 ms pass
    clap.audio = accel::bench::AudioStats{.clip_seconds = 2,
                                          .rtf = 200,
                                          .latency_covers = "pass",
                                          .features_ms = 1.5,
                                          .encode_ms = 10,
                                          .window_seconds = 3,
                                          .flops_unavailable = "not counted for clap: no FLOP formula yet"};
    accel::report::test::write_run_db(
        dir / "m.duckdb", "media-run", "accel bench --scenario vision,audio",
        {accel::bench::to_result_record(xclip), detr_rec, accel::bench::to_result_record(clap)});
    auto db = accel::store::Database::open(dir / "m.duckdb");
    const ReportData d = load_report_data(db, {});
    ASSERT_EQ(d.results.size(), 3u);
    std::map<std::string, const ResultRow*> by_arch;
    for (const auto& r : d.results) {
        ASSERT_TRUE(r.media.has_value()) << r.id;
        by_arch[r.media->arch] = &r;
    }
    EXPECT_STREQ(throughput_unit(*by_arch.at("xclip")), "clips/s");
    EXPECT_STREQ(cost_unit(*by_arch.at("xclip")).name, "thousand clips");
    EXPECT_STREQ(throughput_unit(*by_arch.at("detr")), "images/s");
    EXPECT_STREQ(throughput_unit(*by_arch.at("clap")), "audio s/s");
    EXPECT_FALSE(by_arch.at("detr")->media->flops.has_value());  // the stored 0 is not a figure
    EXPECT_FALSE(by_arch.at("detr")->media->compute_bytes_measured.has_value());
    // accel's own graphs take no batch size, KV cache or layer split: only the threads are their settings
    EXPECT_EQ(by_arch.at("clap")->config, "t=1");
    EXPECT_EQ(by_arch.at("xclip")->config, "t=1");
    EXPECT_FALSE(by_arch.at("xclip")->is_default);  // accel bench's default is t=0 (every core)

    const Section s = media_section(d);
    ASSERT_TRUE(s.no_data.empty()) << s.no_data;
    const TextTable& t = s.tables.at(0);
    std::map<std::string, std::vector<std::string>> row;
    for (const auto& r : t.rows) row[r[2]] = r;
    ASSERT_EQ(row.size(), 3u);
    // model · device, scenario, arch, shape, throughput, latency covers, per frame ms, preprocess/features ms, audio
    // window s, FLOPs per item, GFLOP/s, graph buffers
    EXPECT_EQ(row["xclip"][4], "20.0 clips/s");
    EXPECT_EQ(row["xclip"][5], "pass");
    EXPECT_EQ(row["xclip"][6], "12.5");
    EXPECT_EQ(row["xclip"][7], "3.00");
    EXPECT_NE(row["xclip"][3].find("batch=2"), std::string::npos) << row["xclip"][3];
    EXPECT_NE(row["xclip"][3].find("frames=4"), std::string::npos) << row["xclip"][3];
    EXPECT_EQ(row["xclip"][3].find("batch=2", row["xclip"][3].find("batch=2") + 1), std::string::npos);  // once
    EXPECT_EQ(row["xclip"][9], "n/a");
    EXPECT_EQ(row["xclip"][10], "n/a");
    EXPECT_EQ(row["xclip"][11], "1.00 MiB");
    EXPECT_EQ(row["detr"][4], "40.0 images/s");
    EXPECT_EQ(row["detr"][6], "-");
    EXPECT_EQ(row["detr"][9], "n/a");
    EXPECT_EQ(row["detr"][11], "n/a");
    EXPECT_EQ(row["clap"][4], "200 audio s/s");
    EXPECT_EQ(row["clap"][5], "pass");
    EXPECT_EQ(row["clap"][7], "1.50");
    EXPECT_EQ(row["clap"][8], "3.00");
    EXPECT_EQ(row["clap"][9], "n/a");
    const auto has_note = [&](const std::string& n) {
        return std::find(s.notes.begin(), s.notes.end(), n) != s.notes.end();
    };
    EXPECT_TRUE(has_note("n/a: FLOPs for xclip: not counted for xclip: no formula"));
    EXPECT_TRUE(has_note("n/a: FLOPs for detr: not counted (the result stores no reason)"));
    EXPECT_TRUE(has_note("n/a: graph buffers for detr: not counted (the result stores no reason)"));
    EXPECT_TRUE(has_note("n/a: FLOPs for clap: not counted for clap: no FLOP formula yet"));
    // both formats carry the section; a report without such points has none (report.md's golden is unchanged)
    const std::string md = render_markdown(d);
    EXPECT_NE(md.find("## Image, video and audio points"), std::string::npos);
    EXPECT_NE(md.find("20.0 clips/s"), std::string::npos);
    EXPECT_NE(md.find("xclip.gguf · cpu, vision p=2 batch=2:"), std::string::npos) << md.substr(0, 3000);  // summary
    EXPECT_EQ(md.find("texts="), std::string::npos);
    EXPECT_NE(render_html(d).find("<section id=\"media\">"), std::string::npos);
}

}  // namespace
