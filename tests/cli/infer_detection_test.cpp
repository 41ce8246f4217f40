// `accel infer` on the detr fixture through the binary: each image alone (decode, DetrImageProcessor, the graph,
// post-processing) against what transformers 4.57.6 gives for the same file alone, `DetrImageProcessor` +
// `DetrForObjectDetection` + `post_process_object_detection(threshold, target_sizes=[image size])`:
//   shapes.png, threshold 0.34: stripes 0.340498 [0.2478, 16.3071, 23.749, 42.1774],
//     stripes 0.340807 [0.357, 16.4665, 23.6278, 42.1203], stripes 0.34041 [0.6195, 16.1265, 23.1371, 42.0286]
//   portrait.png, threshold 0.31: stripes 0.312499 [0.9763, 17.4019, 15.7661, 43.4753],
//     stripes 0.313513 [1.2311, 17.0142, 15.3569, 43.4701]
// The weights are random: the detections mean nothing, only that they are transformers'.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::test::run_accel;

struct Expected {
    double score;
    std::array<double, 4> box;
};

class InferDetection : public testing::Test {
protected:
    static void SetUpTestSuite() {
        tmp_ = new accel::test::TempDir;
        const auto r = run_accel({"convert", accel::test::hf_fixture("detr").string(), "--out", model().string(),
                                  "--type", "f32"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    static void TearDownTestSuite() {
        delete tmp_;
        tmp_ = nullptr;
    }
    static fs::path model() { return *tmp_ / "detr.gguf"; }
    static fs::path image(const char* name) { return accel::test::hf_fixture("detr") / name; }
    static inline accel::test::TempDir* tmp_ = nullptr;
};

void expect_detections(const nlohmann::json& result, const std::vector<Expected>& want) {
    const auto& dets = result.at("detections");
    ASSERT_EQ(dets.size(), want.size()) << result.dump();
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(dets[i].at("label"), "stripes");
        EXPECT_EQ(dets[i].at("id"), 2);
        EXPECT_NEAR(dets[i].at("score").get<double>(), want[i].score, 1e-5);
        for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(dets[i].at("box")[k].get<double>(), want[i].box[k], 1e-3) << i;
    }
}

TEST_F(InferDetection, JsonMatchesTransformersImageByImage) {
    auto r = run_accel({"infer", "--model", model().string(), "--image", image("shapes.png").string(), "--threshold",
                        "0.34", "--json", "-t", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("schema_version"), 1);
    EXPECT_EQ(j.at("task"), "object_detection");
    EXPECT_DOUBLE_EQ(j.at("threshold").get<double>(), 0.34);
    ASSERT_EQ(j.at("results").size(), 1u);
    EXPECT_EQ(j["results"][0].at("width"), 45);
    EXPECT_EQ(j["results"][0].at("height"), 38);
    expect_detections(j["results"][0], {{0.340498, {0.2478, 16.3071, 23.749, 42.1774}},
                                        {0.340807, {0.357, 16.4665, 23.6278, 42.1203}},
                                        {0.34041, {0.6195, 16.1265, 23.1371, 42.0286}}});
    r = run_accel({"infer", "--model", model().string(), "--image", image("portrait.png").string(), "--threshold",
                   "0.31", "--json", "-t", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    j = nlohmann::json::parse(r.out);
    expect_detections(j["results"][0], {{0.312499, {0.9763, 17.4019, 15.7661, 43.4753}},
                                        {0.313513, {1.2311, 17.0142, 15.3569, 43.4701}}});
}

// A header line per image ("<path> (<w>x<h>): <n> detections"), then "  <score>  <label>  [x0, y0, x1, y1]".
TEST_F(InferDetection, TextPrintsOneLinePerDetection) {
    const auto r = run_accel({"infer", "--model", model().string(), "--image", image("shapes.png").string(), "--image",
                              image("portrait.png").string(), "--threshold", "0.34", "-t", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string want_head = image("shapes.png").string() + " (45x38): 3 detections\n  0.3405  stripes";
    EXPECT_EQ(r.out.rfind(want_head, 0), 0u) << r.out;
    EXPECT_NE(r.out.find("[0.2, 16.3, 23.7, 42.2]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(image("portrait.png").string() + " (30x40): 0 detections\n"), std::string::npos) << r.out;
}

TEST_F(InferDetection, BadInputExitsTwo) {
    auto r = run_accel({"infer", "--model", model().string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("an object detector needs an image"), std::string::npos) << r.err;
    r = run_accel({"infer", "--model", model().string(), "--image", (*tmp_ / "missing.png").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("missing.png"), std::string::npos) << r.err;
}

}  // namespace
