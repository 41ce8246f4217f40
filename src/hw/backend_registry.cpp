#include "accel/hw/backend_registry.h"

#include <memory>

#include <ggml-backend.h>
#include <ggml.h>

#include "accel/hw/device.h"

namespace accel::hw {

std::vector<std::string> compiled_backends() {
    std::vector<std::string> names;
    const size_t n = ggml_backend_reg_count();
    names.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        names.emplace_back(ggml_backend_reg_name(ggml_backend_reg_get(i)));
    }
    return names;
}

namespace {

struct FreeCtx {
    void operator()(ggml_context* c) const { ggml_free(c); }
};

// Asks each device whether it supports one flash-attention op; only shapes are built (no_alloc), nothing runs.
std::vector<RuntimeFlashAttn> flash_attn_support() {
    std::vector<RuntimeFlashAttn> out;
    ggml_init_params params{};
    params.mem_size = 8 * ggml_tensor_overhead() + ggml_graph_overhead();
    params.no_alloc = true;
    std::unique_ptr<ggml_context, FreeCtx> ctx(ggml_init(params));
    if (!ctx) return out;
    constexpr int64_t head = 128;
    constexpr int64_t n_kv = 256;
    constexpr int64_t n_head = 8;
    ggml_tensor* q = ggml_new_tensor_4d(ctx.get(), GGML_TYPE_F32, head, 1, n_head, 1);
    ggml_tensor* k = ggml_new_tensor_4d(ctx.get(), GGML_TYPE_F16, head, n_kv, n_head, 1);
    ggml_tensor* v = ggml_new_tensor_4d(ctx.get(), GGML_TYPE_F16, head, n_kv, n_head, 1);
    ggml_tensor* mask = ggml_new_tensor_4d(ctx.get(), GGML_TYPE_F16, n_kv, 1, 1, 1);
    ggml_tensor* fa = ggml_flash_attn_ext(ctx.get(), q, k, v, mask, 0.125f, 0.0f, 0.0f);
    for (const auto& d : ggml_devices()) {
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(d.name.c_str());
        if (dev == nullptr) continue;
        out.push_back({.device = d.id, .supported = ggml_backend_dev_supports_op(dev, fa)});
    }
    return out;
}

}  // namespace

GgmlRuntime ggml_runtime() {
    GgmlRuntime r{.commit = ggml_commit(), .version = ggml_version()};
    for (const auto& name : compiled_backends()) {
        r.backends.push_back({.name = name, .library = ggml_backend_library(name),
                              .features = ggml_backend_features(name)});
    }
    r.flash_attn = flash_attn_support();
    return r;
}

}  // namespace accel::hw
