// The matmul half of the roofline: ggml_mul_mat timed per device, weight type, shape and weight layout, each
// result checked against a host reference before its figure counts.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "roofline_kernels.h"

namespace accel::hw::detail {
namespace {

struct WeightType {
    ggml_type type;
    double max_nmse;  // the check's bound: the backends round activations to f16/bf16 or q8 for these weights
};

// f32 is exact up to summation order; f16 and bf16 round the activations; the quantized types quantize them to
// q8_0 or q8_K (CPU) or q8_1 (CUDA), which alone gives an nmse around 1e-5.
constexpr WeightType weight_types[] = {{GGML_TYPE_F32, 1e-5},  {GGML_TYPE_F16, 1e-4},  {GGML_TYPE_BF16, 1e-3},
                                       {GGML_TYPE_Q8_0, 1e-3}, {GGML_TYPE_Q4_0, 1e-3}, {GGML_TYPE_Q4_K, 1e-3}};

// One trial's inputs on the host: A is m rows of k weights in `type`'s encoding, B is n columns of k activations.
struct HostOperands {
    std::vector<uint8_t> a;
    std::vector<float> b;
};

HostOperands make_operands(ggml_type type, MatmulShape s) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
    std::vector<float> weights(static_cast<size_t>(s.m * s.k));
    for (auto& v : weights) v = dist(rng);
    HostOperands h;
    h.a.resize(ggml_row_size(type, s.k) * static_cast<size_t>(s.m));
    ggml_quantize_chunk(type, weights.data(), h.a.data(), 0, s.m, s.k, nullptr);
    h.b.resize(static_cast<size_t>(s.n * s.k));
    for (auto& v : h.b) v = dist(rng);
    return h;
}

// Row i of A as the backend should see it: decoded from the same bytes the device was given.
std::vector<float> decode_row(ggml_type type, const HostOperands& h, MatmulShape s, int64_t i) {
    std::vector<float> row(static_cast<size_t>(s.k));
    const uint8_t* src = h.a.data() + ggml_row_size(type, s.k) * static_cast<size_t>(i);
    if (type == GGML_TYPE_F32) {
        std::copy_n(reinterpret_cast<const float*>(src), s.k, row.begin());
    } else {
        ggml_get_type_traits(type)->to_float(src, row.data(), s.k);
    }
    return row;
}

// The normalised squared error of 64 sampled outputs against dot products computed on the host in double.
double check_nmse(ggml_type type, const HostOperands& h, MatmulShape s, const std::vector<float>& c) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int64_t> pick_i(0, s.m - 1);
    std::uniform_int_distribution<int64_t> pick_j(0, s.n - 1);
    double err = 0;
    double norm = 0;
    for (int sample = 0; sample < 64; ++sample) {
        const int64_t i = pick_i(rng);
        const int64_t j = pick_j(rng);
        const std::vector<float> a = decode_row(type, h, s, i);
        double ref = 0;
        for (int64_t x = 0; x < s.k; ++x) ref += static_cast<double>(a[x]) * h.b[static_cast<size_t>(j * s.k + x)];
        const double got = c[static_cast<size_t>(j * s.m + i)];  // C is m x n, m contiguous
        err += (got - ref) * (got - ref);
        norm += ref * ref;
    }
    return norm > 0 ? err / norm : err;
}

struct TrialSetup {
    ggml_backend_t backend;
    ggml_backend_dev_t dev;
    ggml_backend_buffer_type_t weight_buft;  // nullptr: the backend's own buffers ("plain")
};

// Times C = A*B once for a shape and layout. nullopt when the layout does not take these weights (an extra buffer
// type that has no kernel for the type or shape); throws Error with the reason when the plain layout fails.
std::optional<MatmulTrial> run_trial(const TrialSetup& setup, const WeightType& t, MatmulShape s,
                                     const HostOperands& h, const MeasureOptions& opt) {
    ContextPtr wctx = tensor_context(1);
    ContextPtr actx = tensor_context(2);
    ggml_tensor* a = ggml_new_tensor_2d(wctx.get(), t.type, s.k, s.m);
    ggml_tensor* b = ggml_new_tensor_2d(actx.get(), GGML_TYPE_F32, s.k, s.n);
    ggml_tensor* c = ggml_mul_mat(actx.get(), a, b);
    BufferPtr wbuf(setup.weight_buft != nullptr ? ggml_backend_alloc_ctx_tensors_from_buft(wctx.get(), setup.weight_buft)
                                                : ggml_backend_alloc_ctx_tensors(wctx.get(), setup.backend));
    BufferPtr abuf(ggml_backend_alloc_ctx_tensors(actx.get(), setup.backend));
    if (!wbuf || !abuf) throw Error(ErrorKind::out_of_memory, "cannot allocate the matmul tensors on the device");
    if (!ggml_backend_dev_supports_op(setup.dev, c)) {
        // Placed in an extra buffer type without a kernel for them, the weights must never be set (ggml asserts).
        if (setup.weight_buft != nullptr) return std::nullopt;
        throw Error(ErrorKind::backend,
                    fmt::format("the backend does not support mul_mat with {} weights", ggml_type_name(t.type)));
    }
    ggml_backend_tensor_set(a, h.a.data(), 0, h.a.size());
    ggml_backend_tensor_set(b, h.b.data(), 0, ggml_nbytes(b));
    ggml_cgraph* graph = ggml_new_graph(actx.get());
    ggml_build_forward_expand(graph, c);

    const std::vector<double> seconds = time_graph(setup.backend, graph, opt.repetitions, opt.trial_seconds);
    std::vector<float> out(static_cast<size_t>(s.m * s.n));
    ggml_backend_tensor_get(c, out.data(), 0, ggml_nbytes(c));
    const double flop = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
    std::vector<double> rates;
    for (double dt : seconds) rates.push_back(flop / dt / 1e9);
    return MatmulTrial{.shape = s,
                       .layout = setup.weight_buft != nullptr ? ggml_backend_buft_name(setup.weight_buft) : "plain",
                       .gflops = spread_of(rates),
                       .check_nmse = check_nmse(t.type, h, s, out)};
}

// The extra buffer types a device offers for weights (the CPU's repacked layouts), as llama.cpp uses them.
std::vector<ggml_backend_buffer_type_t> extra_weight_layouts(ggml_backend_dev_t dev) {
    std::vector<ggml_backend_buffer_type_t> out;
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
    auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts"));
    if (get_extra == nullptr) return out;
    for (ggml_backend_buffer_type_t* b = get_extra(dev); b != nullptr && *b != nullptr; ++b) out.push_back(*b);
    return out;
}

// Every layout of one weight type at one shape on one device, appended to `kept` when its check passed. Returns
// false when the type does not run on the device at all (larger shapes need not be tried).
bool shape_trials(const TrialSetup& plain, const std::vector<ggml_backend_buffer_type_t>& extras, const WeightType& t,
                  MatmulShape s, const MeasureOptions& opt, const std::string& what, std::vector<MatmulTrial>& kept,
                  Roofline& out) {
    const HostOperands h = make_operands(t.type, s);
    std::vector<TrialSetup> setups = {plain};
    for (auto* buft : extras) setups.push_back({plain.backend, plain.dev, buft});
    for (const TrialSetup& setup : setups) {
        const std::string label =
            setup.weight_buft ? fmt::format("{} ({})", what, ggml_backend_buft_name(setup.weight_buft)) : what;
        try {
            auto trial = run_trial(setup, t, s, h, opt);
            if (!trial) continue;
            if (trial->check_nmse > t.max_nmse) {
                out.unavailable.push_back({label, fmt::format("result wrong at {}x{}x{}: nmse {:.3g} against the host "
                                                              "reference, bound {:.0e}",
                                                              s.m, s.n, s.k, trial->check_nmse, t.max_nmse)});
                continue;
            }
            kept.push_back(std::move(*trial));
        } catch (const Error& e) {
            out.unavailable.push_back({label, e.what()});
            if (setup.weight_buft == nullptr) return false;
        }
    }
    return true;
}

MatmulResult best_of(std::string device, const char* type, int32_t threads, std::vector<MatmulTrial> trials) {
    const auto best = std::max_element(trials.begin(), trials.end(), [](const MatmulTrial& x, const MatmulTrial& y) {
        return x.gflops.median < y.gflops.median;
    });
    return MatmulResult{.device = std::move(device),
                        .type = type,
                        .m = best->shape.m,
                        .n = best->shape.n,
                        .k = best->shape.k,
                        .layout = best->layout,
                        .threads = threads,
                        .gflops = best->gflops,
                        .trials = std::move(trials)};
}

// Shapes outer, types inner: when the budget runs out, every type has its smaller shapes rather than some types
// none at all.
void measure_device_matmul(const TrialSetup& plain, const std::string& device, int32_t threads,
                           const std::vector<MatmulShape>& shapes, const MeasureOptions& opt,
                           Clock::time_point deadline, Roofline& out) {
    const auto extras = extra_weight_layouts(plain.dev);
    constexpr size_t n_types = std::size(weight_types);
    std::vector<std::vector<MatmulTrial>> kept(n_types);
    std::vector<bool> runs(n_types, true);
    for (const MatmulShape& s : shapes) {
        for (size_t i = 0; i < n_types; ++i) {
            const std::string what = fmt::format("matmul {} {}", device, ggml_type_name(weight_types[i].type));
            if (!runs[i]) continue;
            if (Clock::now() > deadline) {
                out.unavailable.push_back({fmt::format("{} {}x{}x{}", what, s.m, s.n, s.k), budget_spent(opt.budget_s)});
                continue;
            }
            runs[i] = shape_trials(plain, extras, weight_types[i], s, opt, what, kept[i], out);
        }
    }
    for (size_t i = 0; i < n_types; ++i) {
        if (kept[i].empty()) continue;
        out.matmul.push_back(best_of(device, ggml_type_name(weight_types[i].type), threads, std::move(kept[i])));
    }
}

}  // namespace

void measure_matmul(const Inventory& inv, const MeasureOptions& opt, Clock::time_point deadline, Roofline& out) {
    const int32_t threads = opt.threads > 0 ? opt.threads : std::max(1, inv.cpu.effective_cores());
    for (const auto& d : inv.devices) {
        if (!d.usable) continue;
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(d.name.c_str());
        if (dev == nullptr) {
            out.unavailable.push_back({"matmul " + d.id, "ggml does not list the device"});
            continue;
        }
        BackendPtr backend(ggml_backend_dev_init(dev, nullptr));
        if (!backend) {
            out.unavailable.push_back({"matmul " + d.id, "ggml_backend_dev_init failed"});
            continue;
        }
        const bool is_cpu = d.type == DeviceType::cpu;
        if (is_cpu) {
            auto set_threads = reinterpret_cast<ggml_backend_set_n_threads_t>(ggml_backend_reg_get_proc_address(
                ggml_backend_dev_backend_reg(dev), "ggml_backend_set_n_threads"));
            if (set_threads != nullptr) set_threads(backend.get(), threads);
        }
        measure_device_matmul({backend.get(), dev, nullptr}, d.id, is_cpu ? threads : 0,
                              is_cpu ? opt.cpu_shapes : opt.gpu_shapes, opt, deadline, out);
    }
}

}  // namespace accel::hw::detail
