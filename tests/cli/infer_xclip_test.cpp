// `accel infer --video` on an X-CLIP model (the xclip fixture converted at f32; random weights, so the matches mean
// nothing, only that they are transformers'): the fixture's four frames as a folder give transformers'
// logits_per_video end to end (decode, VideoMAEImageProcessor, the graph); a clip made here with the ffmpeg program
// from a Debian background (mate-backgrounds), as PNG frames and as lossless (FFV1) and lossy (MPEG-4) files, runs
// through the folder and FFmpeg paths alike; bad input is one line and exit 2. No media is committed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;
using accel::test::run_process;

class InferXclip : public testing::Test {
protected:
    static void SetUpTestSuite() {
        tmp_ = new accel::test::TempDir;
        const auto r = run_accel(
            {"convert", accel::test::hf_fixture("xclip").string(), "--out", model().string(), "--type", "f32"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    static void TearDownTestSuite() {
        delete tmp_;
        tmp_ = nullptr;
    }
    static fs::path model() { return *tmp_ / "xclip.gguf"; }
    static inline accel::test::TempDir* tmp_ = nullptr;
};

std::vector<std::string> texts() {
    const auto ref = nlohmann::json::parse(accel::test::read_file(accel::test::hf_fixture("xclip") / "reference.json"));
    return ref.at("texts").get<std::vector<std::string>>();
}

std::vector<std::string> infer_args(const fs::path& model, const fs::path& video) {
    std::vector<std::string> a = {"infer", "--model", model.string(), "--video", video.string(), "--json", "-t", "2"};
    for (const auto& t : texts()) a.insert(a.end(), {"--text", t});
    return a;
}

TEST_F(InferXclip, FixtureFramesGiveTransformersLogits) {
    const auto dir = accel::test::hf_fixture("xclip");
    const auto r = run_accel(infer_args(model(), dir));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("task"), "video_text_similarity");
    EXPECT_EQ(j.at("video").at("n_frames"), 4);
    EXPECT_EQ(j.at("video").at("sampled"), nlohmann::json({0, 1, 2, 3}));
    const auto logits = accel::test::read_st_tensor(dir / "reference.safetensors", "logits_per_video");
    ASSERT_EQ(j.at("texts").size(), logits.size());
    const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
    for (size_t t = 0; t < logits.size(); ++t)  // the model's f32 limit, relative to the logits' range
        EXPECT_NEAR(j.at("texts")[t].at("logit").get<double>(), logits[t], 1e-4 * (*hi - *lo)) << t;
    EXPECT_EQ(j.at("best").at("text_index").get<size_t>(),
              static_cast<size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
    // the text form: one row per text, then the best
    const auto text = run_accel({"infer", "--model", model().string(), "--video", dir.string(), "--text", "stripes",
                                 "--text", "a blue square"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("(4 frames; sampled 0 1 2 3)"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("\nbest  t"), std::string::npos) << text.out;
}

TEST_F(InferXclip, ClipFromADebianBackgroundAsFramesAndFiles) {
    const fs::path bg = "/usr/share/backgrounds/mate/desktop/Stripes.png";
    if (!fs::exists("/usr/bin/ffmpeg") || !fs::exists(bg))
        GTEST_SKIP() << "needs the ffmpeg program and mate-backgrounds";
    accel::test::TempDir tmp;
    fs::create_directories(tmp / "frames");
    // 12 frames of a 64x48 window panning over the downscaled background
    auto ff = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"/usr/bin/ffmpeg", "-loglevel", "error", "-y"});
        const auto r = run_process(args, {}, 120);
        ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    ff({"-loop", "1", "-i", bg.string(), "-vf", "scale=160:-2,crop=64:48:n*6:8", "-frames:v", "12",
        (tmp / "frames" / "f%02d.png").string()});
    ff({"-framerate", "6", "-i", (tmp / "frames" / "f%02d.png").string(), "-c:v", "ffv1", (tmp / "clip.mkv").string()});
    ff({"-framerate", "6", "-i", (tmp / "frames" / "f%02d.png").string(), "-c:v", "mpeg4", "-q:v", "2", "-pix_fmt",
        "yuv420p", (tmp / "clip.mp4").string()});
    nlohmann::json got[3];
    const fs::path inputs[3] = {tmp / "frames", tmp / "clip.mkv", tmp / "clip.mp4"};
    for (int i = 0; i < 3; ++i) {
        const auto r = run_accel(infer_args(model(), inputs[i]));
        ASSERT_EQ(r.exit_code, 0) << inputs[i] << ": " << r.err;
        got[i] = nlohmann::json::parse(r.out);
        EXPECT_EQ(got[i].at("video").at("n_frames"), 12) << inputs[i];
        EXPECT_EQ(got[i].at("video").at("sampled"), nlohmann::json({1, 4, 7, 10})) << inputs[i];
    }
    // FFV1 is lossless: the file gives the folder's numbers exactly; MPEG-4 is close
    EXPECT_EQ(got[1].at("texts"), got[0].at("texts"));
    for (size_t t = 0; t < got[0].at("texts").size(); ++t)
        EXPECT_NEAR(got[2].at("texts")[t].at("probability").get<double>(),
                    got[0].at("texts")[t].at("probability").get<double>(), 0.05)
            << t;
}

TEST_F(InferXclip, BadVideoIsOneLineAndExit2) {
    accel::test::TempDir tmp;
    accel::test::write_file(tmp / "junk.mp4", std::string(2048, 'j'));
    for (const auto& [video, want] : {std::pair{tmp / "junk.mp4", std::string("junk.mp4: ")},
                                      std::pair{tmp / "none.mp4", std::string("none.mp4: no such file or folder")}}) {
        const auto r = run_accel({"infer", "--model", model().string(), "--video", video.string(), "--text", "x"});
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    const auto none = run_accel({"infer", "--model", model().string(), "--text", "x"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.err.find("takes --video FILE|DIR and --text TEXT"), std::string::npos) << none.err;
}

}  // namespace
