#include "accel/hw/roofline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <latch>
#include <memory>
#include <random>
#include <thread>

#include <fmt/core.h>
#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/core/version.h"

namespace accel::hw {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// ---- memory bandwidth ----

enum class Kernel { read, copy, triad };

// Each worker runs the kernel over its own slice; the sum of `read` is stored so the loop cannot be dropped.
void run_slice(Kernel kernel, double* a, const double* b, const double* c, size_t lo, size_t hi, double* sink) {
    switch (kernel) {
        case Kernel::read: {
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            size_t i = lo;
            for (; i + 4 <= hi; i += 4) {
                s0 += b[i];
                s1 += b[i + 1];
                s2 += b[i + 2];
                s3 += b[i + 3];
            }
            for (; i < hi; ++i) s0 += b[i];
            *sink = s0 + s1 + s2 + s3;
            break;
        }
        case Kernel::copy:
            std::copy(b + lo, b + hi, a + lo);
            break;
        case Kernel::triad:
            for (size_t i = lo; i < hi; ++i) a[i] = b[i] + 3.0 * c[i];
            break;
    }
}

// One timed pass over the arrays with `threads` workers, started together; returns seconds.
double time_pass(Kernel kernel, std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& c,
                 int32_t threads) {
    const size_t n = a.size();
    std::vector<double> sinks(static_cast<size_t>(threads), 0.0);
    std::latch ready(threads);
    std::latch go(1);
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(threads));
    for (int32_t t = 0; t < threads; ++t) {
        const size_t lo = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
        const size_t hi = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
        workers.emplace_back([&, lo, hi, t] {
            ready.count_down();
            go.wait();
            run_slice(kernel, a.data(), b.data(), c.data(), lo, hi, &sinks[static_cast<size_t>(t)]);
        });
    }
    ready.wait();
    const auto t0 = Clock::now();
    go.count_down();
    for (auto& w : workers) w.join();
    const double dt = seconds_since(t0);
    volatile double keep = 0;
    for (double s : sinks) keep = keep + s;
    (void)keep;
    return dt;
}

void measure_bandwidth(const Inventory& inv, const MeasureOptions& opt, Roofline& out) {
    uint64_t bytes = opt.bandwidth_array_bytes;
    if (bytes == 0) bytes = std::max<uint64_t>(uint64_t{64} << 20, inv.cpu.caches.l3_bytes.value_or(0) * 4);
    const size_t n = std::max<size_t>(bytes / sizeof(double), 1024);
    std::vector<double> a(n, 1.0);
    std::vector<double> b(n, 2.0);
    std::vector<double> c(n, 0.5);
    const int32_t all = opt.threads > 0 ? opt.threads : std::max(1, inv.cpu.effective_cores());
    std::vector<int32_t> thread_counts = {1};
    if (all > 1) thread_counts.push_back(all);
    const struct {
        Kernel kernel;
        const char* name;
        double arrays;  // arrays read plus written per element
    } kernels[] = {{Kernel::read, "read", 1}, {Kernel::copy, "copy", 2}, {Kernel::triad, "triad", 3}};
    for (const auto& k : kernels) {
        for (int32_t t : thread_counts) {
            time_pass(k.kernel, a, b, c, t);  // warm-up: faults the pages in, wakes the cores
            std::vector<double> rates;
            for (int32_t r = 0; r < opt.repetitions; ++r) {
                const double dt = time_pass(k.kernel, a, b, c, t);
                rates.push_back(k.arrays * static_cast<double>(n * sizeof(double)) / dt / 1e9);
            }
            out.bandwidth.push_back({.kernel = k.name,
                                     .threads = t,
                                     .array_bytes = n * sizeof(double),
                                     .gb_per_s = spread_of(rates)});
        }
    }
}

// ---- matrix multiply through ggml ----

struct FreeCtx {
    void operator()(ggml_context* c) const { ggml_free(c); }
};
struct FreeBuffer {
    void operator()(ggml_backend_buffer* b) const { ggml_backend_buffer_free(b); }
};
struct FreeBackend {
    void operator()(ggml_backend* b) const { ggml_backend_free(b); }
};

struct MatmulShape {
    int64_t m, n, k;
};

// Times C = A*B with A (k x m, `type`) and B (k x n, f32) on `backend`. Returns GFLOP/s samples, or throws
// Error{backend} with the reason.
std::vector<double> time_matmul(ggml_backend_t backend, ggml_backend_dev_t dev, ggml_type type, MatmulShape s,
                                int32_t repetitions) {
    ggml_init_params params{};
    params.mem_size = ggml_tensor_overhead() * 8 + ggml_graph_overhead();
    params.no_alloc = true;
    std::unique_ptr<ggml_context, FreeCtx> ctx(ggml_init(params));
    if (!ctx) throw Error(ErrorKind::out_of_memory, "ggml_init failed");
    ggml_tensor* a = ggml_new_tensor_2d(ctx.get(), type, s.k, s.m);
    ggml_tensor* b = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, s.k, s.n);
    ggml_tensor* c = ggml_mul_mat(ctx.get(), a, b);
    if (!ggml_backend_dev_supports_op(dev, c)) {
        throw Error(ErrorKind::backend, fmt::format("the backend does not support mul_mat with {} weights", ggml_type_name(type)));
    }
    ggml_cgraph* graph = ggml_new_graph(ctx.get());
    ggml_build_forward_expand(graph, c);
    std::unique_ptr<ggml_backend_buffer, FreeBuffer> buf(ggml_backend_alloc_ctx_tensors(ctx.get(), backend));
    if (!buf) throw Error(ErrorKind::out_of_memory, "cannot allocate the matmul tensors on the device");

    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
    std::vector<float> values(static_cast<size_t>(s.k * std::max(s.m, s.n)));
    for (auto& v : values) v = dist(rng);
    std::vector<uint8_t> packed(ggml_row_size(type, s.k) * static_cast<size_t>(s.m));
    ggml_quantize_chunk(type, values.data(), packed.data(), 0, s.m, s.k, nullptr);
    ggml_backend_tensor_set(a, packed.data(), 0, packed.size());
    ggml_backend_tensor_set(b, values.data(), 0, ggml_nbytes(b));

    const double flop = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
    std::vector<double> rates;
    for (int32_t r = -1; r < repetitions; ++r) {
        ggml_backend_synchronize(backend);
        const auto t0 = Clock::now();
        if (ggml_backend_graph_compute(backend, graph) != GGML_STATUS_SUCCESS) {
            throw Error(ErrorKind::backend, "ggml_backend_graph_compute failed");
        }
        ggml_backend_synchronize(backend);
        const double dt = seconds_since(t0);
        if (r >= 0) rates.push_back(flop / dt / 1e9);  // r == -1 is the untimed warm-up
    }
    return rates;
}

void measure_matmul(const Inventory& inv, const MeasureOptions& opt, Roofline& out) {
    const struct {
        ggml_type type;
        const char* name;
    } types[] = {{GGML_TYPE_F32, "f32"}, {GGML_TYPE_F16, "f16"}, {GGML_TYPE_Q8_0, "q8_0"}, {GGML_TYPE_Q4_0, "q4_0"}};
    const int32_t threads = opt.threads > 0 ? opt.threads : std::max(1, inv.cpu.effective_cores());
    for (const auto& d : inv.devices) {
        if (!d.usable) continue;
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(d.name.c_str());
        if (dev == nullptr) {
            out.unavailable.push_back({"matmul " + d.id, "ggml does not list the device"});
            continue;
        }
        std::unique_ptr<ggml_backend, FreeBackend> backend(ggml_backend_dev_init(dev, nullptr));
        if (!backend) {
            out.unavailable.push_back({"matmul " + d.id, "ggml_backend_dev_init failed"});
            continue;
        }
        const bool is_cpu = d.type == DeviceType::cpu;
        if (is_cpu) {
            ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
            auto set_threads = reinterpret_cast<ggml_backend_set_n_threads_t>(
                ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads"));
            if (set_threads != nullptr) set_threads(backend.get(), threads);
        }
        const MatmulShape shape = is_cpu ? MatmulShape{opt.cpu_m, opt.cpu_n, opt.cpu_k}
                                         : MatmulShape{opt.gpu_m, opt.gpu_n, opt.gpu_k};
        for (const auto& t : types) {
            try {
                const auto rates = time_matmul(backend.get(), dev, t.type, shape, opt.repetitions);
                out.matmul.push_back({.device = d.id,
                                      .type = t.name,
                                      .m = shape.m,
                                      .n = shape.n,
                                      .k = shape.k,
                                      .threads = is_cpu ? threads : 0,
                                      .gflops = spread_of(rates)});
            } catch (const Error& e) {
                out.unavailable.push_back({fmt::format("matmul {} {}", d.id, t.name), e.what()});
            }
        }
    }
}

}  // namespace

Spread spread_of(std::vector<double> samples) {
    Spread s;
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    const size_t n = samples.size();
    s.n = static_cast<int32_t>(n);
    s.min = samples.front();
    s.max = samples.back();
    s.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
    return s;
}

Roofline measure_roofline(const Inventory& inventory, const MeasureOptions& options) {
    if (options.repetitions < 1) throw Error(ErrorKind::invalid_input, "repetitions must be at least 1");
    const auto t0 = Clock::now();
    Roofline r;
    r.fingerprint = fingerprint_id(machine_fingerprint(inventory));
    r.measured_at = utc_now();
    r.accel_version = std::string(build_info().accel_version);
    measure_bandwidth(inventory, options, r);
    measure_matmul(inventory, options, r);
    r.duration_s = seconds_since(t0);
    return r;
}

std::filesystem::path roofline_cache_path(const std::string& fingerprint) {
    return paths::cache_dir() / "measure" / (fingerprint + ".json");
}

namespace {

using nlohmann::json;

json spread_json(const Spread& s) { return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"n", s.n}}; }

Spread spread_from(const json& j) {
    return {.median = j.at("median").get<double>(),
            .min = j.at("min").get<double>(),
            .max = j.at("max").get<double>(),
            .n = j.at("n").get<int32_t>()};
}

json to_json(const Roofline& r) {
    json bw = json::array();
    for (const auto& b : r.bandwidth) {
        bw.push_back({{"kernel", b.kernel}, {"threads", b.threads}, {"array_bytes", b.array_bytes},
                      {"gb_per_s", spread_json(b.gb_per_s)}});
    }
    json mm = json::array();
    for (const auto& m : r.matmul) {
        mm.push_back({{"device", m.device}, {"type", m.type}, {"m", m.m}, {"n", m.n}, {"k", m.k},
                      {"threads", m.threads}, {"gflops", spread_json(m.gflops)}});
    }
    json un = json::array();
    for (const auto& u : r.unavailable) un.push_back({{"what", u.what}, {"reason", u.reason}});
    return {{"schema_version", json_schema_version}, {"fingerprint", r.fingerprint}, {"measured_at", r.measured_at},
            {"accel_version", r.accel_version}, {"duration_s", r.duration_s}, {"bandwidth", bw}, {"matmul", mm},
            {"unavailable", un}};
}

}  // namespace

std::optional<Roofline> load_roofline(const std::filesystem::path& path, const std::string& fingerprint) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    try {
        const json j = json::parse(in);
        if (j.at("schema_version").get<int>() != json_schema_version) return std::nullopt;
        Roofline r;
        r.fingerprint = j.at("fingerprint").get<std::string>();
        if (r.fingerprint != fingerprint) return std::nullopt;
        r.measured_at = j.at("measured_at").get<std::string>();
        r.accel_version = j.at("accel_version").get<std::string>();
        r.duration_s = j.at("duration_s").get<double>();
        for (const auto& b : j.at("bandwidth")) {
            r.bandwidth.push_back({.kernel = b.at("kernel").get<std::string>(),
                                   .threads = b.at("threads").get<int32_t>(),
                                   .array_bytes = b.at("array_bytes").get<uint64_t>(),
                                   .gb_per_s = spread_from(b.at("gb_per_s"))});
        }
        for (const auto& m : j.at("matmul")) {
            r.matmul.push_back({.device = m.at("device").get<std::string>(),
                                .type = m.at("type").get<std::string>(),
                                .m = m.at("m").get<int64_t>(),
                                .n = m.at("n").get<int64_t>(),
                                .k = m.at("k").get<int64_t>(),
                                .threads = m.at("threads").get<int32_t>(),
                                .gflops = spread_from(m.at("gflops"))});
        }
        for (const auto& u : j.at("unavailable")) {
            r.unavailable.push_back({u.at("what").get<std::string>(), u.at("reason").get<std::string>()});
        }
        r.from_cache = true;
        return r;
    } catch (const json::exception& e) {
        ACCEL_LOG_WARN("ignoring the unreadable measurement cache {}: {}", path.string(), e.what());
        return std::nullopt;
    }
}

std::filesystem::path roofline_cache_path(const Inventory& inventory) {
    const MachineFingerprint fp = machine_fingerprint(inventory);
    const std::string id = fingerprint_id(fp);
    const std::string old_id = fingerprint_id_v1(fp);
    auto path = roofline_cache_path(id);
    const auto old_path = roofline_cache_path(old_id);
    std::error_code ec;
    if (std::filesystem::exists(path, ec) || !std::filesystem::exists(old_path, ec)) return path;
    auto old = load_roofline(old_path, old_id);
    if (!old) return path;
    old->fingerprint = id;
    try {
        save_roofline(*old, path);
        std::filesystem::remove(old_path, ec);
        ACCEL_LOG_INFO("moved the cached roofline {} to {} (the machine id now includes its accelerators)",
                       old_path.string(), path.string());
    } catch (const Error& e) {
        ACCEL_LOG_WARN("could not move the cached roofline {}: {}", old_path.string(), e.what());
    }
    return path;
}

void save_roofline(const Roofline& roofline, const std::filesystem::path& path) {
    paths::ensure_dir(path.parent_path());
    const auto tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << to_json(roofline).dump(2) << '\n';
        if (!out) throw Error(ErrorKind::io, "cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error(ErrorKind::io, "cannot write " + path.string() + ": " + ec.message());
}

std::string roofline_json(const Roofline& roofline) {
    json j = to_json(roofline);
    j["source"] = roofline.from_cache ? "cache" : "fresh";
    return j.dump();
}

}  // namespace accel::hw
