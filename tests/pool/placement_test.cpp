#include <gtest/gtest.h>

#include "accel/pool/placement.h"
#include "accel/model/gguf_file.h"
#include "accel/model/memory_estimate.h"

namespace {

using namespace accel;
constexpr uint64_t MiB = 1ull << 20;

pool::ModelFootprint model_of(uint32_t layers, uint64_t layer_mib) {
    pool::ModelFootprint fp;
    fp.n_layer = layers;
    fp.layer_bytes.assign(layers, layer_mib * MiB);
    fp.output_bytes = 50 * MiB;
    fp.input_bytes = 50 * MiB;
    fp.kv_bytes_per_layer = 10 * MiB;
    fp.compute_bytes = 100 * MiB;
    return fp;
}

hw::Device gpu(const std::string& id, uint64_t free_mib) {
    hw::Device d;
    d.id = id;
    d.type = hw::DeviceType::gpu;
    d.usable = true;
    d.memory_total_bytes = 80'000 * MiB;
    d.memory_free_bytes = free_mib * MiB;
    return d;
}

hw::Device cpu() {
    hw::Device d;
    d.id = "cpu";
    d.type = hw::DeviceType::cpu;
    d.usable = true;
    d.memory_total_bytes = 64'000 * MiB;
    d.memory_free_bytes = 60'000 * MiB;
    return d;
}

pool::PlacementRequest no_margin() { return {.margin_bytes = 0, .margin_fraction = 0}; }

// Layers are the "blk.<i>." tensors, as llama.cpp names them; anything else is input or output.
TEST(Footprint, CountsBlocksFromTensorNames) {
    model::GgufFile f;
    const auto add = [&](const std::string& name, uint64_t bytes) {
        model::GgufTensor t;
        t.name = name;
        t.n_bytes = bytes;
        f.tensors.push_back(t);
    };
    add("token_embd.weight", 100);
    add("blk.0.attn_q.weight", 10);
    add("blk.0.ffn_up.weight", 5);
    add("blk.11.attn_q.weight", 7);
    add("blk.x.attn_q.weight", 1000);  // not a block index
    add("blk.12", 2000);               // no trailing dot
    add("output_norm.weight", 3);
    add("output.weight", 40);
    model::MemoryEstimate est;
    est.kv_cache_bytes = 1200;
    est.compute_buffer_bytes = 77;
    const pool::ModelFootprint fp = pool::footprint(f, est);
    ASSERT_EQ(fp.n_layer, 12u);
    EXPECT_EQ(fp.layer_bytes[0], 15u);
    EXPECT_EQ(fp.layer_bytes[11], 7u);
    EXPECT_EQ(fp.layer_bytes[5], 0u);
    EXPECT_EQ(fp.output_bytes, 43u);
    EXPECT_EQ(fp.input_bytes, 3100u);
    EXPECT_EQ(fp.kv_bytes_per_layer, 100u);
    EXPECT_EQ(fp.compute_bytes, 77u);
}

TEST(Placement, CpuOnlyMachine) {
    const auto p = pool::place(model_of(10, 100), {cpu()}, no_margin());
    EXPECT_EQ(p.device, "cpu");
    EXPECT_EQ(p.n_gpu_layers, 0);
    EXPECT_EQ(p.bytes.at("cpu"), (10 * 110 + 50 + 50 + 100) * MiB);
    EXPECT_NE(p.reasons.at(0).find("no usable GPU"), std::string::npos);
}

TEST(Placement, WholeModelOnTheGpuWithMostFreeMemory) {
    const auto p = pool::place(model_of(10, 100), {cpu(), gpu("cuda0", 1000), gpu("cuda1", 5000)}, no_margin());
    EXPECT_EQ(p.device, "cuda1");
    EXPECT_EQ(p.n_gpu_layers, 11);  // every layer and the output layer
    EXPECT_EQ(p.bytes.at("cuda1"), (10 * 110 + 50 + 100) * MiB);
}

TEST(Placement, SplitOverGpusWhenNoneHoldsItAlone) {
    const auto p = pool::place(model_of(10, 100), {cpu(), gpu("cuda0", 900), gpu("cuda1", 600)}, no_margin());
    ASSERT_EQ(p.split_devices.size(), 2u);
    EXPECT_EQ(p.split_devices[0], "cuda0");
    EXPECT_NEAR(p.split_fractions[0], 0.6, 1e-6);
    EXPECT_NEAR(p.split_fractions[1], 0.4, 1e-6);
    EXPECT_EQ(p.n_gpu_layers, 11);
}

TEST(Placement, PartialOffloadWhenTheGpuIsTooSmall) {
    // 100 MiB compute + 110 MiB per layer: 560 MiB holds 4 layers.
    const auto p = pool::place(model_of(10, 100), {cpu(), gpu("cuda0", 560)}, no_margin());
    EXPECT_EQ(p.device, "cuda0");
    EXPECT_EQ(p.n_gpu_layers, 4);
    EXPECT_EQ(p.bytes.at("cuda0"), (100 + 4 * 110) * MiB);
    EXPECT_NE(p.reasons.at(0).find("offloading 4 of 10 layers"), std::string::npos) << p.reasons.at(0);
}

TEST(Placement, MarginIsKeptFree) {
    pool::PlacementRequest req{.margin_bytes = 1000 * MiB, .margin_fraction = 0};
    const auto p = pool::place(model_of(10, 100), {cpu(), gpu("cuda0", 1400)}, req);
    EXPECT_EQ(p.n_gpu_layers, 2);  // 400 MiB usable: compute + 2 layers
}

TEST(Placement, ForcedDeviceThatCannotHoldALayerDoesNotFit) {
    pool::PlacementRequest req = no_margin();
    req.forced_device = "cuda0";
    const auto p = pool::place(model_of(10, 100), {cpu(), gpu("cuda0", 150)}, req);
    EXPECT_FALSE(p.fits);
    EXPECT_NE(p.reasons.at(0).find("cannot hold even one layer"), std::string::npos);
}

TEST(Placement, ForcedUnknownDeviceDoesNotFit) {
    pool::PlacementRequest req = no_margin();
    req.forced_device = "cuda3";
    const auto p = pool::place(model_of(10, 100), {cpu()}, req);
    EXPECT_FALSE(p.fits);
}

TEST(Placement, TooSmallGpuFallsBackToCpuAndSaysWhy) {
    const auto p = pool::place(model_of(10, 100), {cpu(), gpu("cuda0", 150)}, no_margin());
    EXPECT_EQ(p.device, "cpu");
    EXPECT_NE(p.reasons.at(0).find("no GPU can hold a layer"), std::string::npos);
}

}  // namespace
