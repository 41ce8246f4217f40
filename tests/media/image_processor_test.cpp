// media/ against PIL and transformers: the vit fixture's images (drawn by scripts/oracle/fixture_vit.py) decoded
// and preprocessed by accel, compared with the pixel_values that transformers' ViTImageProcessor (PIL resize)
// computed for the same files. Resampling is also checked on values worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "accel/core/error.h"
#include "accel/media/image.h"
#include "accel/media/image_processor.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using namespace accel::media;

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

// PNG: decoding is lossless and the resize is PIL's integer arithmetic, so accel's pixel values equal
// transformers' bit for bit; 1e-6 only allows for a compiler contracting (x - mean) / std differently.
// JPEG: a JPEG decoder may differ from Pillow's by one level in a few pixels (IDCT, chroma upsampling); one level
// is 1/255/std ~ 0.0175 here. Measured: 0 for both (Pillow's bundled libjpeg-turbo and Debian's decode alike);
// the limit keeps room for one level.
struct Case {
    const char* file;
    uint32_t width, height;
    double limit;
};

class FixtureImage : public testing::TestWithParam<Case> {};

TEST_P(FixtureImage, PixelValuesMatchTransformers) {
    const Case c = GetParam();
    const auto dir = accel::test::hf_fixture("vit");
    const Image im = decode_image(dir / c.file);
    EXPECT_EQ(im.width, c.width);
    EXPECT_EQ(im.height, c.height);
    const auto config = parse_image_processor_config(slurp(dir / "preprocessor_config.json"), "preprocessor_config");
    const PixelValues pv = preprocess(im, config);
    ASSERT_EQ(pv.channels, 3u);
    ASSERT_EQ(pv.height, 32u);
    ASSERT_EQ(pv.width, 32u);
    std::string key = c.file;
    std::replace(key.begin(), key.end(), '.', '_');
    const auto expected = accel::test::read_st_tensor(dir / "reference.safetensors", key + ".pixel_values");
    ASSERT_EQ(pv.data.size(), expected.size());
    EXPECT_LE(max_abs_diff(pv.data, expected), c.limit) << c.file;
}

// CLIPImageProcessor on the same images (bicubic, shortest edge 24, center crop 20x20): what CLIP will reuse.
TEST_P(FixtureImage, ClipPixelValuesMatchTransformers) {
    const Case c = GetParam();
    const auto dir = accel::test::hf_fixture("vit");
    const auto config =
        parse_image_processor_config(slurp(dir / "clip_preprocessor_config.json"), "clip_preprocessor_config");
    ASSERT_EQ(config.resample, Resample::bicubic);
    const PixelValues pv = preprocess(decode_image(dir / c.file), config);
    ASSERT_EQ(pv.height, 20u);
    ASSERT_EQ(pv.width, 20u);
    std::string key = c.file;
    std::replace(key.begin(), key.end(), '.', '_');
    const auto expected = accel::test::read_st_tensor(dir / "reference.safetensors", key + ".clip_pixel_values");
    ASSERT_EQ(pv.data.size(), expected.size());
    EXPECT_LE(max_abs_diff(pv.data, expected), c.limit) << c.file;
}

INSTANTIATE_TEST_SUITE_P(Vit, FixtureImage,
                         testing::Values(Case{"shapes.png", 45, 38, 1e-6}, Case{"small.png", 20, 17, 1e-6},
                                         Case{"shapes.jpg", 45, 38, 0.018}),
                         [](const auto& p) {
                             std::string n = p.param.file;
                             std::replace(n.begin(), n.end(), '.', '_');
                             return n;
                         });

TEST(ImageProcessorConfig, ReadsViTSettingsAndRefusesOthers) {
    const auto c = parse_image_processor_config(
        R"({"image_processor_type": "ViTImageProcessor", "size": {"height": 16, "width": 24}, "resample": 3,
            "image_mean": 0.5, "image_std": [0.1, 0.2, 0.3], "do_normalize": false})", "p.json");
    EXPECT_EQ(c.height, 16u);
    EXPECT_EQ(c.width, 24u);
    EXPECT_EQ(c.resample, Resample::bicubic);
    EXPECT_FALSE(c.do_normalize);
    EXPECT_FLOAT_EQ(c.mean[2], 0.5f);
    EXPECT_FLOAT_EQ(c.std[1], 0.2f);
    const auto clip = parse_image_processor_config(R"({"image_processor_type": "CLIPImageProcessor", "size": 224})",
                                                   "c.json");
    EXPECT_EQ(clip.shortest_edge.value_or(0), 224u);
    EXPECT_TRUE(clip.do_center_crop);
    // openai/clip-vit-base-patch32's file: a feature extractor type, integer size and crop size
    const auto old_clip = parse_image_processor_config(
        R"({"feature_extractor_type": "CLIPFeatureExtractor", "size": 224, "crop_size": 224, "resample": 3})", "o.json");
    EXPECT_EQ(old_clip.type, "CLIPImageProcessor");
    EXPECT_EQ(old_clip.shortest_edge.value_or(0), 224u);
    EXPECT_EQ(old_clip.crop_width, 224u);
    EXPECT_TRUE(old_clip.do_center_crop);
    const auto old_vit = parse_image_processor_config(R"({"feature_extractor_type": "ViTFeatureExtractor", "size": 224})",
                                                      "v.json");
    EXPECT_EQ(old_vit.height, 224u);
    EXPECT_FALSE(old_vit.shortest_edge.has_value());
    EXPECT_THROW(parse_image_processor_config(R"({"image_processor_type": "SiglipImageProcessor"})", "s.json"),
                 accel::Error);
    EXPECT_THROW(parse_image_processor_config(R"({"resample": 9})", "r.json"), accel::Error);
    EXPECT_THROW(parse_image_processor_config("{", "b.json"), accel::Error);
}

// Values by hand: a 2:1 box or bilinear reduction of 0 and 255 is 127.5, which PIL's fixed point rounds to 128;
// a constant image stays constant whatever the filter; 1x1 up to 3x1 bilinear is the same value everywhere.
TEST(Resample, MatchesHandComputedValues) {
    Image two{2, 1, {0, 0, 0, 255, 255, 255}};
    for (const auto f : {Resample::box, Resample::bilinear}) {
        const Image one = resize(two, 1, 1, f);
        EXPECT_EQ(one.rgb, (std::vector<uint8_t>{128, 128, 128})) << to_string(f);
    }
    Image flat{7, 5, std::vector<uint8_t>(7 * 5 * 3, 77)};
    for (const auto f : {Resample::box, Resample::bilinear, Resample::hamming, Resample::bicubic, Resample::lanczos}) {
        const Image r = resize(flat, 3, 9, f);
        EXPECT_TRUE(std::all_of(r.rgb.begin(), r.rgb.end(), [](uint8_t v) { return v == 77; })) << to_string(f);
    }
    const Image wide = resize(Image{1, 1, {10, 20, 30}}, 3, 1, Resample::bilinear);
    EXPECT_EQ(wide.rgb, (std::vector<uint8_t>{10, 20, 30, 10, 20, 30, 10, 20, 30}));
    const Image crop = center_crop(Image{3, 1, {1, 1, 1, 2, 2, 2, 3, 3, 3}}, 1, 1);
    EXPECT_EQ(crop.rgb, (std::vector<uint8_t>{2, 2, 2}));
    EXPECT_THROW(resize(flat, 3, 3, Resample::nearest), accel::Error);
}

// One line naming the file for each kind of bad input.
TEST(DecodeImage, RefusesBadFilesNamingThem) {
    accel::test::TempDir tmp;
    const auto dir = accel::test::hf_fixture("vit");
    const std::string png = slurp(dir / "shapes.png"), jpg = slurp(dir / "shapes.jpg");
    std::ofstream(tmp / "text.png") << "not an image";
    std::ofstream(tmp / "cut.png", std::ios::binary) << png.substr(0, png.size() / 2);
    std::ofstream(tmp / "cut.jpg", std::ios::binary) << jpg.substr(0, jpg.size() / 2);
    for (const char* name : {"missing.png", "text.png", "cut.png", "cut.jpg"}) {
        try {
            decode_image(tmp / name);
            ADD_FAILURE() << name << " decoded";
        } catch (const accel::Error& e) {
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
            const std::string what = e.what();
            EXPECT_NE(what.find(name), std::string::npos) << what;
            EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        }
    }
}

}  // namespace
