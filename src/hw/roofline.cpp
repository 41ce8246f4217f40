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
#include "accel/core/text.h"
#include "accel/core/version.h"
#include "roofline_kernels.h"

namespace accel::hw {
namespace {

using detail::Clock;
using detail::seconds_since;

// Bumped when the figures change meaning: caches of an older version are measured again. 2: matmul peaks are the
// best of several shapes and layouts, checked; devices have their own bandwidth.
constexpr int roofline_version = 2;

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
            out.bandwidth.push_back({.device = "cpu",
                                     .kernel = k.name,
                                     .threads = t,
                                     .array_bytes = n * sizeof(double),
                                     .gb_per_s = spread_of(rates)});
        }
    }
}

}  // namespace

namespace detail {

std::string budget_spent(double budget_s) {
    return fmt::format("not measured: the {:g} s budget of --measure was spent", budget_s);
}

ContextPtr tensor_context(size_t n_tensors) {
    ggml_init_params params{};
    params.mem_size = ggml_tensor_overhead() * (n_tensors + 2) + ggml_graph_overhead();
    params.no_alloc = true;
    ContextPtr ctx(ggml_init(params));
    if (!ctx) throw Error(ErrorKind::out_of_memory, "ggml_init failed");
    return ctx;
}

std::vector<double> time_graph(ggml_backend_t backend, ggml_cgraph* graph, int32_t repetitions, double max_seconds) {
    std::vector<double> seconds;
    double spent = 0;
    for (int32_t r = -1; r < repetitions; ++r) {
        if (max_seconds > 0 && seconds.size() >= 2 && spent > max_seconds) break;
        ggml_backend_synchronize(backend);
        const auto t0 = Clock::now();
        if (ggml_backend_graph_compute(backend, graph) != GGML_STATUS_SUCCESS) {
            throw Error(ErrorKind::backend, "ggml_backend_graph_compute failed");
        }
        ggml_backend_synchronize(backend);
        const double dt = seconds_since(t0);
        if (r >= 0) {  // r == -1 is the untimed warm-up
            seconds.push_back(dt);
            spent += dt;
        }
    }
    return seconds;
}

}  // namespace detail

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

namespace {

// ggml reports each repacked tensor at its info level ("repack: repack tensor ..."): noise for `accel detect`.
// Warnings and errors still reach accel's log; the caller's callback is restored afterwards.
class QuietGgmlLog {
public:
    QuietGgmlLog() {
        ggml_log_get(&prev_, &prev_data_);
        ggml_log_set(
            [](ggml_log_level level, const char* text, void*) {
                if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) ACCEL_LOG_WARN("ggml: {}", text);
            },
            nullptr);
    }
    ~QuietGgmlLog() { ggml_log_set(prev_, prev_data_); }
    QuietGgmlLog(const QuietGgmlLog&) = delete;
    QuietGgmlLog& operator=(const QuietGgmlLog&) = delete;

private:
    ggml_log_callback prev_ = nullptr;
    void* prev_data_ = nullptr;
};

}  // namespace

Roofline measure_roofline(const Inventory& inventory, const MeasureOptions& options) {
    if (options.repetitions < 1) throw Error(ErrorKind::invalid_input, "repetitions must be at least 1");
    const QuietGgmlLog quiet;
    const auto t0 = Clock::now();
    Roofline r;
    r.fingerprint = fingerprint_id(machine_fingerprint(inventory));
    r.measured_at = utc_now();
    r.accel_version = std::string(build_info().accel_version);
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.budget_s));
    measure_bandwidth(inventory, options, r);
    detail::measure_device_bandwidth(inventory, options, deadline, r);
    detail::measure_matmul(inventory, options, deadline, r);
    r.duration_s = seconds_since(t0);
    return r;
}

std::filesystem::path roofline_cache_path(const std::string& fingerprint) {
    return paths::cache_dir() / "measure" / (fingerprint + ".json");
}

using nlohmann::json;

// nlohmann's ADL hooks: one place spells each record's keys, both ways.
void to_json(json& j, const Spread& s) { j = {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"n", s.n}}; }
void from_json(const json& j, Spread& s) {
    s = {.median = j.at("median").get<double>(),
         .min = j.at("min").get<double>(),
         .max = j.at("max").get<double>(),
         .n = j.at("n").get<int32_t>()};
}
void to_json(json& j, const BandwidthResult& b) {
    j = {{"device", b.device}, {"kernel", b.kernel}, {"threads", b.threads}, {"array_bytes", b.array_bytes},
         {"gb_per_s", b.gb_per_s}};
}
void from_json(const json& j, BandwidthResult& b) {
    b = {.device = j.at("device").get<std::string>(),
         .kernel = j.at("kernel").get<std::string>(),
         .threads = j.at("threads").get<int32_t>(),
         .array_bytes = j.at("array_bytes").get<uint64_t>(),
         .gb_per_s = j.at("gb_per_s").get<Spread>()};
}
void to_json(json& j, const MatmulTrial& t) {
    j = {{"m", t.shape.m}, {"n", t.shape.n}, {"k", t.shape.k}, {"layout", t.layout}, {"gflops", t.gflops},
         {"check_nmse", t.check_nmse}};
}
void from_json(const json& j, MatmulTrial& t) {
    t = {.shape = {j.at("m").get<int64_t>(), j.at("n").get<int64_t>(), j.at("k").get<int64_t>()},
         .layout = j.at("layout").get<std::string>(),
         .gflops = j.at("gflops").get<Spread>(),
         .check_nmse = j.at("check_nmse").get<double>()};
}
void to_json(json& j, const MatmulResult& m) {
    j = {{"device", m.device}, {"type", m.type},       {"m", m.m},
         {"n", m.n},           {"k", m.k},             {"layout", m.layout},
         {"threads", m.threads}, {"gflops", m.gflops}, {"trials", m.trials}};
}
void from_json(const json& j, MatmulResult& m) {
    m = {.device = j.at("device").get<std::string>(),
         .type = j.at("type").get<std::string>(),
         .m = j.at("m").get<int64_t>(),
         .n = j.at("n").get<int64_t>(),
         .k = j.at("k").get<int64_t>(),
         .layout = j.at("layout").get<std::string>(),
         .threads = j.at("threads").get<int32_t>(),
         .gflops = j.at("gflops").get<Spread>(),
         .trials = j.at("trials").get<std::vector<MatmulTrial>>()};
}
void to_json(json& j, const Unavailable& u) { j = {{"what", u.what}, {"reason", u.reason}}; }
void from_json(const json& j, Unavailable& u) {
    u = {j.at("what").get<std::string>(), j.at("reason").get<std::string>()};
}

namespace {

json roofline_to_json(const Roofline& r) {
    return {{"schema_version", json_schema_version}, {"roofline_version", roofline_version},
            {"fingerprint", r.fingerprint},          {"measured_at", r.measured_at},
            {"accel_version", r.accel_version},      {"duration_s", r.duration_s},
            {"bandwidth", r.bandwidth},              {"matmul", r.matmul},
            {"unavailable", r.unavailable}};
}

}  // namespace

std::optional<Roofline> load_roofline(const std::filesystem::path& path, const std::string& fingerprint) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    try {
        const json j = json::parse(in);
        if (j.at("schema_version").get<int>() != json_schema_version) return std::nullopt;
        // An older accel's figures (one shape, no check, no device bandwidth): measured again.
        if (j.value("roofline_version", 1) != roofline_version) return std::nullopt;
        Roofline r;
        r.fingerprint = j.at("fingerprint").get<std::string>();
        if (r.fingerprint != fingerprint) return std::nullopt;
        r.measured_at = j.at("measured_at").get<std::string>();
        r.accel_version = j.at("accel_version").get<std::string>();
        r.duration_s = j.at("duration_s").get<double>();
        r.bandwidth = j.at("bandwidth").get<std::vector<BandwidthResult>>();
        r.matmul = j.at("matmul").get<std::vector<MatmulResult>>();
        r.unavailable = j.at("unavailable").get<std::vector<Unavailable>>();
        r.from_cache = true;
        return r;
    } catch (const json::exception& e) {
        ACCEL_LOG_WARN("ignoring the unreadable measurement cache {}: {}", path.string(), e.what());
        return std::nullopt;
    }
}

std::optional<double> read_bandwidth_gbs(const Roofline& roofline, const std::string& device) {
    std::optional<double> best;
    for (const auto& b : roofline.bandwidth) {
        if (b.device == device && b.kernel == "read" && (!best || b.gb_per_s.median > *best)) {
            best = b.gb_per_s.median;
        }
    }
    return best;
}

const MatmulResult* matmul_peak(const Roofline& roofline, const std::string& device, const std::string& type) {
    for (const auto& m : roofline.matmul) {
        if (m.device == device && lower(m.type) == lower(type)) return &m;
    }
    return nullptr;
}

std::string weight_type_of(const std::string& model_description) {
    // llama.cpp's file-type names (llama_model_ftype_name) come last, upper case: "Q4_K - Medium", "BF16".
    std::string desc = " " + lower(model_description) + " ";
    for (const char* t : {"bf16", "f16", "f32", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k",
                          "q6_k", "iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s", "iq2_m", "iq3_xxs", "iq3_s", "iq3_m",
                          "iq4_nl", "iq4_xs", "tq1_0", "tq2_0", "mxfp4"}) {
        if (desc.find(fmt::format(" {} ", t)) != std::string::npos) {
            std::string out = t;
            if (out.size() > 2 && out.substr(out.size() - 2) == "_k") out.back() = 'K';  // ggml spells q4_K
            return out;
        }
    }
    return "";
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
        out << roofline_to_json(roofline).dump(2) << '\n';
        if (!out) throw Error(ErrorKind::io, "cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error(ErrorKind::io, "cannot write " + path.string() + ": " + ec.message());
}

std::string roofline_json(const Roofline& roofline) {
    json j = roofline_to_json(roofline);
    j["source"] = roofline.from_cache ? "cache" : "fresh";
    return j.dump();
}

}  // namespace accel::hw
