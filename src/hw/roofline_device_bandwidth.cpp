// Device memory bandwidth with ggml itself: a read-reduce (ggml_sum) over one large buffer and a device-to-device
// copy (ggml_cpy) between two, each synchronised and repeated. The host's bandwidth has its own kernels
// (roofline.cpp); these measure the memory a GPU's kernels read, which decode speed on that GPU depends on.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "roofline_kernels.h"

namespace accel::hw::detail {
namespace {

// 1 GiB, several times any GPU's last-level cache (an H200 has 60 MB of L2), but at most an eighth of what is
// free, so that a busy device is measured rather than pushed out of memory.
uint64_t buffer_bytes(const Device& d, const MeasureOptions& opt) {
    if (opt.device_bandwidth_bytes > 0) return opt.device_bandwidth_bytes;
    uint64_t bytes = uint64_t{1} << 30;
    if (d.memory_free_bytes > 0) bytes = std::min(bytes, d.memory_free_bytes / 8);
    return std::max<uint64_t>(bytes, uint64_t{16} << 20);
}

// Times one kernel over `n` f32 elements: "read" sums them, "copy" copies them into a second buffer.
BandwidthResult time_kernel(ggml_backend_t backend, ggml_backend_dev_t dev, const std::string& device,
                            const std::string& kernel, int64_t n, int32_t repetitions) {
    ContextPtr ctx = tensor_context(3);
    ggml_tensor* src = ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, n);
    ggml_tensor* out = kernel == "read" ? ggml_sum(ctx.get(), src)
                                        : ggml_cpy(ctx.get(), src, ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, n));
    if (!ggml_backend_dev_supports_op(dev, out)) {
        throw Error(ErrorKind::backend, fmt::format("the backend does not support {}", ggml_op_desc(out)));
    }
    BufferPtr buf(ggml_backend_alloc_ctx_tensors(ctx.get(), backend));
    if (!buf) throw Error(ErrorKind::out_of_memory, "cannot allocate the bandwidth buffers on the device");
    // The values do not matter for the timing, but ggml_sum over garbage could meet NaN slow paths; 1.0 each also
    // lets the read kernel check itself.
    const std::vector<float> ones(static_cast<size_t>(n), 1.0F);
    ggml_backend_tensor_set(src, ones.data(), 0, ggml_nbytes(src));
    ggml_cgraph* graph = ggml_new_graph(ctx.get());
    ggml_build_forward_expand(graph, out);
    const std::vector<double> seconds = time_graph(backend, graph, repetitions, 0);
    if (kernel == "read") {
        float sum = 0;
        ggml_backend_tensor_get(out, &sum, 0, sizeof(sum));
        // f32 sums of n ones are exact below 2^24 and within a part in 1e4 far beyond that on every backend.
        if (std::abs(sum - static_cast<float>(n)) > 1e-4F * static_cast<float>(n)) {
            throw Error(ErrorKind::backend, fmt::format("result wrong: the sum of {} ones was {}", n, sum));
        }
    }
    const double moved = (kernel == "read" ? 1.0 : 2.0) * static_cast<double>(ggml_nbytes(src));
    std::vector<double> rates;
    for (double dt : seconds) rates.push_back(moved / dt / 1e9);
    return {.device = device, .kernel = kernel, .threads = 0, .array_bytes = ggml_nbytes(src), .gb_per_s = spread_of(rates)};
}

}  // namespace

void measure_device_bandwidth(const Inventory& inv, const MeasureOptions& opt, Clock::time_point deadline,
                              Roofline& out) {
    for (const auto& d : inv.devices) {
        if (!d.usable || (d.type == DeviceType::cpu && !opt.device_bandwidth_on_cpu)) continue;
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(d.name.c_str());
        BackendPtr backend(dev != nullptr ? ggml_backend_dev_init(dev, nullptr) : nullptr);
        for (const char* kernel : {"read", "copy"}) {
            const std::string what = fmt::format("bandwidth {} {}", d.id, kernel);
            if (!backend) {
                out.unavailable.push_back({what, "ggml cannot open the device"});
            } else if (Clock::now() > deadline) {
                out.unavailable.push_back({what, budget_spent(opt.budget_s)});
            } else {
                try {
                    const auto n = static_cast<int64_t>(buffer_bytes(d, opt) / sizeof(float));
                    out.bandwidth.push_back(time_kernel(backend.get(), dev, d.id, kernel, n, opt.repetitions));
                } catch (const Error& e) {
                    out.unavailable.push_back({what, e.what()});
                }
            }
        }
    }
}

}  // namespace accel::hw::detail
