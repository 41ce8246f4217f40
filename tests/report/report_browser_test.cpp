// The HTML report in a real headless Chromium (Debian's chromium): it loads from file:// with no console
// message, its self-check finds data points in every chart and a target for every summary link, it does not scroll
// sideways at 1366x768 or 1920x1080, and screenshots of both first screens and of the whole page are kept as CI
// artifacts, with a PDF through the print styles.
#include <cstdlib>
#include <regex>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "report_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;

fs::path chromium_path() {
    const char* env = std::getenv("ACCEL_CHROMIUM");
    return env && *env ? fs::path(env) : fs::path("/usr/bin/chromium");
}

std::vector<std::string> chromium_argv(const fs::path& profile) {
    // The web layer's flags (src/web/browser_process.cpp); --no-sandbox because CI runs as root in a container.
    return {chromium_path().string(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--user-data-dir=" + profile.string(),
            "--enable-logging=stderr",
            "--v=0"};
}

// Console messages are logged by Chromium as "...:INFO:CONSOLE(12)] "text", source: ..." lines.
std::vector<std::string> console_lines(const std::string& err) {
    std::vector<std::string> out;
    std::regex re(":CONSOLE[:(][^\n]*");
    for (std::sregex_iterator it(err.begin(), err.end(), re), end; it != end; ++it) out.push_back(it->str());
    return out;
}

// The value of an attribute of <body> in a dumped DOM ("" when absent).
std::string body_attribute(const std::string& dom, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(dom, m, std::regex("<body[^>]*\\s" + name + "=\"([^\"]*)\""))) return "";
    return m[1].str();
}

TEST(ReportBrowser, RendersInHeadlessChromiumWithEveryChartDrawn) {
    if (!fs::exists(chromium_path())) {
        const std::string why = chromium_path().string() + " is not installed (Debian package chromium)";
        if (accel::test::in_ci()) FAIL() << why << " (CI=true: the browser test must run)";
        GTEST_SKIP() << why;
    }
    accel::test::TempDir dir;
    accel::report::test::write_fixture_db(dir / "r.duckdb");
    const fs::path html = dir / "report.html";
    const fs::path roofline = accel::report::test::write_fixture_roofline();  // the roofline plot gets its roofs
    const auto rep = accel::test::run_accel({"report", "--db", (dir / "r.duckdb").string(), "--out", html.string()});
    fs::remove(roofline);
    ASSERT_EQ(rep.exit_code, 0) << rep.err;
    const std::string text = accel::test::read_file(html);
    EXPECT_EQ(text.find("http://"), std::string::npos);
    EXPECT_EQ(text.find("https://"), std::string::npos);
    const std::string url = "file://" + html.string();

    // The screenshots go to the build tree (build/<preset>/report-*.png), where CI keeps them.
    const char* cache = std::getenv("ACCEL_TEST_CACHE");
    const fs::path build_dir = cache ? fs::path(cache).parent_path() : dir.path();
    // A laptop's and a desktop's window: the self-check passes, the summary's links have their targets, nothing
    // scrolls sideways (the page is no wider than the window), and the first screen is kept as a screenshot.
    for (const auto& [w, h] : {std::pair{1366, 768}, std::pair{1920, 1080}}) {
        const std::string size = fmt::format("{},{}", w, h);
        auto dom_args = chromium_argv(dir / ("profile-dom-" + std::to_string(w)));
        dom_args.insert(dom_args.end(), {"--window-size=" + size, "--dump-dom", url});
        const auto dom = accel::test::run_process(dom_args, {}, 120);
        ASSERT_EQ(dom.exit_code, 0) << dom.err;
        const std::string check = body_attribute(dom.out, "data-selfcheck");
        ASSERT_TRUE(std::regex_match(check, std::regex("ok [0-9]+"))) << size << ": " << check;
        EXPECT_GE(std::stoi(check.substr(3)), 10);
        EXPECT_GE(std::stoi(body_attribute(dom.out, "data-summary-links")), 4) << "the summary links to its evidence";
        EXPECT_GE(std::stoi("0" + body_attribute(dom.out, "data-sortable")), 5) << "the optional table sorting ran";
        std::smatch layout;
        const std::string widths = body_attribute(dom.out, "data-layout");
        ASSERT_TRUE(std::regex_match(widths, layout, std::regex("([0-9]+) ([0-9]+)"))) << widths;
        EXPECT_LE(std::stoi(layout[1].str()), std::stoi(layout[2].str()))
            << size << ": the page is wider than the window (scrollWidth clientWidth: " << widths << ")";
        EXPECT_EQ(std::stoi(layout[2].str()), w);
        EXPECT_TRUE(console_lines(dom.err).empty()) << console_lines(dom.err).front();

        const fs::path shot = build_dir / fmt::format("report-{}x{}.png", w, h);
        fs::remove(shot);
        auto shot_args = chromium_argv(dir / ("profile-shot-" + std::to_string(w)));
        shot_args.insert(shot_args.end(), {"--window-size=" + size, "--screenshot=" + shot.string(), url});
        const auto s = accel::test::run_process(shot_args, {}, 120);
        ASSERT_EQ(s.exit_code, 0) << s.err;
        ASSERT_TRUE(fs::exists(shot)) << s.err;
        const std::string png = accel::test::read_file(shot);
        EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
        EXPECT_GT(png.size(), 20000u);  // a first screen of text and a summary, not a blank one
        EXPECT_TRUE(console_lines(s.err).empty()) << console_lines(s.err).front();
    }

    // The whole page and the file itself, for a reader of the artifacts.
    fs::copy_file(html, build_dir / "report.html", fs::copy_options::overwrite_existing);
    const fs::path shot = build_dir / "report-screenshot.png";
    fs::remove(shot);
    auto shot_args = chromium_argv(dir / "profile-shot");
    shot_args.insert(shot_args.end(), {"--window-size=1366,6000", "--screenshot=" + shot.string(), url});
    const auto s = accel::test::run_process(shot_args, {}, 120);
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_TRUE(fs::exists(shot)) << s.err;

    // Print: the @media print rules give a PDF.
    const fs::path pdf = dir / "report.pdf";
    auto pdf_args = chromium_argv(dir / "profile-pdf");
    pdf_args.insert(pdf_args.end(), {"--no-pdf-header-footer", "--print-to-pdf=" + pdf.string(), url});
    const auto p = accel::test::run_process(pdf_args, {}, 120);
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_EQ(accel::test::read_file(pdf).substr(0, 5), "%PDF-");
}

}  // namespace
