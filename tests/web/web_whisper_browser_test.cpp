// Whisper in Chromium and Firefox through whisper.cpp's WebAssembly build (slow: needs `scripts/bootstrap.sh
// --whisper-wasm`): the fixture's checkpoint converted by accel convert, espeak-ng speech, and both browsers running
// the same decode: the same tokens and text, the clip's length, a stored row each. Random weights: the text is
// meaningless; only sameness across browsers is asserted.
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/web/web_bench.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;

TEST(WebWhisperBrowser, ChromiumAndFirefoxRunTheSameDecode) {
    try {
        (void)accel::web::whisper_wasm_dir();
    } catch (const std::exception& e) {
        GTEST_SKIP() << e.what();
    }
    for (const char* b : {"chromium", "firefox"}) {
        if (accel::web::find_browser(b).empty()) GTEST_SKIP() << b << " is not installed";
    }
    accel::test::TempDir tmp;
    const auto model = tmp / "whisper.bin";
    ASSERT_EQ(accel::test::run_accel({"convert", accel::test::hf_fixture("whisper").string(), "--out", model.string()})
                  .exit_code, 0);
    const auto wav = tmp / "speech.wav";
    const std::string say = "espeak-ng -w " + wav.string() + " 'The quick brown fox jumps over the lazy dog.'";
    if (std::system(say.c_str()) != 0) GTEST_SKIP() << "espeak-ng is not installed";
    const auto db = tmp / "r.duckdb";
    const auto r = accel::test::run_accel({"web-bench", "--model", model.string(), "--audio", wav.string(),
                                           "--browser", "chromium,firefox", "-r", "2", "--max-tokens", "16",
                                           "--db", db.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const json doc = json::parse(r.out);
    ASSERT_EQ(doc["browsers"].size(), 2u);
    const json& c = doc["browsers"][0];
    const json& f = doc["browsers"][1];
    for (const json* b : {&c, &f}) {
        EXPECT_TRUE((*b)["ok"].get<bool>()) << b->dump();
        EXPECT_EQ((*b)["wall_ms"].size(), 2u);
        EXPECT_GT((*b)["audio_seconds"].get<double>(), 1.0);
        EXPECT_LE((*b)["n_tokens"].get<int>(), 16 + 4);  // the cap, plus the decoder's prompt tokens it counts
    }
    EXPECT_EQ(c["audio_seconds"], f["audio_seconds"]);
    EXPECT_EQ(c["n_tokens"], f["n_tokens"]);
    EXPECT_EQ(c["text"], f["text"]);
    EXPECT_TRUE(doc["firefox_over_chromium_rtf"].is_number());
    const auto q = accel::test::run_accel(
        {"db", "query", "--db", db.string(), "--format", "csv",
         "SELECT json_extract_string(extra, '$.browser') AS b, device, scenario FROM results ORDER BY b"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_NE(q.out.find("chromium,wasm,audio\nfirefox,wasm,audio"), std::string::npos) << q.out;
}
