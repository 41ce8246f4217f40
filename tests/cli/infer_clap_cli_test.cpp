// `accel infer` on a CLAP GGUF through the binary. The clap fixture (random weights: its similarities say nothing
// about audio or text, only whether accel computes transformers' numbers) converted by accel: its waveform written as
// a 16 kHz float WAV and its three texts give transformers' logits_per_audio and best text (decoding, features,
// tokenizer and both towers in one run); espeak-ng speech synthesized at test time, shorter and longer than the
// fixture's 3 s window (repeat-padded, cut), runs end to end; bad input is one line and exit 2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "hf_fixture.h"
#include "speech.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

void write_float_wav(const fs::path& path, const std::vector<float>& samples, uint32_t rate) {
    std::ofstream out(path, std::ios::binary);
    auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
    const auto data_bytes = static_cast<uint32_t>(samples.size() * 4);
    out.write("RIFF", 4), u32(36 + data_bytes), out.write("WAVE", 4);
    out.write("fmt ", 4), u32(16), u16(3), u16(1), u32(rate), u32(rate * 4), u16(4), u16(32);
    out.write("data", 4), u32(data_bytes);
    out.write(reinterpret_cast<const char*>(samples.data()), data_bytes);
}

class InferClapCli : public testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(run_accel({"convert", fx.string(), "--out", model.string(), "--type", "f32"}).exit_code, 0);
        std::ifstream in(fx / "reference.json");
        texts = nlohmann::json::parse(in)["texts"].get<std::vector<std::string>>();
    }
    std::vector<std::string> args(const fs::path& audio, bool json) const {
        std::vector<std::string> a = {"infer", "--model", model.string(), "--audio", audio.string(), "-t", "2"};
        for (const auto& t : texts) a.insert(a.end(), {"--text", t});
        if (json) a.push_back("--json");
        return a;
    }
    accel::test::TempDir tmp;
    const fs::path fx = accel::test::hf_fixture("clap");
    const fs::path model = tmp / "clap.gguf";
    std::vector<std::string> texts;
};

TEST_F(InferClapCli, FixtureWaveformGivesTransformersLogitsAndBestText) {
    const fs::path wav = tmp / "clip.wav";
    write_float_wav(wav, accel::test::read_st_tensor(accel::test::hf_fixture("whisper") / "reference.safetensors", "audio"),
                    16000);
    const auto want = accel::test::read_st_tensor(fx / "reference.safetensors", "logits_per_audio");
    auto r = run_accel(args(wav, true));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["task"], "audio_text_similarity");
    EXPECT_EQ(doc["truncated"], false);
    ASSERT_EQ(doc["texts"].size(), 3u);
    size_t best = 0;
    for (size_t t = 0; t < 3; ++t) {
        EXPECT_NEAR(doc["texts"][t]["logit"].get<double>(), want[t], 1e-3) << t;
        if (want[t] > want[best]) best = t;
    }
    EXPECT_EQ(doc["best"]["text_index"], best);
    r = run_accel(args(wav, false));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("best  t" + std::to_string(best) + " " + texts[best] + "\n"), std::string::npos) << r.out;
}

TEST_F(InferClapCli, EspeakSpeechShorterAndLongerThanTheWindow) {
    for (const auto& [text, truncated] : {std::pair{std::string("A dog."), false},
                                          std::pair{std::string("The quick brown fox jumps over the lazy dog, twice "
                                                                "over, and then once more."), true}}) {
        const fs::path wav = tmp / (truncated ? "long.wav" : "short.wav");
        ACCEL_REQUIRE_SPEECH(text, wav);
        auto r = run_accel(args(wav, true));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto doc = nlohmann::json::parse(r.out);
        EXPECT_EQ(doc["truncated"], truncated) << text;
        double sum = 0;
        for (const auto& t : doc["texts"]) sum += t["probability"].get<double>();
        EXPECT_NEAR(sum, 1.0, 1e-5);
    }
}

TEST_F(InferClapCli, BadInputIsOneLineAndExitTwo) {
    auto r = run_accel({"infer", "--model", model.string(), "--text", "a dog"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "accel: error: accel infer: a CLAP model needs --audio FILE\n");
    accel::test::write_file(tmp / "empty.wav", "");
    r = run_accel(args(tmp / "empty.wav", false));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("empty.wav"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    const fs::path wav = tmp / "clip.wav";
    write_float_wav(wav, std::vector<float>(1600, 0.1f), 16000);
    r = run_accel({"infer", "--model", model.string(), "--audio", wav.string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("give at least one --text TEXT"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

}  // namespace
