#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "accel/pool/pool_config.h"
#include "accel/pool/pool_types.h"
#include "accel/pool/session_guard.h"

namespace accel::pool {

enum class EntryState : uint8_t { loading, ready, idle, unloading };
const char* to_string(EntryState s);

struct EntryStats {
    std::string model;
    std::string device;
    DeviceBytes bytes;  // measured once loaded; the estimate while loading
    LoadOptions options;
    EntryState state = EntryState::loading;
    uint32_t leases = 0;
    bool pinned = false;
    std::optional<Clock::time_point> expires_at;
    uint64_t hits = 0;
    uint32_t loads = 0;
    std::chrono::nanoseconds load_time{0};
    Clock::time_point last_used{};
};

struct DeviceStats {
    std::string device;
    uint64_t budget_bytes = 0;
    uint64_t used_bytes = 0;       // what the pool accounts for
    uint64_t free_bytes = 0;       // min(driver free, budget - used)
    uint64_t driver_free_bytes = 0;
};

struct PoolStats {
    std::vector<EntryStats> entries;
    std::vector<DeviceStats> devices;
    uint64_t evictions_lru = 0;        // to make room
    uint64_t evictions_ttl = 0;        // keep-alive expired
    uint64_t evictions_explicit = 0;   // unload() or an OOM retry
    uint64_t evictions_low_memory = 0;
    uint64_t load_failures = 0;
    uint64_t oom_retries = 0;
    uint64_t busy_rejections = 0;
    bool low_memory_active = false;
    uint32_t waiting = 0;  // callers queued now: waiting for a load in progress, or for room
};

class ResourcePool;

// Keeps a loaded model from being evicted. Move-only; releasing the last lease starts the keep-alive timer.
// A lease itself is not thread-safe; leases on the same model may be used from different threads.
class Lease {
public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    // The model's session with its lock held and the request's threads set (see SessionGuard). Blocks while
    // another lease on the same model holds its guard; at most one guard per lease at a time. Only for models
    // loaded by an EngineLoader: throws Error{internal} otherwise, or on an empty lease.
    SessionGuard session() const;
    // The leased engine model without the session's lock, for what llama.cpp allows on a model from any thread
    // (tokenizing, chat templates, vocabulary lookups). Throws like session().
    const engine::LoadedModel& model() const;
    // What a custom Loader returned, for that loader's own resident type; engine models go through session().
    Resident& resident() const { return *resident_; }
    const std::string& device() const { return device_; }
    // Why this placement was chosen: one line per decision (fit, fallback, eviction, hit).
    const std::vector<std::string>& reasons() const { return reasons_; }
    bool hit() const { return hit_; }
    explicit operator bool() const { return resident_ != nullptr; }
    void release();

private:
    friend class ResourcePool;
    ResourcePool* pool_ = nullptr;
    uint64_t entry_id_ = 0;
    Resident* resident_ = nullptr;
    std::string device_;
    std::vector<std::string> reasons_;
    bool hit_ = false;
    int32_t n_threads_ = 0;
};

// A thread-safe cache of loaded models with per-device memory budgets (see docs/pool.md for the rules).
// All public functions are thread-safe. Loads run outside the lock, so hits on resident models never wait
// for another model's load or unload. The pool must outlive its leases.
class ResourcePool {
public:
    using Now = std::function<Clock::time_point()>;

    ResourcePool(PoolConfig config, Loader& loader, DeviceMonitor& monitor, Now now = Clock::now);
    ~ResourcePool();
    ResourcePool(const ResourcePool&) = delete;
    ResourcePool& operator=(const ResourcePool&) = delete;

    // Returns a lease on a resident model matching the request, loading it if needed.
    // Throws Error{busy} when the wait queue is full or the wait timed out, Error{out_of_memory} when no allowed
    // device has room (the message names the budget, the need and what holds the memory), or the loader's error.
    Lease acquire(const Request& request);

    // Unloads every idle model whose keep-alive has expired (and applies low-memory rules). Called by acquire and
    // release too; call it from a timer when models must go on time with no traffic.
    void collect();
    // Unloads an idle model now; returns false if it is leased, loading, or not resident.
    bool unload(const std::filesystem::path& model, const std::string& device = "");
    // Pins (keep_alive < 0) or unpins a resident model.
    bool pin(const std::filesystem::path& model, bool pinned);

    PoolStats stats() const;
    const PoolConfig& config() const { return config_; }

private:
    struct Entry;
    struct Attempt;
    struct Admission;
    struct Loaded;
    friend class Lease;
    void release(uint64_t entry_id);
    std::string identity(const std::filesystem::path& model) const;
    uint64_t budget_locked(const std::string& device) const;
    uint64_t used_locked(const std::string& device) const;
    uint64_t free_locked(const std::string& device) const;
    bool low_memory_locked() const;
    std::chrono::milliseconds keep_alive_locked(const Entry& e) const;
    Entry* find_ready_locked(const std::string& identity, const Request& req, const std::string& device);
    Entry* find_loading_locked(const std::string& identity, const Request& req);  // on any allowed device
    bool plan_eviction_locked(const std::string& device, uint64_t need, std::vector<Entry*>& victims) const;
    // acquire()'s steps, in the order it takes them.
    std::optional<Lease> lease_resident_locked(const std::string& identity, const Request& req);
    void enter_queue_locked(Attempt& attempt, const std::string& what);  // throws Error{busy} when full
    void wait_for_load_locked(std::unique_lock<std::mutex>& lock, Entry& loading, Attempt& attempt);
    void estimate_unlocked(std::unique_lock<std::mutex>& lock, Attempt& attempt);
    Admission plan_admission_locked(const Attempt& attempt);
    bool plan_bytes_locked(const Attempt& attempt, size_t spec, std::vector<Entry*>& plan,
                           std::optional<uint64_t>& free_on_device, std::vector<std::string>& reasons) const;
    bool plan_count_locked(std::vector<Entry*>& plan, std::vector<std::string>& reasons) const;
    void refuse_or_wait_locked(std::unique_lock<std::mutex>& lock, Attempt& attempt,
                               const std::vector<std::string>& reasons);
    Lease load_admitted(std::unique_lock<std::mutex>& lock, const Attempt& attempt, Admission admission);
    Loaded load_with_oom_retry(const LoadSpec& spec);
    void evict_all_idle();
    Lease finish_load_locked(uint64_t entry_id, Loaded loaded, const Request& req, std::vector<std::string> reasons);
    std::vector<std::unique_ptr<Resident>> detach_locked(std::vector<Entry*> victims, uint64_t& counter);
    void finish_unload(std::vector<std::unique_ptr<Resident>> residents, const std::vector<std::string>& gpu_devices);
    std::vector<std::unique_ptr<Resident>> collect_locked(std::vector<std::string>& gpu_devices);
    Lease make_lease_locked(Entry& e, const Request& req, std::vector<std::string> reasons, bool hit);
    std::string holders_locked(const std::string& device) const;

    PoolConfig config_;
    Loader& loader_;
    DeviceMonitor& monitor_;
    Now now_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;  // an entry finished loading, was released or unloaded
    std::list<std::unique_ptr<Entry>> entries_;
    uint64_t next_id_ = 1;
    uint32_t waiting_ = 0;
    PoolStats counters_;
    mutable std::chrono::steady_clock::time_point low_memory_checked_{};
    mutable bool low_memory_cached_ = false;
    mutable std::mutex canonical_mutex_;
    mutable std::map<std::string, std::string> canonical_;  // path as given -> canonical path
};

}  // namespace accel::pool
