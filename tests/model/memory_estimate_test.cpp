// The memory estimator: exact weights and KV cache bytes for known shapes, and the GGUF shape reader.
#include <utility>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/model/gguf_file.h"
#include "accel/model/memory_estimate.h"
#include "gguf_builder.h"
#include "test_support.h"

namespace {

using accel::model::KvType;
using accel::model::MemoryConfig;
using accel::model::MemoryModelShape;

MemoryModelShape shape() {
    return {.weights_bytes = 1000,
            .n_layer = 2,
            .n_ctx_train = 2048,
            .n_embd = 512,
            .n_head = 8,
            .n_head_kv = 4,
            .head_dim_k = 64,
            .head_dim_v = 64,
            .n_ff = 1024,
            .n_vocab = 100};
}

TEST(MemoryEstimate, KvCacheBytesPerType) {
    // 100 cells pad to 256; K and V rows hold 4 x 64 = 256 elements per layer and cell.
    auto e = accel::model::estimate_memory(shape(), {.n_ctx = 100, .kv_type = KvType::f16});
    EXPECT_EQ(e.n_kv_cells, 256u);
    EXPECT_EQ(e.kv_cache_bytes, 2u * 256 * (256 * 2 + 256 * 2));
    e = accel::model::estimate_memory(shape(), {.n_ctx = 100, .kv_type = KvType::q8_0});
    EXPECT_EQ(e.kv_cache_bytes, 2u * 256 * (8 * 34 * 2));
    e = accel::model::estimate_memory(shape(), {.n_ctx = 100, .kv_type = KvType::q4_0});
    EXPECT_EQ(e.kv_cache_bytes, 2u * 256 * (8 * 18 * 2));
    e = accel::model::estimate_memory(shape(), {.n_ctx = 100, .kv_type = KvType::f32});
    EXPECT_EQ(e.kv_cache_bytes, 2u * 256 * (256 * 4 * 2));
}

TEST(MemoryEstimate, ParallelSequencesAndTrainingContext) {
    auto e = accel::model::estimate_memory(shape(), {.n_ctx = 100, .n_parallel = 4});
    EXPECT_EQ(e.n_kv_cells, 512u);
    e = accel::model::estimate_memory(shape(), {.n_ctx = 0});
    EXPECT_EQ(e.n_ctx, 2048u);
    EXPECT_EQ(e.n_kv_cells, 2048u);
}

TEST(MemoryEstimate, TotalIsTheSumAndWeightsAreExact) {
    const auto e = accel::model::estimate_memory(shape(), {.n_ctx = 512});
    EXPECT_EQ(e.weights_bytes, 1000u);
    EXPECT_GT(e.compute_buffer_bytes, 0u);
    EXPECT_EQ(e.total_bytes, e.weights_bytes + e.kv_cache_bytes + e.compute_buffer_bytes);
    bool labelled = false;
    for (const auto& n : e.notes) labelled = labelled || n.find("estimate") != std::string::npos;
    EXPECT_TRUE(labelled);
}

TEST(MemoryEstimate, FlashAttentionDropsTheKqMatrix) {
    using accel::model::FlashAttn;
    const auto without = accel::model::estimate_memory(shape(), {.n_ctx = 8192, .flash_attn = FlashAttn::off});
    const auto with = accel::model::estimate_memory(shape(), {.n_ctx = 8192, .flash_attn = FlashAttn::on});
    EXPECT_LT(with.compute_buffer_bytes, without.compute_buffer_bytes);
    // auto is llama.cpp's decision at context creation; the estimate budgets it as off, the larger buffer.
    const auto automatic = accel::model::estimate_memory(shape(), {.n_ctx = 8192, .flash_attn = FlashAttn::auto_});
    EXPECT_EQ(automatic.compute_buffer_bytes, without.compute_buffer_bytes);
}

TEST(MemoryEstimate, KvCacheBytesPerTypeFollowGgmlBlockSizes) {
    // Per 32 values: f32 128 bytes, f16/bf16 64, q8_0 34, q5_1 24, q5_0 22, q4_1 20, q4_0/iq4_nl 18.
    const std::pair<KvType, double> cases[] = {{KvType::f32, 128}, {KvType::bf16, 64}, {KvType::q8_0, 34},
                                               {KvType::q5_1, 24}, {KvType::q5_0, 22}, {KvType::q4_1, 20},
                                               {KvType::q4_0, 18}, {KvType::iq4_nl, 18}};
    const double f16 = static_cast<double>(
        accel::model::estimate_memory(shape(), {.n_ctx = 512, .kv_type = KvType::f16}).kv_cache_bytes);
    for (const auto& [type, bytes] : cases) {
        const auto e = accel::model::estimate_memory(shape(), {.n_ctx = 512, .kv_type = type});
        EXPECT_DOUBLE_EQ(static_cast<double>(e.kv_cache_bytes) / f16, bytes / 64.0) << to_string(type);
    }
}

TEST(MemoryEstimate, InvalidConfig) {
    EXPECT_THROW((void)accel::model::estimate_memory(shape(), {.n_parallel = 0}), accel::Error);
    EXPECT_THROW((void)accel::model::estimate_memory(shape(), {.n_ubatch = 0}), accel::Error);
    EXPECT_THROW((void)accel::model::parse_kv_type("q9_9"), accel::Error);
    EXPECT_EQ(accel::model::parse_kv_type("q8_0"), KvType::q8_0);
}

TEST(MemoryEstimate, ShapeFromGguf) {
    accel::test::GgufBuilder b;
    b.header(1, 5)
        .kv_str("general.architecture", "llama")
        .kv_u32("llama.block_count", 3)
        .kv_u32("llama.embedding_length", 128)
        .kv_u32("llama.attention.head_count", 4)
        .kv_u32("llama.attention.head_count_kv", 2)
        .tensor("w", {128, 2}, 1, 0)
        .data(512);
    const auto f = accel::model::parse_gguf(std::as_bytes(std::span(b.bytes.data(), b.bytes.size())), "m.gguf");
    const auto s = accel::model::memory_shape_from_gguf(f);
    EXPECT_EQ(s.weights_bytes, 512u);
    EXPECT_EQ(s.n_layer, 3u);
    EXPECT_EQ(s.n_head_kv, 2u);
    EXPECT_EQ(s.head_dim_k, 32u);

    accel::test::GgufBuilder no_layers;
    no_layers.header(0, 1).kv_str("general.architecture", "llama");
    const auto g =
        accel::model::parse_gguf(std::as_bytes(std::span(no_layers.bytes.data(), no_layers.bytes.size())), "m.gguf");
    EXPECT_THROW((void)accel::model::memory_shape_from_gguf(g), accel::Error);
}

TEST(MemoryEstimate, Stories260KWeightsAreTheTensorTable) {
    ACCEL_REQUIRE_TEST_FILE(path, "models/stories260K.gguf");
    const auto f = accel::model::read_gguf(path);
    const auto s = accel::model::memory_shape_from_gguf(f);
    uint64_t sum = 0;
    for (const auto& t : f.tensors) sum += t.n_bytes;
    EXPECT_EQ(s.weights_bytes, sum);
    EXPECT_EQ(s.n_layer, 5u);
    const auto e = accel::model::estimate_memory(s, {.n_ctx = 512});
    EXPECT_EQ(e.kv_cache_bytes, uint64_t{s.n_layer} * 512 * (s.n_head_kv * s.head_dim_k * 2 * 2));
}

}  // namespace
