// media/'s DetrImageProcessor against transformers: the detr fixture's two images (drawn by
// scripts/oracle/fixture_detr.py, 45x38 and 30x40) preprocessed as one batch, compared with the pixel_values and
// pixel_mask transformers 4.57.6 gave; the resize sizes against get_size_with_aspect_ratio; and
// post_process_object_detection on the fixture's reference outputs against what transformers' post-processing
// printed for them (values below, from `DetrImageProcessor.post_process_object_detection(outputs, threshold=0.32,
// target_sizes=[(38, 45), (40, 30)])` on reference.safetensors' logits and pred_boxes).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "accel/core/error.h"
#include "accel/media/detr_processor.h"
#include "accel/media/image.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using namespace accel::media;

DetrProcessorConfig fixture_config() {
    const auto dir = accel::test::hf_fixture("detr");
    return parse_detr_processor_config(accel::test::read_file(dir / "preprocessor_config.json"), "preprocessor_config");
}

TEST(DetrProcessor, ReadsTheFixturesConfig) {
    const auto c = fixture_config();
    EXPECT_EQ(c.shortest_edge, 64u);
    EXPECT_EQ(c.longest_edge, 96u);
    EXPECT_EQ(c.resample, Resample::bilinear);
    EXPECT_FLOAT_EQ(c.mean[0], 0.485f);
    EXPECT_FLOAT_EQ(c.std[2], 0.225f);
    EXPECT_TRUE(c.do_pad);
    EXPECT_FALSE(c.pad_size);
}

// transformers' get_size_with_aspect_ratio((h, w), size, max_size), printed for these inputs.
TEST(DetrProcessor, ResizeSizesMatchTransformers) {
    struct Case {
        uint32_t w, h, shortest, longest, out_w, out_h;
    };
    for (const Case c : {Case{45, 38, 800, 1333, 947, 800}, Case{30, 40, 800, 1333, 800, 1066},
                         Case{1000, 100, 800, 1333, 1333, 133}, Case{64, 64, 800, 1333, 800, 800},
                         Case{640, 427, 800, 1333, 1199, 800}, Case{1000, 333, 800, 1333, 1333, 444},
                         Case{45, 38, 64, 96, 75, 64}, Case{1000, 100, 64, 96, 96, 10}, Case{64, 64, 64, 96, 64, 64},
                         Case{640, 427, 64, 96, 95, 64}}) {
        DetrProcessorConfig cfg;
        cfg.shortest_edge = c.shortest;
        cfg.longest_edge = c.longest;
        EXPECT_EQ(detr_resize_size(c.w, c.h, cfg), (std::pair{c.out_w, c.out_h})) << c.w << "x" << c.h;
    }
}

// PNG decoding is lossless and the resize is PIL's integer arithmetic: only the float normalisation could differ.
TEST(DetrProcessor, PixelValuesAndMaskMatchTransformers) {
    const auto dir = accel::test::hf_fixture("detr");
    const std::vector<Image> images{decode_image(dir / "shapes.png"), decode_image(dir / "portrait.png")};
    const DetrBatch b = preprocess_detr(images, fixture_config());
    EXPECT_EQ(b.n_images, 2u);
    EXPECT_EQ(b.width, 75u);
    EXPECT_EQ(b.height, 85u);
    EXPECT_EQ(b.sizes, (std::vector<std::pair<uint32_t, uint32_t>>{{75, 64}, {64, 85}}));
    const auto pv = accel::test::read_st_tensor(dir / "reference.safetensors", "pixel_values");
    ASSERT_EQ(b.pixel_values.size(), pv.size());
    double diff = 0;
    for (size_t i = 0; i < pv.size(); ++i) diff = std::max(diff, std::fabs(double(b.pixel_values[i]) - pv[i]));
    std::fprintf(stderr, "detr pixel_values: max difference %.2e\n", diff);
    EXPECT_LE(diff, 1e-6);
    const auto mask = accel::test::read_st_tensor(dir / "reference.safetensors", "pixel_mask");
    ASSERT_EQ(b.pixel_mask.size(), mask.size());
    for (size_t i = 0; i < mask.size(); ++i) ASSERT_EQ(b.pixel_mask[i], mask[i]) << i;
}

TEST(DetrProcessor, PadSizeAndRefusals) {
    Image im{10, 20, std::vector<uint8_t>(600, 128)};
    DetrProcessorConfig c;
    c.do_resize = false;
    c.pad_size = std::pair{24u, 16u};
    const DetrBatch b = preprocess_detr(std::span(&im, 1), c);
    EXPECT_EQ(b.width, 16u);
    EXPECT_EQ(b.height, 24u);
    EXPECT_EQ(b.pixel_mask[9], 1);
    EXPECT_EQ(b.pixel_mask[10], 0);
    EXPECT_EQ(b.pixel_mask[size_t{20} * 16], 0);
    c.pad_size = std::pair{8u, 8u};
    EXPECT_THROW(preprocess_detr(std::span(&im, 1), c), accel::Error);
    EXPECT_THROW(parse_detr_processor_config(R"({"image_processor_type": "ViTImageProcessor"})", "p"), accel::Error);
    EXPECT_THROW(parse_detr_processor_config(R"({"size": {"shortest_edge": 800}})", "p"), accel::Error);
    EXPECT_THROW(parse_detr_processor_config(R"({"size": {"max_height": 800, "max_width": 800}})", "p"), accel::Error);
    // an older file: an integer size with max_size beside it
    const auto old = parse_detr_processor_config(R"({"size": 800, "max_size": 1333})", "p");
    EXPECT_EQ(old.shortest_edge, 800u);
    EXPECT_EQ(old.longest_edge, 1333u);
}

TEST(DetrPostProcess, MatchesTransformersOnTheReferenceOutputs) {
    const auto st = accel::test::hf_fixture("detr") / "reference.safetensors";
    const auto logits = accel::test::read_st_tensor(st, "logits"), boxes = accel::test::read_st_tensor(st, "pred_boxes");
    const size_t nl = 8 * 4, nb = 8 * 4;
    const auto first = post_process_object_detection(std::span(logits).first(nl), std::span(boxes).first(nb), 4, 0.32f,
                                                     45, 38);
    ASSERT_EQ(first.size(), 8u);  // every query's best real class scores above 0.32 (all "stripes")
    for (const auto& d : first) EXPECT_EQ(d.label, 2);
    EXPECT_NEAR(first[5].score, 0.3445207178592682, 1e-6);
    const std::array<double, 4> box5{1.1742844581604004, 17.008548736572266, 23.967544555664062, 42.29835510253906};
    for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(first[5].box[k], box5[k], 1e-4) << k;
    const auto second = post_process_object_detection(std::span(logits).subspan(nl), std::span(boxes).subspan(nb), 4,
                                                       0.32f, 30, 40);
    struct Expected {
        double score;
        std::array<double, 4> box;
    };
    const std::vector<Expected> want{
        {0.3202761113643646, {0.5292946100234985, 17.52134132385254, 15.87952995300293, 43.705806732177734}},
        {0.3219788372516632, {0.6069391965866089, 17.917482376098633, 16.006433486938477, 43.73100280761719}},
        {0.32119742035865784, {0.569847822189331, 17.534278869628906, 15.84611701965332, 43.54753112792969}}};
    ASSERT_EQ(second.size(), want.size());  // queries 1, 5 and 7
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(second[i].label, 1);
        EXPECT_NEAR(second[i].score, want[i].score, 1e-6);
        for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(second[i].box[k], want[i].box[k], 1e-4);
    }
    EXPECT_TRUE(post_process_object_detection(logits, boxes, 4, 0.5f, 30, 40).empty());
    EXPECT_THROW(post_process_object_detection(logits, std::span(boxes).first(4), 4, 0.5f, 30, 40), accel::Error);
}

}  // namespace
