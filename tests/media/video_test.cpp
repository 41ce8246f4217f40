// Videos as frames (media/video.h): X-CLIP's frame sampling, a folder of frames, a video file through FFmpeg
// (made here at test time with the ffmpeg program from the fixture's frames, losslessly, so each decoded frame must
// equal its PNG byte for byte), the errors, and VideoMAEImageProcessor's pixel values against transformers'
// (the xclip fixture's reference.safetensors).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "accel/core/error.h"
#include "accel/media/image_processor.h"
#include "accel/media/video.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::media::read_video;
using accel::media::sample_frame_indices;

TEST(SampleFrameIndices, MiddleOfEachSegment) {
    EXPECT_EQ(sample_frame_indices(4, 4), (std::vector<uint32_t>{0, 1, 2, 3}));
    EXPECT_EQ(sample_frame_indices(8, 4), (std::vector<uint32_t>{1, 3, 5, 7}));
    EXPECT_EQ(sample_frame_indices(300, 8), (std::vector<uint32_t>{18, 56, 93, 131, 168, 206, 243, 281}));
    EXPECT_EQ(sample_frame_indices(3, 8), (std::vector<uint32_t>{0, 0, 0, 1, 1, 2, 2, 2}));  // a short clip repeats
    EXPECT_THROW(sample_frame_indices(0, 8), accel::Error);
    EXPECT_THROW(sample_frame_indices(8, 0), accel::Error);
}

// The fixture folder holds frame0..3.png among its JSON and safetensors files: those four are the clip, and
// VideoMAEImageProcessor (the fixture's preprocessor_config.json) turns them into transformers' pixel values.
TEST(ReadVideo, FolderOfFramesGivesTransformersPixelValues) {
    const auto dir = accel::test::hf_fixture("xclip");
    const auto v = read_video(dir, 4);
    EXPECT_EQ(v.n_frames_total, 4u);
    EXPECT_EQ(v.indices, (std::vector<uint32_t>{0, 1, 2, 3}));
    ASSERT_EQ(v.frames.size(), 4u);
    const auto cfg = accel::media::parse_image_processor_config(
        accel::test::read_file(dir / "preprocessor_config.json"), "preprocessor_config.json");
    EXPECT_EQ(cfg.type, "VideoMAEImageProcessor");
    const auto expected = accel::test::read_st_tensor(dir / "reference.safetensors", "pixel_values");
    ASSERT_EQ(expected.size(), size_t{4} * 3 * 32 * 32);
    double worst = 0;
    for (size_t f = 0; f < 4; ++f) {
        const auto pv = accel::media::preprocess(v.frames[f], cfg);
        ASSERT_EQ(pv.data.size(), size_t{3} * 32 * 32);
        for (size_t i = 0; i < pv.data.size(); ++i)
            worst = std::max(worst, std::fabs(double(pv.data[i]) - expected[f * pv.data.size() + i]));
    }
    std::fprintf(stderr, "VideoMAEImageProcessor, 4 frames: max |accel - transformers| %.2e\n", worst);
    EXPECT_LE(worst, 1e-5);
}

TEST(ReadVideo, VideoFileDecodedByFfmpeg) {
    if (!fs::exists("/usr/bin/ffmpeg")) GTEST_SKIP() << "no ffmpeg program to make the test video with";
    const auto dir = accel::test::hf_fixture("xclip");
    accel::test::TempDir tmp;
    const auto file = tmp / "clip.mkv";
    const auto r = accel::test::run_process({"/usr/bin/ffmpeg", "-loglevel", "error", "-framerate", "4", "-i",
                                             (dir / "frame%d.png").string(), "-c:v", "ffv1", file.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto v = read_video(file, 4);
    EXPECT_EQ(v.n_frames_total, 4u);
    ASSERT_EQ(v.frames.size(), 4u);
    for (size_t f = 0; f < 4; ++f) {
        const auto png = accel::media::decode_image(dir / ("frame" + std::to_string(f) + ".png"));
        EXPECT_EQ(v.frames[f].width, png.width);
        EXPECT_EQ(v.frames[f].height, png.height);
        EXPECT_TRUE(v.frames[f].rgb == png.rgb) << "frame " << f;  // ffv1 is lossless
    }
    const auto two = read_video(file, 2);  // segments [0, 2) and [2, 4): frames 1 and 3
    EXPECT_EQ(two.indices, (std::vector<uint32_t>{1, 3}));
    EXPECT_TRUE(two.frames[1].rgb == v.frames[3].rgb);
}

TEST(ReadVideo, BadInputIsOneLineNamingIt) {
    accel::test::TempDir tmp;
    auto message = [](const fs::path& p) {
        return accel::test::thrown_message<accel::Error>([&] { (void)read_video(p, 4); });
    };
    const std::string missing = message(tmp / "none.mp4");
    EXPECT_NE(missing.find("none.mp4: no such file or folder"), std::string::npos) << missing;
    fs::create_directories(tmp / "empty");
    EXPECT_NE(message(tmp / "empty").find("a folder without frames"), std::string::npos);
    accel::test::write_file(tmp / "junk.mp4", std::string(4096, 'x'));
    const std::string junk = message(tmp / "junk.mp4");
    EXPECT_NE(junk.find("junk.mp4: "), std::string::npos) << junk;
    EXPECT_EQ(junk.find('\n'), std::string::npos) << junk;
}

}  // namespace
