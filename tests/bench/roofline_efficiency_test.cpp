// The roofline formulas of a bench point against hand-computed values, the per-device roof, the weight type's
// own peak, and the defect flag above 100%.
#include <gtest/gtest.h>

#include "accel/bench/roofline_efficiency.h"

namespace {

using namespace accel;

hw::Roofline roof() {
    hw::Roofline r;
    r.measured_at = "2026-12-02T00:00:00Z";
    r.fingerprint = "0123456789abcdef";
    r.bandwidth.push_back({.device = "cpu", .kernel = "read", .threads = 2, .gb_per_s = {.median = 20}});
    r.bandwidth.push_back({.device = "cpu", .kernel = "copy", .threads = 2, .gb_per_s = {.median = 50}});
    r.bandwidth.push_back({.device = "cuda0", .kernel = "read", .threads = 0, .gb_per_s = {.median = 4000}});
    r.matmul.push_back({.device = "cpu", .type = "q4_0", .m = 2048, .n = 512, .k = 2048, .layout = "CPU_REPACK",
                        .gflops = {.median = 200}});
    r.matmul.push_back({.device = "cpu", .type = "f32", .gflops = {.median = 50}});
    r.matmul.push_back({.device = "cuda0", .type = "q4_K", .gflops = {.median = 100000}});
    return r;
}

TEST(RooflineEfficiency, DecodeReadsTheWeightsAndTheKvOfTheContextSoFar) {
    const hw::Roofline r = roof();
    // 100 MB of weights, a 512-cell KV cache of 8 MB: at depth 0 and 128 generated tokens the average context is
    // 64 cells, 1 MB. (100e6 + 1e6) bytes * 50 t/s = 5.05 GB/s of a 20 GB/s roof = 25.25%.
    const auto e = bench::roofline_efficiency(&r, {.device = "cpu", .model_description = "llama 100M Q4_0",
                                                   .n_prompt = 0, .n_gen = 128, .tokens_per_s = 50,
                                                   .weight_bytes = 100'000'000, .kv_bytes = 8'000'000,
                                                   .kv_cells = 512});
    ASSERT_TRUE(e.decode_bandwidth_pct.has_value());
    EXPECT_DOUBLE_EQ(*e.decode_bandwidth_pct, 25.25);
    EXPECT_FALSE(e.prefill_flops_pct.has_value());
    EXPECT_EQ(e.defect, "");
    EXPECT_NE(e.basis.find("cpu read bandwidth 20.0 GB/s"), std::string::npos) << e.basis;
}

TEST(RooflineEfficiency, AGpuPointUsesItsOwnMemorysBandwidth) {
    const hw::Roofline r = roof();
    // 4 GB of weights at 500 t/s = 2000 GB/s of the device's 4000: 50%, not 10000% of the host's 20.
    const auto e = bench::roofline_efficiency(&r, {.device = "cuda0", .model_description = "llama 8B Q4_K - Medium",
                                                   .n_gen = 64, .tokens_per_s = 500, .weight_bytes = 4'000'000'000});
    EXPECT_DOUBLE_EQ(*e.decode_bandwidth_pct, 50.0);
}

TEST(RooflineEfficiency, PrefillIsTwoFlopsPerBlockWeightAgainstTheTypesOwnPeak) {
    const hw::Roofline r = roof();
    // 25M block parameters * 2 FLOPs * 1000 t/s = 50 GFLOP/s of the q4_0 peak 200 = 25%.
    const auto e = bench::roofline_efficiency(&r, {.device = "cpu", .model_description = "llama 100M Q4_0",
                                                   .n_prompt = 512, .tokens_per_s = 1000,
                                                   .n_params_blocks = 25'000'000});
    ASSERT_TRUE(e.prefill_flops_pct.has_value());
    EXPECT_DOUBLE_EQ(*e.prefill_flops_pct, 25.0);
    EXPECT_NE(e.basis.find("cpu q4_0 matmul peak 200.0 GFLOP/s (2048x512x2048, CPU_REPACK)"), std::string::npos)
        << e.basis;
}

TEST(RooflineEfficiency, AnUnmeasuredTypeIsUnavailableNeverAnotherTypesPeak) {
    const hw::Roofline r = roof();
    const auto k = bench::roofline_efficiency(&r, {.device = "cpu", .model_description = "llama 7B Q4_K - Medium",
                                                   .n_prompt = 512, .tokens_per_s = 100, .n_params_blocks = 1000});
    EXPECT_FALSE(k.prefill_flops_pct.has_value()) << "the old code fell back to the f32 peak";
    EXPECT_NE(k.basis.find("prefill: unavailable, no q4_K matmul peak measured for cpu"), std::string::npos) << k.basis;
    const auto b = bench::roofline_efficiency(&r, {.device = "cpu", .model_description = "qwen2 0.5B BF16",
                                                   .n_prompt = 512, .tokens_per_s = 100, .n_params_blocks = 1000});
    EXPECT_FALSE(b.prefill_flops_pct.has_value()) << "BF16 is not F16";
    const auto gpu = bench::roofline_efficiency(&r, {.device = "cuda1", .model_description = "llama 1B F16",
                                                     .n_gen = 16, .tokens_per_s = 10, .weight_bytes = 1});
    EXPECT_FALSE(gpu.decode_bandwidth_pct.has_value());
    EXPECT_NE(gpu.basis.find("decode: unavailable, no memory bandwidth measured for cuda1"), std::string::npos);
}

TEST(RooflineEfficiency, AboveTheRoofIsADefectNotAnEfficiency) {
    const hw::Roofline r = roof();
    // 10M block parameters * 2 * 3000 t/s = 60 GFLOP/s of an f32 peak of 50: 120%.
    const auto e = bench::roofline_efficiency(&r, {.device = "cpu", .model_description = "llama 10M all F32",
                                                   .n_prompt = 64, .tokens_per_s = 3000,
                                                   .n_params_blocks = 10'000'000});
    EXPECT_DOUBLE_EQ(*e.prefill_flops_pct, 120.0);
    EXPECT_NE(e.defect.find("above 100% of the measured roof"), std::string::npos);
}

TEST(RooflineEfficiency, NoRooflineNoFigures) {
    const auto e = bench::roofline_efficiency(nullptr, {.device = "cpu", .n_gen = 16, .tokens_per_s = 10});
    EXPECT_FALSE(e.decode_bandwidth_pct.has_value());
    EXPECT_EQ(e.basis, "unavailable: no roofline measured on this machine yet (run accel detect --measure)");
}

}  // namespace
