// `accel infer` on a Wav2Vec2 GGUF through the binary: the wav2vec2 fixture's own waveform, written as a 16 kHz
// 32-bit float WAV (lossless), decoded by media/ and transcribed greedily, gives transformers' transcription from the
// same samples (reference.json's greedy_ctc_text). Random weights: the text is meaningless, its equality is not.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

// A mono IEEE-float WAV (format 3): RIFF header, fmt chunk, data chunk.
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

TEST(InferCtcCli, TranscriptOfTheFixtureWaveformIsTransformers) {
    accel::test::TempDir tmp;
    const fs::path fx = accel::test::hf_fixture("wav2vec2");
    const fs::path model = tmp / "w2v.gguf", wav = tmp / "speech.wav";
    ASSERT_EQ(run_accel({"convert", fx.string(), "--out", model.string(), "--type", "f32"}).exit_code, 0);
    write_float_wav(wav, accel::test::read_st_tensor(fx / "reference.safetensors", "waveform"), 16000);
    std::ifstream in(fx / "reference.json");
    const std::string want = nlohmann::json::parse(in)["greedy_ctc_text"].get<std::string>();

    auto r = run_accel({"infer", "--model", model.string(), "--audio", wav.string(), "-t", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, want + "\n");
    r = run_accel({"infer", "--model", model.string(), "--audio", wav.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["task"], "speech_recognition");
    EXPECT_EQ(doc["transcript"], want);

    r = run_accel({"infer", "--model", model.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "accel: error: accel infer: a wav2vec2 model needs --audio FILE\n");
    accel::test::write_file(tmp / "empty.wav", "");
    r = run_accel({"infer", "--model", model.string(), "--audio", (tmp / "empty.wav").string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("empty.wav"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

}  // namespace
