#include "pool_runtime.h"

#include <algorithm>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/core/units.h"
#include "accel/pool/lease_tasks.h"

namespace accel::cli {

void add_pool_flags(CLI::App& cmd, PoolFlags& flags) {
    cmd.add_option("--device", flags.device, "Run on this device only (cpu, cuda0, ...); no fallback");
    cmd.add_option("--fallback", flags.fallback, "When the preferred device is full: allow, forbid or wait")
        ->check(CLI::IsMember({"allow", "forbid", "wait"}));
    cmd.add_flag("--pool-stats", flags.pool_stats, "Print the resource pool's statistics to stderr at the end");
}

PoolRuntime::PoolRuntime(const PoolFlags& flags) : flags_(flags) {
    if (!flags_.device.empty()) flags_.device = hw::parse_device_id(flags_.device);
    inventory_ = hw::detect({.browsers = false});
    config_ = pool::load_pool_config(paths::config_file());
    if (!flags.fallback.empty()) config_.fallback = pool::parse_fallback(flags.fallback);
    pool::PlacementRequest placement{.margin_bytes = config_.margin_bytes, .margin_fraction = config_.margin_fraction};
    loader_ = std::make_unique<pool::EngineLoader>(inventory_.devices, placement);
    loader_->set_validated_load({.enabled = config_.validated_load});
    monitor_ = std::make_unique<pool::SystemMonitor>(inventory_.devices);
    pool_ = std::make_unique<pool::ResourcePool>(config_, *loader_, *monitor_);
    if (!flags_.device.empty()) {
        const auto it = std::find_if(inventory_.devices.begin(), inventory_.devices.end(),
                                     [&](const hw::Device& d) { return d.id == flags_.device; });
        if (it == inventory_.devices.end()) {
            throw Error(ErrorKind::invalid_input, "unknown device '" + flags_.device + "' (see accel detect)");
        }
        if (!it->usable) {
            throw Error(ErrorKind::invalid_input, "device '" + flags_.device + "' is not usable: " + it->reason);
        }
    }
}

pool::Request PoolRuntime::request(const std::string& model, const pool::LoadOptions& options) const {
    pool::Request r{.model = model, .options = options, .fallback = config_.fallback};
    if (!flags_.device.empty()) {
        r.devices = {flags_.device};
        r.fallback = pool::Fallback::forbid;
        return r;
    }
    std::vector<const hw::Device*> gpus;
    for (const auto& d : inventory_.devices) {
        if (d.usable && (d.type == hw::DeviceType::gpu || d.type == hw::DeviceType::igpu)) gpus.push_back(&d);
    }
    std::sort(gpus.begin(), gpus.end(),
              [](const hw::Device* a, const hw::Device* b) { return a->memory_free_bytes > b->memory_free_bytes; });
    for (const auto* g : gpus) r.devices.push_back(g->id);
    r.devices.emplace_back("cpu");
    return r;
}

void PoolRuntime::report(const pool::Lease& lease) const {
    const pool::Placement placement = pool::placement_of(lease);
    ACCEL_LOG_INFO("placement: {} (n_gpu_layers {})", lease.device(), placement.n_gpu_layers);
    for (const auto& r : lease.reasons()) ACCEL_LOG_INFO("placement: {}", r);
    for (const auto& r : placement.reasons) ACCEL_LOG_INFO("placement: {}", r);
    if (lease.device() != "cpu" || !flags_.device.empty()) return;
    // Never a silent CPU fallback: when a GPU was usable but the model ended on the CPU, say so.
    for (const auto& d : inventory_.devices) {
        if (d.usable && d.id != "cpu") {
            ACCEL_LOG_WARN("running on the CPU although {} is usable: {}", d.id,
                           lease.reasons().empty() ? "see --log-level info" : lease.reasons().front());
            break;
        }
    }
}

void PoolRuntime::print_stats() const {
    if (!flags_.pool_stats) return;
    const auto s = pool_->stats();
    fmt::print(stderr, "pool: {} resident, evictions lru {} ttl {} explicit {} low-memory {}, load failures {}, "
                       "OOM retries {}, busy {}{}\n",
               s.entries.size(), s.evictions_lru, s.evictions_ttl, s.evictions_explicit, s.evictions_low_memory,
               s.load_failures, s.oom_retries, s.busy_rejections, s.low_memory_active ? ", LOW-MEMORY MODE" : "");
    for (const auto& d : s.devices) {
        fmt::print(stderr, "pool: device {:6} budget {:9.1f} MiB  used {:9.1f} MiB  free {:9.1f} MiB\n", d.device,
                   to_mib(d.budget_bytes), to_mib(d.used_bytes), to_mib(d.free_bytes));
    }
    for (const auto& e : s.entries) {
        uint64_t bytes = 0;
        for (const auto& [_, b] : e.bytes) bytes += b;
        fmt::print(stderr, "pool: model {} on {}: {} | {:.1f} MiB | ctx {} | leases {} | hits {} | loads {} ({:.1f} ms)\n",
                   e.model, e.device, pool::to_string(e.state), to_mib(bytes), e.options.n_ctx, e.leases, e.hits,
                   e.loads, static_cast<double>(e.load_time.count()) / 1e6);
    }
}

}  // namespace accel::cli
