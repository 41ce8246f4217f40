#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "accel/hw/inventory.h"
#include "accel/pool/engine_loader.h"
#include "accel/pool/resource_pool.h"

namespace accel::cli {

// Flags shared by every command that runs a model through the pool (generate, embed, bench).
struct PoolFlags {
    std::string device;      // --device: forced, no fallback
    std::string fallback;    // --fallback allow|forbid|wait (default from config)
    bool pool_stats = false; // --pool-stats: print the pool's statistics to stderr at the end
};
void add_pool_flags(CLI::App& cmd, PoolFlags& flags);

// The process's pool over the engine: inventory, configuration (~/.config/accel/config.toml, ACCEL_POOL_*),
// loader and monitor. One per process.
class PoolRuntime {
public:
    explicit PoolRuntime(const PoolFlags& flags);
    // A request for model with the devices ranked (GPUs by free memory, then the CPU) or the forced one.
    pool::Request request(const std::string& model, const pool::LoadOptions& options) const;
    pool::ResourcePool& pool() { return *pool_; }
    const hw::Inventory& inventory() const { return inventory_; }
    // Prints the placement reasons and, with --pool-stats, the statistics (stderr).
    void report(const pool::Lease& lease) const;
    void print_stats() const;

private:
    PoolFlags flags_;
    hw::Inventory inventory_;
    pool::PoolConfig config_;
    std::unique_ptr<pool::EngineLoader> loader_;
    std::unique_ptr<pool::SystemMonitor> monitor_;
    std::unique_ptr<pool::ResourcePool> pool_;
};

}  // namespace accel::cli
