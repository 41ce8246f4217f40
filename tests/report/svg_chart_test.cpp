#include <cmath>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "accel/report/report.h"
#include "accel/report/svg_chart.h"

namespace {

using namespace accel::report;

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
    return n;
}

std::string data_points(const std::string& svg) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(svg, m, std::regex("data-points=\"([0-9]+)\""))) << svg;
    return m.size() > 1 ? m[1].str() : "";
}

TEST(SvgChart, BarChartHasOneMarkPerBarAndErrorBars) {
    BarChart c{.title = "t",
               .value_label = "tokens/s",
               .bars = {{.label = "a", .value = 10, .err_low = 8, .err_high = 12},
                        {.label = "b", .value = 20, .err_low = 19, .err_high = 21},
                        {.label = "c", .value = 5}}};
    const std::string svg = render_bar_chart(c);
    EXPECT_EQ(data_points(svg), "3");
    EXPECT_EQ(count(svg, "class=\"pt bar\""), 3u);
    EXPECT_EQ(count(svg, "class=\"err\""), 2u);  // the bar without a spread has none
    EXPECT_NE(svg.find("data-value=\"20\""), std::string::npos);
    EXPECT_EQ(svg.find("http"), std::string::npos);
}

// Grouped bars: each group's heading once (not a data mark), each bar in its series' colour, rows below headings.
TEST(SvgChart, GroupedBarsStandSideBySideUnderTheirGroup) {
    BarChart c{.title = "g",
               .value_label = "tokens/s",
               .bars = {{.label = "m1 · cpu", .value = 10, .group = "tiny tg", .series = 0},
                        {.label = "m2 · cuda0", .value = 40, .group = "tiny tg", .series = 1},
                        {.label = "m1 · cpu", .value = 2, .group = "big tg", .series = 0}}};
    const std::string svg = render_bar_chart(c);
    EXPECT_EQ(data_points(svg), "3");
    EXPECT_EQ(count(svg, "class=\"lbl grp\""), 2u);
    EXPECT_EQ(count(svg, "fill=\"#0072b2\" data-value"), 2u);  // series 0
    EXPECT_EQ(count(svg, "fill=\"#e69f00\" data-value"), 1u);  // series 1
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, std::regex("data-value=\"2\"")));
    // Five rows (two headings, three bars): the third bar sits on the fifth row, 30 + 4 * 22 + 4.
    EXPECT_NE(svg.find("y=\"122.0\" width"), std::string::npos) << svg;
}

TEST(SvgChart, EscapesEveryCallerString) {
    const std::string evil = "<script>alert('x')</script> & \"q\"";
    BarChart b{.title = evil, .value_label = evil, .bars = {{.label = evil, .value = 1, .tooltip = evil}}};
    XyChart x{
        .title = evil, .x_label = evil, .y_label = evil, .series = {{.name = evil, .points = {{.x = 1, .y = 2}}}}};
    Histogram h{.title = evil, .x_label = evil, .values = {1, 2, 3}};
    Heatmap m{.title = evil,
              .rows = {evil},
              .cols = {evil},
              .cells = {{.row = evil, .col = evil, .value = 1, .text = evil, .href = "#a\"b", .tooltip = evil}}};
    for (const std::string& svg : {render_bar_chart(b), render_xy_chart(x), render_histogram(h), render_heatmap(m)}) {
        EXPECT_EQ(svg.find("<script"), std::string::npos) << svg;
        EXPECT_EQ(svg.find("'x'"), std::string::npos) << svg;
        EXPECT_NE(svg.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"), std::string::npos);
    }
    EXPECT_NE(render_heatmap(m).find("href=\"#a&quot;b\""), std::string::npos);
}

TEST(SvgChart, XyChartDropsNonFiniteAndNonPositiveOnLogAxis) {
    XyChart c{.title = "t", .x_label = "qps", .y_label = "ms", .log_x = true};
    c.series.push_back({.name = "s1", .points = {{.x = 1, .y = 10}, {.x = 10, .y = 20}, {.x = 0, .y = 5}}});
    c.series.push_back({.name = "s2", .points = {{.x = 100, .y = std::nan("")}, {.x = 100, .y = 30}}});
    const std::string svg = render_xy_chart(c);
    EXPECT_EQ(data_points(svg), "3");
    EXPECT_EQ(count(svg, "<circle class=\"pt"), 3u);
    EXPECT_EQ(count(svg, "class=\"line\""), 1u);  // s2 has one finite point: no line
}

TEST(SvgChart, ScatterHighlightsAndSizes) {
    XyChart c{.title = "pareto", .x_label = "MiB", .y_label = "t/s", .lines = false};
    c.series.push_back({.name = "m", .points = {{.x = 1, .y = 2, .size = 1.0, .highlight = true}, {.x = 2, .y = 1}}});
    const std::string svg = render_xy_chart(c);
    EXPECT_EQ(count(svg, "class=\"pt hl\""), 1u);
    EXPECT_NE(svg.find("r=\"10.0\""), std::string::npos);  // size 1 is the largest radius
    EXPECT_EQ(svg.find("class=\"line\""), std::string::npos);
}

TEST(SvgChart, HistogramCountsEverySampleOnce) {
    Histogram h{.title = "lat", .x_label = "ms", .values = {1, 1, 1, 2, 3, 10}, .n_bins = 9};
    const std::string svg = render_histogram(h);
    std::regex re("<title>[^<]*: ([0-9]+) sample\\(s\\)</title>");
    size_t total = 0, bars = 0;
    for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
        total += std::stoul((*it)[1].str());
        ++bars;
    }
    EXPECT_EQ(total, 6u);
    EXPECT_EQ(data_points(svg), std::to_string(bars));
    EXPECT_NE(svg.find("(6 samples)"), std::string::npos);
    // A single repeated value still draws one bar.
    EXPECT_EQ(data_points(render_histogram({.title = "same", .x_label = "ms", .values = {4, 4, 4}})), "1");
}

TEST(SvgChart, HeatmapLinksCellsToEvidence) {
    Heatmap m{
        .title = "compat",
        .rows = {"llama / llama"},
        .cols = {"cpu · Q4_0", "cuda0 · Q4_0"},
        .cells = {{.row = "llama / llama", .col = "cpu · Q4_0", .value = 1, .text = "2 ok", .href = "#ev-r1"},
                  {.row = "llama / llama", .col = "cuda0 · Q4_0", .value = 0, .text = "0/1 ok", .href = "#ev-f1"}}};
    const std::string svg = render_heatmap(m);
    EXPECT_EQ(data_points(svg), "2");
    EXPECT_NE(svg.find("<a href=\"#ev-r1\">"), std::string::npos);
    EXPECT_NE(svg.find("<a href=\"#ev-f1\">"), std::string::npos);
    EXPECT_NE(svg.find("fill=\"#009e73\""), std::string::npos);  // all ok: green
    EXPECT_NE(svg.find("fill=\"#d55e00\""), std::string::npos);  // all failed: vermillion
}

TEST(SvgChart, EmptyChartsSayNoData) {
    for (const std::string& svg : {render_bar_chart({.title = "e", .value_label = "x"}),
                                   render_xy_chart({.title = "e", .x_label = "x", .y_label = "y"}),
                                   render_histogram({.title = "e", .x_label = "x"}), render_heatmap({.title = "e"})}) {
        EXPECT_EQ(data_points(svg), "0");
        EXPECT_NE(svg.find("no data"), std::string::npos);
    }
}

TEST(SvgChart, NiceTicksCoverTheRangeWithRoundSteps) {
    EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
    EXPECT_EQ(nice_ticks(0, 97, 5), (std::vector<double>{0, 20, 40, 60, 80, 100}));
    const auto t = nice_ticks(0.013, 0.051, 4);
    ASSERT_GE(t.size(), 2u);
    EXPECT_LE(t.front(), 0.013);
    EXPECT_GE(t.back(), 0.0499);
}

TEST(ReportText, EscapesAndFormats) {
    EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    EXPECT_EQ(md_escape("a|b\nc`d\\<e>"), "a\\|b c\\`d\\\\&lt;e&gt;");
    EXPECT_EQ(anchor_id("ev-", "ab-9 /é"), "ev-ab-9_20_2f_c3_a9");
    EXPECT_EQ(format_number(1234.4), "1234");
    EXPECT_EQ(format_number(12.34), "12.3");
    EXPECT_EQ(format_number(1.234), "1.23");
    EXPECT_EQ(format_number(0.012345), "0.0123");
    EXPECT_EQ(format_number(0), "0");
    EXPECT_EQ(format_bytes(1536), "1.50 KiB");
    EXPECT_EQ(format_bytes(100), "100 B");
    EXPECT_EQ(format_change(-0.1234), "-12.3%");
}

// Few samples: every sample a dot, the median marked; many: the empirical CDF with p50/p90/p99 and a text
// alternative whose figures are type 7 percentiles (checked here by hand).
TEST(SvgChart, DistributionIsAStripPlotForFewSamplesAndAnEcdfForMany) {
    const std::string strip = render_distribution({.title = "few", .x_label = "ms", .values = {5, 1, 3, 2, 4}});
    EXPECT_EQ(data_points(strip), "5");
    EXPECT_EQ(count(strip, "class=\"pt\""), 5u);
    EXPECT_EQ(count(strip, "class=\"mark\""), 1u);
    EXPECT_NE(strip.find(">median</text>"), std::string::npos);
    EXPECT_NE(strip.find("<desc>5 samples in ms: min 1.00, median 3.00, p90 4.60, p99 4.96, max 5.00</desc>"),
              std::string::npos)
        << strip;

    Distribution many{.title = "many", .x_label = "ms"};
    for (int i = 1; i <= 40; ++i) many.values.push_back(i);
    const std::string ecdf = render_distribution(many);
    EXPECT_EQ(data_points(ecdf), "40");
    EXPECT_EQ(count(ecdf, "class=\"pt\""), 40u);
    for (const char* m : {">p50</text>", ">p90</text>", ">p99</text>"}) EXPECT_NE(ecdf.find(m), std::string::npos) << m;
    // 1..40: p50 = 20.5, p90 = 1 + 0.9 * 39 = 36.1, p99 = 1 + 0.99 * 39 = 39.61.
    EXPECT_NE(ecdf.find("median 20.5, p90 36.1, p99 39.6,"), std::string::npos) << ecdf;
    EXPECT_NE(ecdf.find("40 of 40 at or below"), std::string::npos);
    EXPECT_EQ(data_points(render_distribution({.title = "none"})), "0");
}

TEST(SvgChart, RooflineDrawsTheRoofsAndEveryPointFlaggingThoseAboveTheirRoof) {
    RooflineChart c{.title = "roof",
                    .bandwidth_gbs = 40,
                    .ceilings = {{.label = "q4_0", .gflops = 184}, {.label = "f16", .gflops = 90}},
                    .points = {{.intensity = 0.5, .gflops = 2, .label = "tg"},
                               {.intensity = 32, .gflops = 300, .label = "pp", .flagged = true}}};
    const std::string svg = render_roofline_chart(c);
    EXPECT_EQ(data_points(svg), "2");
    EXPECT_EQ(count(svg, "class=\"roof\""), 3u);  // the slope and two ceilings
    EXPECT_NE(svg.find("memory 40.0 GB/s"), std::string::npos);
    EXPECT_NE(svg.find("q4_0 184 GFLOP/s"), std::string::npos);
    EXPECT_EQ(count(svg, "class=\"pt flag\""), 1u);
    EXPECT_NE(svg.find("above roof: pp"), std::string::npos);
    EXPECT_NE(svg.find("data-x=\"0.5\" data-y=\"2\""), std::string::npos);
    EXPECT_NE(svg.find("<desc>2 measured point(s), 1 above their roof"), std::string::npos);
    // Log-log over whole decades: x from 0.1 (below half the lowest intensity) to 100 (above twice the highest).
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, std::regex("<circle class=\"pt\" cx=\"([0-9.]+)\"")));
    const double cx = std::stod(m[1].str());
    EXPECT_NEAR(cx, 70 + 480 * (std::log10(0.5) + 1) / 3, 0.1);
}

}  // namespace
