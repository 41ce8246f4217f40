// The HTML report in a real headless Chromium (Debian's chromium): it loads from file:// with no console
// message, its self-check finds data points in every chart, and a screenshot is kept as a CI artifact.
#include <cstdlib>
#include <regex>
#include <string>

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

TEST(ReportBrowser, RendersInHeadlessChromiumWithEveryChartDrawn) {
    if (!fs::exists(chromium_path())) {
        const std::string why = chromium_path().string() + " is not installed (Debian package chromium)";
        if (accel::test::in_ci()) FAIL() << why << " (CI=true: the browser test must run)";
        GTEST_SKIP() << why;
    }
    accel::test::TempDir dir;
    accel::report::test::write_fixture_db(dir / "r.duckdb");
    const fs::path html = dir / "report.html";
    const auto rep = accel::test::run_accel({"report", "--db", (dir / "r.duckdb").string(), "--out", html.string()});
    ASSERT_EQ(rep.exit_code, 0) << rep.err;
    const std::string text = accel::test::read_file(html);
    EXPECT_EQ(text.find("http://"), std::string::npos);
    EXPECT_EQ(text.find("https://"), std::string::npos);
    const std::string url = "file://" + html.string();

    auto dom_args = chromium_argv(dir / "profile-dom");
    dom_args.insert(dom_args.end(), {"--dump-dom", url});
    const auto dom = accel::test::run_process(dom_args, {}, 120);
    ASSERT_EQ(dom.exit_code, 0) << dom.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(dom.out, m, std::regex("data-selfcheck=\"([^\"]*)\"")))
        << "the self-check did not run";
    ASSERT_TRUE(std::regex_match(m[1].str(), std::regex("ok [0-9]+"))) << m[1].str();
    EXPECT_GE(std::stoi(m[1].str().substr(3)), 10);
    EXPECT_TRUE(console_lines(dom.err).empty()) << console_lines(dom.err).front();

    // The screenshot goes to the build tree (build/<preset>/report-screenshot.png), where CI keeps it.
    const char* cache = std::getenv("ACCEL_TEST_CACHE");
    const fs::path build_dir = cache ? fs::path(cache).parent_path() : dir.path();
    const fs::path shot = build_dir / "report-screenshot.png";
    fs::remove(shot);
    auto shot_args = chromium_argv(dir / "profile-shot");
    shot_args.insert(shot_args.end(), {"--window-size=1280,4000", "--screenshot=" + shot.string(), url});
    const auto s = accel::test::run_process(shot_args, {}, 120);
    ASSERT_EQ(s.exit_code, 0) << s.err;
    ASSERT_TRUE(fs::exists(shot)) << s.err;
    const std::string png = accel::test::read_file(shot);
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_GT(png.size(), 20000u);  // a page of charts, not a blank one
    EXPECT_TRUE(console_lines(s.err).empty()) << console_lines(s.err).front();

    // Print: the @media print rules give a PDF.
    const fs::path pdf = dir / "report.pdf";
    auto pdf_args = chromium_argv(dir / "profile-pdf");
    pdf_args.insert(pdf_args.end(), {"--no-pdf-header-footer", "--print-to-pdf=" + pdf.string(), url});
    const auto p = accel::test::run_process(pdf_args, {}, 120);
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_EQ(accel::test::read_file(pdf).substr(0, 5), "%PDF-");
}

}  // namespace
