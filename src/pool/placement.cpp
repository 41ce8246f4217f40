#include "accel/pool/placement.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <numeric>

#include <fmt/core.h>

#include "accel/core/units.h"

#include "accel/model/gguf_file.h"

namespace accel::pool {
namespace {

bool is_gpu(const hw::Device& d) {
    return d.usable && (d.type == hw::DeviceType::gpu || d.type == hw::DeviceType::igpu);
}

uint64_t usable_free(const hw::Device& d, const PlacementRequest& req) {
    const auto frac = static_cast<uint64_t>(req.margin_fraction * static_cast<double>(d.memory_total_bytes));
    const uint64_t margin = std::max(req.margin_bytes, frac);
    return d.memory_free_bytes > margin ? d.memory_free_bytes - margin : 0;
}

// Bytes on the GPU when the last n layers (and, with all layers, the output layer) are offloaded.
uint64_t gpu_bytes(const ModelFootprint& fp, uint32_t n) {
    uint64_t b = fp.compute_bytes;
    for (uint32_t i = fp.n_layer - n; i < fp.n_layer; ++i) b += fp.layer_bytes[i] + fp.kv_bytes_per_layer;
    if (n == fp.n_layer) b += fp.output_bytes;
    return b;
}

uint64_t total_bytes(const ModelFootprint& fp) {
    return std::accumulate(fp.layer_bytes.begin(), fp.layer_bytes.end(), uint64_t{0}) + fp.output_bytes +
           fp.input_bytes + fp.kv_bytes_per_layer * fp.n_layer + fp.compute_bytes;
}

Placement on_cpu(const ModelFootprint& fp, std::vector<std::string> reasons) {
    Placement p;
    p.device = "cpu";
    p.bytes["cpu"] = total_bytes(fp);
    p.reasons = std::move(reasons);
    return p;
}

}  // namespace

namespace {

// The block index of a "blk.<i>.<rest>" tensor name, as llama.cpp names repeating layers. from_chars rather than
// sscanf: this runs for every tensor before every pool load.
std::optional<uint32_t> block_index(std::string_view name) {
    constexpr std::string_view prefix = "blk.";
    if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    uint32_t idx = 0;
    const auto [p, ec] = std::from_chars(first, last, idx);
    if (ec != std::errc() || p == first || p == last || *p != '.') return std::nullopt;
    return idx;
}

}  // namespace

ModelFootprint footprint(const model::GgufFile& file, const model::MemoryEstimate& estimate) {
    ModelFootprint fp;
    uint32_t max_block = 0;
    bool any_block = false;
    for (const auto& t : file.tensors) {
        if (const auto idx = block_index(t.name)) {
            any_block = true;
            max_block = std::max(max_block, *idx);
        }
    }
    fp.n_layer = any_block ? max_block + 1 : 0;
    fp.layer_bytes.assign(fp.n_layer, 0);
    for (const auto& t : file.tensors) {
        if (const auto idx = block_index(t.name)) {
            fp.layer_bytes[*idx] += t.n_bytes;
        } else if (t.name.rfind("output", 0) == 0) {
            fp.output_bytes += t.n_bytes;
        } else {
            fp.input_bytes += t.n_bytes;
        }
    }
    fp.kv_bytes_per_layer = fp.n_layer > 0 ? estimate.kv_cache_bytes / fp.n_layer : 0;
    fp.compute_bytes = estimate.compute_buffer_bytes;
    if (fp.n_layer == 0) fp.input_bytes += estimate.kv_cache_bytes;
    return fp;
}

Placement place(const ModelFootprint& fp, const std::vector<hw::Device>& devices, const PlacementRequest& req) {
    std::vector<const hw::Device*> gpus;
    for (const auto& d : devices) {
        if (is_gpu(d) && (req.forced_device.empty() || d.id == req.forced_device)) gpus.push_back(&d);
    }
    const uint64_t need_all = gpu_bytes(fp, fp.n_layer);

    if (req.forced_device == "cpu" || (req.forced_device.empty() && gpus.empty())) {
        return on_cpu(fp, {req.forced_device == "cpu" ? "--device cpu: runs on the CPU"
                                                      : "no usable GPU in this build: runs on the CPU"});
    }
    if (!req.forced_device.empty() && gpus.empty()) {
        Placement p;
        p.device = req.forced_device;
        p.fits = false;
        p.reasons.push_back("--device " + req.forced_device + " is not a usable GPU of this build");
        return p;
    }
    std::sort(gpus.begin(), gpus.end(),
              [&](const hw::Device* a, const hw::Device* b) { return usable_free(*a, req) > usable_free(*b, req); });

    // 1. One GPU holds everything.
    if (usable_free(*gpus[0], req) >= need_all) {
        Placement p;
        p.device = gpus[0]->id;
        p.n_gpu_layers = static_cast<int32_t>(fp.n_layer) + 1;
        p.bytes[p.device] = need_all;
        p.bytes["cpu"] = fp.input_bytes;
        p.reasons.push_back(fmt::format("{} holds all {} layers: needs {}, {} free after the margin", p.device,
                                        fp.n_layer, mib(need_all, 0), mib(usable_free(*gpus[0], req), 0)));
        return p;
    }
    // 2. Several GPUs together, in proportion to their free memory.
    uint64_t free_sum = 0;
    for (const auto* g : gpus) free_sum += usable_free(*g, req);
    if (gpus.size() > 1 && free_sum >= need_all) {
        Placement p;
        p.device = gpus[0]->id;
        p.n_gpu_layers = static_cast<int32_t>(fp.n_layer) + 1;
        for (const auto* g : gpus) {
            const double f = static_cast<double>(usable_free(*g, req)) / static_cast<double>(free_sum);
            p.split_devices.push_back(g->id);
            p.split_fractions.push_back(static_cast<float>(f));
            p.bytes[g->id] = static_cast<uint64_t>(f * static_cast<double>(need_all));
        }
        p.bytes["cpu"] = fp.input_bytes;
        p.reasons.push_back(fmt::format("no single GPU holds {}; split over {} GPUs by free memory", mib(need_all, 0),
                                        gpus.size()));
        return p;
    }
    // 3. Partial offload: as many layers as fit on the best GPU, the rest on the CPU.
    uint32_t n = 0;
    while (n < fp.n_layer && gpu_bytes(fp, n + 1) <= usable_free(*gpus[0], req)) ++n;
    if (n > 0) {
        Placement p;
        p.device = gpus[0]->id;
        p.n_gpu_layers = static_cast<int32_t>(n);
        p.bytes[p.device] = gpu_bytes(fp, n);
        p.bytes["cpu"] = total_bytes(fp) - gpu_bytes(fp, n) + fp.compute_bytes;
        p.reasons.push_back(fmt::format("{} has {} free after the margin, not the {} all layers need: offloading {} of {} "
                                        "layers, the rest run on the CPU",
                                        p.device, mib(usable_free(*gpus[0], req), 0), mib(need_all, 0), n, fp.n_layer));
        return p;
    }
    if (!req.forced_device.empty()) {
        Placement p;
        p.device = req.forced_device;
        p.fits = false;
        p.reasons.push_back(fmt::format("--device {} cannot hold even one layer: {} free after the margin",
                                        req.forced_device, mib(usable_free(*gpus[0], req), 0)));
        return p;
    }
    return on_cpu(fp, {fmt::format("no GPU can hold a layer ({} free on {}): runs on the CPU",
                                   mib(usable_free(*gpus[0], req), 0), gpus[0]->id)});
}

}  // namespace accel::pool
