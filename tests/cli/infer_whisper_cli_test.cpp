// `accel infer --audio` through the binary: accel make-model whisper's tiny file (random weights) on espeak-ng
// speech (synthesized here, never committed): the random-weights note, streamed segments with --timestamps, the
// JSON document, a clip past Whisper's 30 s window, and exit 2 with one line for unreadable, empty and
// unsupported audio files.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include <nlohmann/json.hpp>

#include "speech.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

class InferWhisperCli : public testing::Test {
protected:
    static void SetUpTestSuite() {
        tmp_ = new accel::test::TempDir;
        const auto r = run_accel({"make-model", "--arch", "whisper", "--size", "tiny", "--type", "f16", "--out",
                                  model().string(), "--json"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["random_weights"], true);
        EXPECT_EQ(j["size"], "tiny");
    }
    static void TearDownTestSuite() {
        delete tmp_;
        tmp_ = nullptr;
    }
    static fs::path model() { return *tmp_ / "tiny.bin"; }
    static inline accel::test::TempDir* tmp_ = nullptr;
};

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> lines;
    for (size_t at = 0, nl; (nl = s.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(s.substr(at, nl - at));
    return lines;
}

TEST_F(InferWhisperCli, TextSaysRandomWeightsAndStreamsTimestampedSegments) {
    accel::test::TempDir t;
    ACCEL_REQUIRE_SPEECH(accel::test::speech_sentence, t / "s.wav");
    const auto r = run_accel({"infer", "--model", model().string(), "--audio", (t / "s.wav").string(), "--timestamps",
                              "--language", "en", "-t", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines[0].find("RANDOM WEIGHTS"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("meaningless"), std::string::npos) << lines[0];
    const std::regex stamp(R"(^\[\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d\] .*)");
    for (size_t i = 1; i < lines.size(); ++i) EXPECT_TRUE(std::regex_match(lines[i], stamp)) << lines[i];
}

TEST_F(InferWhisperCli, JsonOverALongClip) {
    accel::test::TempDir t;
    ACCEL_REQUIRE_SPEECH(accel::test::repeated_speech(9), t / "long.wav");
    const auto r = run_accel({"infer", "--model", model().string(), "--audio", (t / "long.wav").string(), "--json",
                              "--language", "en", "-t", "2"}, {}, 600);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(j["task"], "transcription");
    EXPECT_EQ(j["random_weights"], true);
    EXPECT_EQ(j["language"], "en");
    EXPECT_GT(j["audio_seconds"].get<double>(), 30.0);
    EXPECT_TRUE(j["segments"].is_array());
    EXPECT_TRUE(j.contains("note"));
}

void expect_exit2(const accel::test::ProcessResult& r, const std::string& words) {
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(InferWhisperCli, BadAudioIsOneLineAndExit2) {
    accel::test::TempDir t;
    const auto m = model().string();
    expect_exit2(run_accel({"infer", "--model", m, "--audio", (t / "missing.wav").string()}), "does not exist");
    accel::test::write_file(t / "empty.wav", "");
    expect_exit2(run_accel({"infer", "--model", m, "--audio", (t / "empty.wav").string()}), "empty");
    accel::test::write_file(t / "notes.ogg", "plain text, not Ogg\n");
    expect_exit2(run_accel({"infer", "--model", m, "--audio", (t / "notes.ogg").string()}), "cannot decode audio");
    expect_exit2(run_accel({"infer", "--model", m}), "--audio");
    expect_exit2(run_accel({"infer", "--model", m, "--audio", (t / "empty.wav").string(), "--device", "gpu"}), "--device");
}

}  // namespace
