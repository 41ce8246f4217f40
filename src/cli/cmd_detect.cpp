// `accel detect`: the hardware inventory (hw/) and, with --measure, the roofline microbenchmarks.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/core/log.h"
#include "accel/hw/inventory.h"
#include "accel/hw/roofline.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {
namespace {

struct DetectFlags {
    FormatOption format;
    bool measure = false;
    bool remeasure = false;
    bool quick = false;
    bool browsers = false;
};

std::string bytes_text(uint64_t b) {
    const double v = static_cast<double>(b);
    if (b >= (uint64_t{1} << 30)) return fmt::format("{:.1f} GiB", v / (1 << 30));
    if (b >= (uint64_t{1} << 20)) return fmt::format("{:.0f} MiB", v / (1 << 20));
    if (b >= (uint64_t{1} << 10)) return fmt::format("{:.0f} KiB", v / (1 << 10));
    return fmt::format("{} B", b);
}

template <typename T>
std::string or_unavailable(const std::optional<T>& v, const std::string& text) {
    return v ? text : "unavailable";
}

void print_inventory(const hw::Inventory& inv) {
    const hw::CpuInfo& c = inv.cpu;
    fmt::print("cpu          {} ({}, {})\n", c.model, c.vendor, c.arch);
    fmt::print("             {} socket(s), {} cores, {} logical, SMT {}; NUMA nodes {}\n", c.sockets, c.physical_cores,
               c.logical_cores, c.smt ? "on" : "off",
               c.numa_nodes ? std::to_string(*c.numa_nodes) : std::string("unavailable"));
    const auto cache = [](const std::optional<uint64_t>& v) { return v ? bytes_text(*v) : std::string("unavailable"); };
    fmt::print("             L1d {}, L1i {}, L2 {}, L3 {}\n", cache(c.caches.l1d_bytes), cache(c.caches.l1i_bytes),
               cache(c.caches.l2_bytes), cache(c.caches.l3_bytes));
    fmt::print("             base {}, max {}\n", or_unavailable(c.base_mhz, fmt::format("{:.0f} MHz", c.base_mhz.value_or(0))),
               or_unavailable(c.max_mhz, fmt::format("{:.0f} MHz", c.max_mhz.value_or(0))));
    fmt::print("features     {}\n", c.features.empty() ? std::string("none of those accel tracks") : fmt::format("{}", fmt::join(c.features, " ")));
    std::vector<std::string> ggml;
    for (const auto& f : inv.ggml_cpu.features) ggml.push_back(f.substr(0, f.find('=')) + (f.ends_with("=1") ? "" : f.substr(f.find('='))));
    fmt::print("ggml cpu     {}: {}\n", inv.ggml_cpu.library.empty() ? "unknown library" : inv.ggml_cpu.library,
               fmt::join(ggml, " "));
    fmt::print("cores usable {} (affinity {} CPUs, quota {})\n", c.effective_cores(), c.affinity.size(),
               c.quota_cores ? fmt::format("{:.2f} cores from {}", *c.quota_cores, c.quota_source) : "none");
    const hw::MemoryInfo& m = inv.memory;
    fmt::print("memory       total {}, available {}, swap {} ({} free)\n", bytes_text(m.total_bytes),
               bytes_text(m.available_bytes), bytes_text(m.swap_total_bytes), bytes_text(m.swap_free_bytes));
    if (m.limit_bytes) {
        fmt::print("             container limit {} ({}): {} counts, {} available\n", bytes_text(*m.limit_bytes),
                   m.limit_source, bytes_text(m.effective_total_bytes()), bytes_text(m.effective_available_bytes()));
    } else {
        fmt::print("             no container memory limit\n");
    }
    const hw::OsInfo& o = inv.os;
    fmt::print("os           {}, kernel {}\n", o.distro.empty() ? "unknown distribution" : o.distro, o.kernel);
    fmt::print("             container {}; VM {}\n",
               o.container.empty() ? "none seen" : fmt::format("{} ({})", o.container, o.container_evidence),
               o.vm.empty() ? "none seen" : fmt::format("{} ({})", o.vm, o.vm_evidence));
    fmt::print("fingerprint  {}\n", fingerprint_id(hw::machine_fingerprint(inv)));
    if (!inv.allow_list.empty()) fmt::print("ACCEL_DEVICES {}\n", inv.allow_list);
    fmt::print("\n");

    Table t{.columns = {"id", "name", "type", "backend", "total", "free", "usable", "reason"},
            .numeric = {false, false, false, false, true, true, false, false},
            .rows = {}};
    for (const auto& d : inv.devices) {
        t.rows.push_back({d.id, d.name, std::string(hw::to_string(d.type)), d.backend.empty() ? "-" : d.backend,
                          bytes_text(d.memory_total_bytes), bytes_text(d.memory_free_bytes), d.usable ? "yes" : "no",
                          d.reason});
    }
    fmt::print("{}", render_table(t));
    std::vector<std::string> probes;
    for (const auto& p : inv.probes) probes.push_back(fmt::format("{}: {}", p.probe, p.note));
    fmt::print("probes       {}\n", fmt::join(probes, "; "));
    if (inv.browsers) {
        if (inv.browsers->empty()) fmt::print("browsers     none found on PATH\n");
        for (const auto& b : *inv.browsers) {
            fmt::print("browser      {} {} ({})\n", b.name, b.version.empty() ? "version unavailable: " + b.error : b.version,
                       b.path);
        }
    }
}

void print_roofline(const hw::Roofline& r) {
    fmt::print("\nmeasurements {}, measured {} in {:.1f} s\n",
               r.from_cache ? "from the cache" : "fresh", r.measured_at, r.duration_s);
    Table bw{.columns = {"device", "bandwidth", "threads", "GB/s", "min", "max", "n"},
             .numeric = {false, false, true, true, true, true, true},
             .rows = {}};
    for (const auto& b : r.bandwidth) {
        bw.rows.push_back({b.device, b.kernel, b.threads > 0 ? std::to_string(b.threads) : "-",
                           fmt::format("{:.1f}", b.gb_per_s.median), fmt::format("{:.1f}", b.gb_per_s.min),
                           fmt::format("{:.1f}", b.gb_per_s.max), std::to_string(b.gb_per_s.n)});
    }
    fmt::print("{}\n", render_table(bw));
    Table mm{.columns = {"device", "type", "best m x n x k", "layout", "GFLOP/s", "min", "max", "n", "shapes"},
             .numeric = {false, false, false, false, true, true, true, true, true},
             .rows = {}};
    for (const auto& m : r.matmul) {
        mm.rows.push_back({m.device, m.type, fmt::format("{}x{}x{}", m.m, m.n, m.k), m.layout,
                           fmt::format("{:.1f}", m.gflops.median), fmt::format("{:.1f}", m.gflops.min),
                           fmt::format("{:.1f}", m.gflops.max), std::to_string(m.gflops.n),
                           std::to_string(m.trials.size())});
    }
    fmt::print("{}", render_table(mm));
    for (const auto& u : r.unavailable) fmt::print("unavailable  {}: {}\n", u.what, u.reason);
}

hw::Roofline roofline_for(const hw::Inventory& inv, const DetectFlags& flags) {
    if (flags.quick) {
        // Small sizes give figures far from the machine's peak: never cached, always labelled fresh.
        hw::MeasureOptions quick{.bandwidth_array_bytes = 4u << 20,
                                 .device_bandwidth_bytes = 64u << 20,
                                 .repetitions = 2,
                                 .cpu_shapes = {{256, 32, 256}},
                                 .gpu_shapes = {{1024, 256, 1024}}};
        return hw::measure_roofline(inv, quick);
    }
    const std::string fp = fingerprint_id(hw::machine_fingerprint(inv));
    const auto path = hw::roofline_cache_path(inv);
    if (!flags.remeasure) {
        if (auto cached = hw::load_roofline(path, fp)) {
            // A cache from a run restricted by ACCEL_DEVICES may lack a device that is usable now.
            bool covers = true;
            for (const auto& d : inv.devices) {
                if (!d.usable) continue;
                const bool has = std::any_of(cached->matmul.begin(), cached->matmul.end(),
                                             [&](const hw::MatmulResult& m) { return m.device == d.id; }) ||
                                 std::any_of(cached->unavailable.begin(), cached->unavailable.end(),
                                             [&](const hw::Unavailable& u) { return u.what.find(" " + d.id) != std::string::npos; });
                covers = covers && has;
            }
            if (covers) return *cached;
            ACCEL_LOG_INFO("the cached measurements in {} lack a usable device; measuring again", path.string());
        }
    }
    ACCEL_LOG_INFO("measuring memory bandwidth and matmul throughput (at most about 30 s)");
    hw::Roofline r = hw::measure_roofline(inv, {});
    try {
        hw::save_roofline(r, path);
    } catch (const Error& e) {
        // The figures are still good for this run; only the next one has to measure again.
        ACCEL_LOG_WARN("measurements not cached: {}", e.what());
    }
    return r;
}

}  // namespace

void register_detect(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("detect", "Detect the CPU, memory, limits, OS and accelerators");
    auto flags = std::make_shared<DetectFlags>();
    add_format_option(*cmd, flags->format, {"table", "json"});
    auto* measure = cmd->add_flag("--measure", flags->measure,
                                  "Measure memory bandwidth and matmul GFLOP/s per device (cached per machine; a 30 s budget, figures not "
                                  "started within it are listed as unavailable)");
    cmd->add_flag("--remeasure", flags->remeasure, "With --measure: ignore the cache and measure again")->needs(measure);
    cmd->add_flag("--quick", flags->quick, "With --measure: small sizes, 2 repetitions, not cached (for tests)")
        ->needs(measure);
    cmd->add_flag("--browsers", flags->browsers, "Also find Chromium, Chrome and Firefox and run each with --version");
    cmd->footer("ACCEL_DEVICES=cpu,cuda0 limits the usable devices to those ids (the others are listed as unusable).");
    cmd->callback([flags, &exit_code] {
        hw::DetectOptions options;
        options.browsers = flags->browsers;
        const hw::Inventory inv = hw::detect(options);
        std::optional<hw::Roofline> roofline;
        if (flags->measure) roofline = roofline_for(inv, *flags);
        if (flags->format.resolve() == Format::json) {
            nlohmann::json doc = nlohmann::json::parse(hw::inventory_json(inv));
            if (roofline) doc["measurements"] = nlohmann::json::parse(hw::roofline_json(*roofline));
            print_json(doc);
        } else {
            print_inventory(inv);
            if (roofline) print_roofline(*roofline);
        }
        exit_code = exit_ok;
    });
}

}  // namespace accel::cli
