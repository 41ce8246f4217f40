// Whisper in browsers, the host side: the page's document read into figures, the real-time factor and the stored
// row computed from known timings, and the refusals that come before any browser starts.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/web/web_whisper.h"
#include "test_support.h"

namespace {
using nlohmann::json;

const char* kPage = R"({"schema_version": 1, "whisper": {"backend": "wasm", "threads": 1, "max_tokens": 32,
  "load_ms": 120.5, "audio_seconds": 3.0, "system_info": "WASM_SIMD = 1", "text": " hello",
  "reps": [{"wall_ms": 1000, "encode_ms": 600, "decode_ms": 300, "n_tokens": 7},
           {"wall_ms": 1500, "encode_ms": 900, "decode_ms": 450, "n_tokens": 7},
           {"wall_ms": 3000, "encode_ms": 2000, "decode_ms": 800, "n_tokens": 7}]}})";

TEST(WebWhisper, PageDocumentBecomesFigures) {
    const auto f = accel::web::parse_whisper_figures(kPage);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->threads, 1);
    EXPECT_EQ(f->max_tokens, 32);
    EXPECT_EQ(f->n_tokens, 7);
    EXPECT_EQ(f->text, " hello");
    EXPECT_EQ(f->wall_ms, (std::vector<double>{1000, 1500, 3000}));
    EXPECT_EQ(f->encode_ms, (std::vector<double>{600, 900, 2000}));
    // 3 s of audio in 1 s, 1.5 s and 3 s of wall time.
    const auto rtf = f->rtf();
    ASSERT_EQ(rtf.size(), 3u);
    EXPECT_DOUBLE_EQ(rtf[0], 3.0);
    EXPECT_DOUBLE_EQ(rtf[1], 2.0);
    EXPECT_DOUBLE_EQ(rtf[2], 1.0);
}

TEST(WebWhisper, ALlmPageHasNoWhisperAndAnEmptyOneIsRefused) {
    EXPECT_FALSE(accel::web::parse_whisper_figures(R"({"llm": []})").has_value());
    EXPECT_FALSE(accel::web::parse_whisper_figures("not json").has_value());
    EXPECT_THROW(accel::web::parse_whisper_figures(R"({"whisper": {"reps": []}})"), accel::Error);
}

TEST(WebWhisper, StoredRowCarriesEveryRunAndTheRtf) {
    const auto f = *accel::web::parse_whisper_figures(kPage);
    const auto r = accel::web::whisper_result_record(f, "abc", "w.bin", R"({"browser": "firefox"})");
    EXPECT_EQ(r.scenario, "audio");
    EXPECT_EQ(r.device, "wasm");
    EXPECT_EQ(r.n_threads, 1);
    ASSERT_EQ(r.samples.size(), 3u);
    EXPECT_EQ(r.samples[1].duration_ns, 1'500'000'000);
    EXPECT_DOUBLE_EQ(*r.avg_ns, (1000 + 1500 + 3000) / 3.0 * 1e6);
    EXPECT_DOUBLE_EQ(*r.p50_ns, 1500e6);
    const json extra = json::parse(r.extra_json);
    EXPECT_EQ(extra["browser"], "firefox");
    EXPECT_EQ(extra["platform"], "web");
    EXPECT_DOUBLE_EQ(extra["rtf_mean"].get<double>(), 2.0);
    EXPECT_EQ(extra["decode_ms_samples"], json({300, 450, 800}));
}

TEST(WebWhisper, BadInputsExitTwoBeforeAnyBrowser) {
    accel::test::TempDir tmp;
    accel::test::write_file(tmp / "damaged.bin", std::string("lmgg") + std::string(64, '\0'));
    auto r = accel::test::run_accel({"web-bench", "--model", (tmp / "damaged.bin").string(), "--no-store"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "accel: error: --audio: a Whisper model needs an audio file\n");
    r = accel::test::run_accel({"web-bench", "--model", (tmp / "damaged.bin").string(), "--audio",
                                (tmp / "none.wav").string(), "--no-store"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("damaged.bin"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

}  // namespace
