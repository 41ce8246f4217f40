// The memory estimate of accel's image models before load (model::estimate_vision_memory) against what the loaded
// model holds (engine's VisionMemory: the weights' buffer, and ggml's graph buffers after a forward pass), on the
// vit and clip fixtures at batch 1 and 4 and on make-model-sized shapes by hand; and the FLOPs count against the
// published figure of ViT-B/16 (17.6 GMACs, DeiT's table 1).
#include <gtest/gtest.h>

#include <cstdio>

#include "accel/core/error.h"

#include "accel/engine/clip_model.h"
#include "accel/engine/image_classifier.h"
#include "accel/model/gguf_file.h"
#include "accel/model/hf_convert.h"
#include "accel/model/memory_estimate.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::model::ConvertType;

std::vector<accel::media::PixelValues> images(uint32_t n, uint32_t size) {
    std::vector<accel::media::PixelValues> v;
    for (uint32_t i = 0; i < n; ++i) {
        accel::media::PixelValues p{3, size, size, std::vector<float>(size_t{3} * size * size)};
        for (size_t k = 0; k < p.data.size(); ++k) p.data[k] = static_cast<float>((k * 7 + i) % 13) / 13.0f - 0.5f;
        v.push_back(std::move(p));
    }
    return v;
}

void expect_close(const char* what, const accel::model::VisionMemoryEstimate& est, const accel::engine::VisionMemory& m) {
    std::fprintf(stderr, "%s: weights %llu estimated, %llu measured; compute %llu estimated, %llu measured\n", what,
                 static_cast<unsigned long long>(est.weights_bytes), static_cast<unsigned long long>(m.weights_bytes),
                 static_cast<unsigned long long>(est.compute_buffer_bytes),
                 static_cast<unsigned long long>(m.compute_bytes));
    // the weights are the tensor table's sum; the buffer adds only alignment padding
    EXPECT_LE(est.weights_bytes, m.weights_bytes) << what;
    EXPECT_LE(m.weights_bytes, est.weights_bytes + est.weights_bytes / 50 + 65536) << what;
    // the compute buffer is an estimate: within a factor of 1.5 either way (docs/model.md)
    EXPECT_GT(m.compute_bytes, 0u) << what;
    EXPECT_LE(est.compute_buffer_bytes * 2, 3 * m.compute_bytes) << what;
    EXPECT_LE(m.compute_bytes * 2, 3 * est.compute_buffer_bytes) << what;
}

TEST(VisionMemory, EstimateMatchesTheLoadedVit) {
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture("vit"), tmp / "vit.gguf", {.type = ConvertType::f16});
    const auto shape = accel::model::vision_shape_from_gguf(accel::model::read_gguf(tmp / "vit.gguf"));
    EXPECT_EQ(shape.n_tokens(), 17u);  // 32 px in 8 px patches, plus CLS
    EXPECT_EQ(shape.n_out, 5u);
    for (uint32_t b : {1u, 4u}) {
        auto model = accel::engine::ImageClassifier::load(tmp / "vit.gguf", {.device = "cpu", .n_threads = 1});
        EXPECT_EQ(model.memory().compute_bytes, 0u);
        (void)model.run(images(b, 32));
        expect_close(b == 1 ? "vit b1" : "vit b4", accel::model::estimate_vision_memory(shape, b), model.memory());
    }
}

TEST(VisionMemory, EstimateMatchesTheLoadedClipImageTower) {
    accel::test::TempDir tmp;
    accel::model::convert_hf(accel::test::hf_fixture("clip"), tmp / "clip.gguf", {.type = ConvertType::f32});
    const auto shape = accel::model::vision_shape_from_gguf(accel::model::read_gguf(tmp / "clip.gguf"));
    EXPECT_EQ(shape.n_out, 32u);
    for (uint32_t b : {1u, 4u}) {
        auto model = accel::engine::ClipModel::load(tmp / "clip.gguf", {.device = "cpu", .n_threads = 1});
        (void)model.embed_images(images(b, 32));
        expect_close(b == 1 ? "clip b1" : "clip b4", accel::model::estimate_vision_memory(shape, b), model.memory());
    }
}

TEST(VisionMemory, FlopsOfVitB16AreThePublishedFigure) {
    const accel::model::VisionModelShape vit_b16{.arch = "vit", .image_size = 224, .patch_size = 16, .n_embd = 768,
                                                 .n_ff = 3072, .n_layer = 12, .n_head = 12, .n_out = 1000};
    EXPECT_NEAR(accel::model::vision_flops_per_image(vit_b16) / 2 / 1e9, 17.6, 0.1);  // GMACs
    EXPECT_THROW(accel::model::estimate_vision_memory(vit_b16, 0), accel::Error);
    // batch 8 at 224 px: the attention scores (8 x 12 x 197^2 x 4 bytes, 15 MB) and the MLP (8 x 197 x 3072 x 4,
    // 19 MB) bound it: some tens of MB, far below the weights
    const auto e = accel::model::estimate_vision_memory(vit_b16, 8);
    EXPECT_GT(e.compute_buffer_bytes, 38u << 20);  // measured: 39.1 MB allocated by ggml
    EXPECT_LT(e.compute_buffer_bytes, 60u << 20);
}

}  // namespace
