// KV cache bytes measured from llama.cpp's buffers (Session::memory_breakdown) against the memory estimator.
#include <gtest/gtest.h>

#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/model/gguf_file.h"
#include "accel/model/memory_estimate.h"
#include "test_support.h"

namespace {

using namespace accel;

struct KvBytes : ::testing::Test {
    static void SetUpTestSuite() { path = new std::filesystem::path(test::synthetic_model("llama", "5M", "f32")); }
    static void TearDownTestSuite() { delete path; }
    static std::filesystem::path* path;
};
std::filesystem::path* KvBytes::path = nullptr;

struct Case {
    engine::KvType engine_type;
    model::KvType model_type;
    const char* name;
};
constexpr Case cases[] = {{engine::KvType::f16, model::KvType::f16, "f16"},
                          {engine::KvType::q8_0, model::KvType::q8_0, "q8_0"},
                          {engine::KvType::q4_0, model::KvType::q4_0, "q4_0"}};

uint64_t measured_kv(const engine::LoadedModel& m, engine::KvType t, uint32_t n_ctx, engine::FlashAttn fa) {
    auto s = engine::Session::open(m, {.n_ctx = n_ctx, .n_threads = 1, .type_k = t, .type_v = t, .flash_attn = fa});
    return s.memory_breakdown().context_bytes();
}

TEST_F(KvBytes, MeasuredMatchesTheEstimatorWithin5PercentForF16Q8Q4) {
    const auto model = engine::LoadedModel::load(*path);
    const auto shape = model::memory_shape_from_gguf(model::read_gguf(*path));
    for (uint32_t n_ctx : {512u, 1000u}) {
        for (const auto& c : cases) {
            const uint64_t measured = measured_kv(model, c.engine_type, n_ctx, engine::FlashAttn::on);
            const uint64_t estimated = model::estimate_memory(shape, {.n_ctx = n_ctx,
                                                                      .kv_type = c.model_type,
                                                                      .flash_attn = model::FlashAttn::on})
                                           .kv_cache_bytes;
            ASSERT_GT(estimated, 0u) << c.name;
            EXPECT_NEAR(static_cast<double>(measured), static_cast<double>(estimated), 0.05 * estimated)
                << c.name << " at n_ctx " << n_ctx;
        }
    }
}

TEST_F(KvBytes, QuantizedCachesAreSmallerByTheBlockRatio) {
    const auto model = engine::LoadedModel::load(*path);
    const double f16 = static_cast<double>(measured_kv(model, engine::KvType::f16, 512, engine::FlashAttn::on));
    const double q8 = static_cast<double>(measured_kv(model, engine::KvType::q8_0, 512, engine::FlashAttn::on));
    const double q4 = static_cast<double>(measured_kv(model, engine::KvType::q4_0, 512, engine::FlashAttn::on));
    // ggml's blocks of 32 values: f16 64 bytes, q8_0 34 bytes (32 + an f16 scale), q4_0 18 bytes (16 + scale).
    EXPECT_NEAR(q8 / f16, 34.0 / 64.0, 0.01);
    EXPECT_NEAR(q4 / f16, 18.0 / 64.0, 0.01);
}

TEST_F(KvBytes, BreakdownCountsTheWeightsOnceAndAComputeBufferThatFlashAttentionShrinks) {
    const auto model = engine::LoadedModel::load(*path, {.use_mmap = false});
    const auto on = engine::Session::open(model, {.n_ctx = 1024, .n_threads = 1, .flash_attn = engine::FlashAttn::on});
    const auto off =
        engine::Session::open(model, {.n_ctx = 1024, .n_threads = 1, .flash_attn = engine::FlashAttn::off});
    const auto mb_on = on.memory_breakdown();
    const auto mb_off = off.memory_breakdown();
    const uint64_t weights = model::read_gguf(*path).weights_bytes();
    EXPECT_GE(mb_on.model_bytes(), weights);
    EXPECT_LT(static_cast<double>(mb_on.model_bytes()), 1.01 * static_cast<double>(weights));
    EXPECT_EQ(mb_on.model_bytes(), mb_off.model_bytes());
    for (const auto& b : mb_on.buffers) EXPECT_EQ(b.device, "cpu") << b.buffer;
    EXPECT_GT(mb_on.compute_bytes(), 0u);
    // Without flash attention one ubatch's KQ matrix (512 x 1024 x n_head floats) is materialized.
    EXPECT_GT(mb_off.compute_bytes(), mb_on.compute_bytes());
}

}  // namespace
