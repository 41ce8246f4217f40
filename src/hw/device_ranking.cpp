#include "accel/hw/device_ranking.h"

#include <algorithm>
#include <memory>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <ggml-backend.h>
#include <ggml.h>

namespace accel::hw {
namespace {

std::string gib(uint64_t bytes) { return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024)); }

struct Scored {
    RankedDevice ranked;
    size_t kind_rank = 0;
    double gflops = -1;  // -1: not measured
    uint64_t free_bytes = 0;
    size_t order = 0;
};

struct FreeCtx {
    void operator()(ggml_context* c) const { ggml_free(c); }
};

}  // namespace

std::optional<bool> ggml_type_support(const Device& device, std::string_view type) {
    if (device.backend.empty()) return std::nullopt;
    ggml_backend_dev_t dev = ggml_backend_dev_by_name(device.name.c_str());
    if (dev == nullptr) return std::nullopt;
    std::optional<ggml_type> found;
    for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
        const char* name = ggml_type_name(static_cast<ggml_type>(t));
        if (name != nullptr && type == name) found = static_cast<ggml_type>(t);
    }
    if (!found || ggml_blck_size(*found) == 0) return std::nullopt;
    ggml_init_params params{};
    params.mem_size = ggml_tensor_overhead() * 4;
    params.no_alloc = true;
    std::unique_ptr<ggml_context, FreeCtx> ctx(ggml_init(params));
    if (!ctx) return std::nullopt;
    const int64_t k = ggml_blck_size(*found) * 8;
    ggml_tensor* a = ggml_new_tensor_2d(ctx.get(), *found, k, 32);
    ggml_tensor* b = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, k, 8);
    return ggml_backend_dev_supports_op(dev, ggml_mul_mat(ctx.get(), a, b));
}

std::vector<RankedDevice> rank_devices(const std::vector<Device>& devices, const Requirements& req,
                                       const Roofline* measured, const TypeSupport& support) {
    std::vector<Scored> scored;
    for (size_t i = 0; i < devices.size(); ++i) {
        const Device& d = devices[i];
        Scored s;
        s.order = i;
        s.ranked.id = d.id;
        s.free_bytes = d.memory_free_bytes;
        const auto kind = std::find(req.preferred_kinds.begin(), req.preferred_kinds.end(), d.type);
        s.kind_rank = static_cast<size_t>(kind - req.preferred_kinds.begin());
        std::vector<std::string> parts;
        bool feasible = d.usable;
        if (!d.usable) parts.push_back("not usable: " + d.reason);
        if (d.memory_free_bytes >= req.bytes_per_device) {
            parts.push_back(fmt::format("fits: needs {} of {} free", gib(req.bytes_per_device), gib(d.memory_free_bytes)));
        } else {
            feasible = false;
            parts.push_back(fmt::format("does not fit: needs {}, {} free", gib(req.bytes_per_device), gib(d.memory_free_bytes)));
        }
        std::vector<std::string> unsupported;
        std::vector<std::string> unknown;
        for (const auto& t : req.tensor_types) {
            const std::optional<bool> ok = support ? support(d, t) : std::nullopt;
            if (!ok) {
                unknown.push_back(t);
            } else if (!*ok) {
                unsupported.push_back(t);
            }
        }
        const std::string backend = d.backend.empty() ? "no backend" : d.backend;
        if (!unsupported.empty()) {
            feasible = false;
            parts.push_back(fmt::format("{} does not support {}", backend, fmt::join(unsupported, ", ")));
        } else if (!unknown.empty()) {
            feasible = false;
            parts.push_back(fmt::format("support for {} on {} unknown", fmt::join(unknown, ", "), backend));
        } else if (!req.tensor_types.empty()) {
            parts.push_back(fmt::format("{} supports {}", backend, fmt::join(req.tensor_types, ", ")));
        }
        if (measured != nullptr && !req.tensor_types.empty()) {
            for (const auto& m : measured->matmul) {
                if (m.device == d.id && m.type == req.tensor_types.front()) s.gflops = m.gflops.median;
            }
        }
        if (s.gflops >= 0) {
            parts.push_back(fmt::format("measured {:.0f} GFLOP/s {}", s.gflops, req.tensor_types.front()));
        } else if (!req.tensor_types.empty()) {
            parts.push_back("throughput not measured");
        }
        if (kind != req.preferred_kinds.end()) parts.push_back(fmt::format("preferred kind {}", to_string(d.type)));
        s.ranked.feasible = feasible;
        s.ranked.reason = fmt::format("{}", fmt::join(parts, "; "));
        scored.push_back(std::move(s));
    }
    std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
        if (a.ranked.feasible != b.ranked.feasible) return a.ranked.feasible;
        if (a.kind_rank != b.kind_rank) return a.kind_rank < b.kind_rank;
        if (a.gflops != b.gflops) return a.gflops > b.gflops;
        return a.free_bytes > b.free_bytes;
    });
    std::vector<RankedDevice> out;
    out.reserve(scored.size());
    for (auto& s : scored) out.push_back(std::move(s.ranked));
    return out;
}

}  // namespace accel::hw
