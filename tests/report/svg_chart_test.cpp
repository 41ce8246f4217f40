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

}  // namespace
