#include "accel/pool/resource_pool.h"

#include <algorithm>
#include <sys/stat.h>
#include <thread>
#include <utility>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/units.h"

namespace accel::pool {

// Shared by the loading thread and every caller waiting for the same load (single flight).
// Waiters get their own copy of the error, not the loader's exception object: sharing one exception across
// threads is legal but its reference counts live in uninstrumented libstdc++, which ThreadSanitizer reports.
struct LoadOutcome {
    bool done = false;
    bool ok = false;
    ErrorKind error_kind = ErrorKind::internal;
    std::string error_message;
};

struct ResourcePool::Entry {
    uint64_t id = 0;
    std::string identity;
    std::filesystem::path model;
    std::string device;
    LoadOptions options;
    EntryState state = EntryState::loading;
    std::unique_ptr<Resident> resident;
    DeviceBytes bytes;
    uint32_t leases = 0;
    std::optional<std::chrono::milliseconds> keep_alive;
    bool pinned = false;
    std::optional<Clock::time_point> expires_at;
    uint64_t hits = 0;
    uint32_t loads = 0;
    std::chrono::nanoseconds load_time{0};
    Clock::time_point last_used{};
    std::shared_ptr<LoadOutcome> outcome = std::make_shared<LoadOutcome>();
};

namespace {

bool options_serve(const LoadOptions& have, const LoadOptions& want) {
    return have.n_ctx >= want.n_ctx && have.n_seq >= want.n_seq && have.n_batch == want.n_batch &&
           have.n_ubatch == want.n_ubatch && have.type_k == want.type_k &&
           have.type_v == want.type_v && have.flash_attn == want.flash_attn && have.embeddings == want.embeddings &&
           have.pooling == want.pooling && have.use_mmap == want.use_mmap &&
           (want.n_gpu_layers < 0 || have.n_gpu_layers == want.n_gpu_layers);
}

bool is_oom(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const Error& err) {
        return err.kind() == ErrorKind::out_of_memory;
    } catch (...) {
        return false;
    }
}

// Gives the waiters their own copy of a failed load's error (see LoadOutcome).
void record_failure(LoadOutcome& outcome, const std::exception_ptr& error, const std::filesystem::path& model) {
    outcome.ok = false;
    try {
        std::rethrow_exception(error);
    } catch (const Error& err) {
        outcome.error_kind = err.kind();
        outcome.error_message = err.what();
    } catch (const std::exception& err) {
        outcome.error_message = err.what();
    } catch (...) {
        outcome.error_message = "unknown error while loading " + model.string();
    }
}

}  // namespace

const char* to_string(EntryState s) {
    switch (s) {
        case EntryState::loading: return "loading";
        case EntryState::ready: return "ready";
        case EntryState::idle: return "idle";
        case EntryState::unloading: return "unloading";
    }
    return "unknown";
}

// ---- Lease ----

Lease::Lease(Lease&& other) noexcept { *this = std::move(other); }

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = std::exchange(other.pool_, nullptr);
        entry_id_ = std::exchange(other.entry_id_, 0);
        resident_ = std::exchange(other.resident_, nullptr);
        device_ = std::move(other.device_);
        reasons_ = std::move(other.reasons_);
        hit_ = other.hit_;
        n_threads_ = other.n_threads_;
    }
    return *this;
}

Lease::~Lease() { release(); }

void Lease::release() {
    if (pool_ != nullptr) {
        pool_->release(entry_id_);
        pool_ = nullptr;
        resident_ = nullptr;
    }
}

// ---- ResourcePool ----

ResourcePool::ResourcePool(PoolConfig config, Loader& loader, DeviceMonitor& monitor, Now now)
    : config_(std::move(config)), loader_(loader), monitor_(monitor), now_(std::move(now)) {}

ResourcePool::~ResourcePool() {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
        if (e->leases > 0) {
            ACCEL_LOG_ERROR("resource pool destroyed while {} is still leased", e->model.string());
        }
    }
}

std::string ResourcePool::identity(const std::filesystem::path& model) const {
    // Path, size and mtime: cheap, and a rewritten file is a new model. Content hashes are for the warehouse.
    struct stat st {};
    if (::stat(model.c_str(), &st) != 0) {
        throw Error(ErrorKind::invalid_input, "model file not found: " + model.string());
    }
    std::string canonical;
    {
        std::lock_guard lock(canonical_mutex_);
        auto it = canonical_.find(model.string());
        if (it == canonical_.end()) {
            std::error_code ec;
            const auto c = std::filesystem::weakly_canonical(model, ec);
            it = canonical_.emplace(model.string(), (ec ? model : c).string()).first;
        }
        canonical = it->second;
    }
    return fmt::format("{}|{}|{}.{}", canonical, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

uint64_t ResourcePool::budget_locked(const std::string& device) const {
    if (auto it = config_.budget_bytes.find(device); it != config_.budget_bytes.end()) return it->second;
    const uint64_t total = monitor_.total_bytes(device);
    const auto frac = static_cast<uint64_t>(config_.margin_fraction * static_cast<double>(total));
    const uint64_t margin = std::max(config_.margin_bytes, frac);
    return total > margin ? total - margin : 0;
}

uint64_t ResourcePool::used_locked(const std::string& device) const {
    uint64_t used = 0;
    for (const auto& e : entries_) {
        if (auto it = e->bytes.find(device); it != e->bytes.end()) used += it->second;
    }
    return used;
}

uint64_t ResourcePool::free_locked(const std::string& device) const {
    const uint64_t budget = budget_locked(device);
    const uint64_t used = used_locked(device);
    const uint64_t by_budget = budget > used ? budget - used : 0;
    return std::min(monitor_.free_bytes(device), by_budget);
}

bool ResourcePool::low_memory_locked() const {
    switch (config_.low_memory) {
        case LowMemoryMode::on: return true;
        case LowMemoryMode::off: return false;
        case LowMemoryMode::auto_: break;
    }
    // Reading available memory costs a file read: look at most once a second.
    const auto now = std::chrono::steady_clock::now();
    if (now - low_memory_checked_ > std::chrono::seconds(1)) {
        low_memory_checked_ = now;
        low_memory_cached_ = monitor_.system_available_bytes() < config_.low_memory_threshold_bytes;
    }
    return low_memory_cached_;
}

std::chrono::milliseconds ResourcePool::keep_alive_locked(const Entry& e) const {
    const auto ttl = e.keep_alive.value_or(config_.keep_alive);
    if (ttl.count() >= 0 && low_memory_locked()) return std::min(ttl, config_.low_memory_keep_alive);
    return ttl;
}

ResourcePool::Entry* ResourcePool::find_ready_locked(const std::string& id, const Request& req,
                                                     const std::string& device) {
    Entry* best = nullptr;
    for (auto& e : entries_) {
        if (e->state == EntryState::ready && e->identity == id && e->device == device &&
            options_serve(e->options, req.options) && (best == nullptr || e->options.n_ctx < best->options.n_ctx)) {
            best = e.get();
        }
    }
    return best;
}

ResourcePool::Entry* ResourcePool::find_loading_locked(const std::string& id, const Request& req) {
    for (const auto& dev : req.devices) {
        for (auto& e : entries_) {
            if (e->state == EntryState::loading && e->identity == id && e->device == dev &&
                options_serve(e->options, req.options)) {
                return e.get();
            }
        }
    }
    return nullptr;
}

std::string ResourcePool::holders_locked(const std::string& device) const {
    std::string out;
    for (const auto& e : entries_) {
        auto it = e->bytes.find(device);
        if (it == e->bytes.end() || it->second == 0) continue;
        out += fmt::format("{}{} ({}, {}{})", out.empty() ? "" : ", ", e->model.filename().string(), mib(it->second),
                           e->state == EntryState::loading ? "loading" : (e->leases > 0 ? "leased" : "idle"),
                           e->pinned ? ", pinned" : "");
    }
    return out.empty() ? "nothing in the pool" : out;
}

bool ResourcePool::plan_eviction_locked(const std::string& device, uint64_t need,
                                        std::vector<Entry*>& victims) const {
    std::vector<Entry*> candidates;
    for (const auto& e : entries_) {
        if (e->state == EntryState::ready && e->leases == 0 && e->bytes.count(device) > 0) candidates.push_back(e.get());
    }
    // Least recently used first, weighted by the bytes each frees on the target device; pinned models last.
    const auto now = now_();
    const auto score = [&](const Entry* e) {
        const double age_s = std::chrono::duration<double>(now - e->last_used).count() + 1.0;
        return age_s * static_cast<double>(e->bytes.at(device) + 1);
    };
    std::sort(candidates.begin(), candidates.end(), [&](const Entry* a, const Entry* b) {
        if (a->pinned != b->pinned) return !a->pinned;
        return score(a) > score(b);
    });
    uint64_t free = free_locked(device);
    for (Entry* e : candidates) {
        if (free >= need) break;
        victims.push_back(e);
        free += e->bytes.at(device);
    }
    return free >= need;
}

std::vector<std::unique_ptr<Resident>> ResourcePool::detach_locked(std::vector<Entry*> victims, uint64_t& counter) {
    std::sort(victims.begin(), victims.end());
    victims.erase(std::unique(victims.begin(), victims.end()), victims.end());  // a model may hold several devices
    std::vector<std::unique_ptr<Resident>> out;
    for (Entry* v : victims) {
        ACCEL_LOG_INFO("pool: unloading {} from {}", v->model.string(), v->device);
        out.push_back(std::move(v->resident));
        ++counter;
        entries_.remove_if([v](const std::unique_ptr<Entry>& e) { return e.get() == v; });
    }
    return out;
}

void ResourcePool::finish_unload(std::vector<std::unique_ptr<Resident>> residents,
                                 const std::vector<std::string>& gpu_devices) {
    if (residents.empty()) return;
    std::vector<uint64_t> before;
    for (const auto& d : gpu_devices) before.push_back(monitor_.free_bytes(d));
    residents.clear();  // frees the models, outside the lock
    // A GPU driver may report the memory free only some time after the free: wait (bounded) for it to show,
    // so the next placement decision does not see memory that is about to be returned as taken.
    const auto deadline = std::chrono::steady_clock::now() + config_.unload_wait;
    for (size_t i = 0; i < gpu_devices.size(); ++i) {
        while (monitor_.free_bytes(gpu_devices[i]) <= before[i] && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    std::lock_guard lock(mutex_);
    changed_.notify_all();
}

std::vector<std::unique_ptr<Resident>> ResourcePool::collect_locked(std::vector<std::string>& gpu_devices) {
    const auto now = now_();
    std::vector<Entry*> ttl_victims;
    for (auto& e : entries_) {
        if (e->state == EntryState::ready && e->leases == 0 && !e->pinned && e->expires_at && *e->expires_at <= now) {
            ttl_victims.push_back(e.get());
        }
    }
    for (Entry* v : ttl_victims) {
        if (monitor_.is_gpu(v->device)) gpu_devices.push_back(v->device);
    }
    auto out = detach_locked(ttl_victims, counters_.evictions_ttl);
    counters_.low_memory_active = low_memory_locked();
    if (counters_.low_memory_active) {
        // At most one idle model per device: keep the most recently used.
        std::map<std::string, std::vector<Entry*>> idle;
        for (auto& e : entries_) {
            if (e->state == EntryState::ready && e->leases == 0 && !e->pinned) idle[e->device].push_back(e.get());
        }
        std::vector<Entry*> extra;
        for (auto& [dev, list] : idle) {
            std::sort(list.begin(), list.end(), [](const Entry* a, const Entry* b) { return a->last_used > b->last_used; });
            extra.insert(extra.end(), list.begin() + 1, list.end());
            if (list.size() > 1 && monitor_.is_gpu(dev)) gpu_devices.push_back(dev);
        }
        auto more = detach_locked(extra, counters_.evictions_low_memory);
        for (auto& r : more) out.push_back(std::move(r));
    }
    return out;
}

void ResourcePool::collect() {
    std::vector<std::string> gpus;
    std::vector<std::unique_ptr<Resident>> victims;
    {
        std::lock_guard lock(mutex_);
        victims = collect_locked(gpus);
    }
    finish_unload(std::move(victims), gpus);
}

Lease ResourcePool::make_lease_locked(Entry& e, const Request& req, std::vector<std::string> reasons, bool hit) {
    ++e.leases;
    e.expires_at.reset();
    e.last_used = now_();
    Lease lease;
    lease.pool_ = this;
    lease.entry_id_ = e.id;
    lease.resident_ = e.resident.get();
    lease.device_ = e.device;
    lease.reasons_ = std::move(reasons);
    lease.hit_ = hit;
    lease.n_threads_ = req.n_threads;
    return lease;
}

void ResourcePool::release(uint64_t entry_id) {
    std::vector<std::string> gpus;
    std::vector<std::unique_ptr<Resident>> victims;
    {
        std::lock_guard lock(mutex_);
        for (auto& e : entries_) {
            if (e->id != entry_id) continue;
            if (e->leases > 0) --e->leases;
            e->last_used = now_();
            if (e->leases == 0) {
                const auto ttl = keep_alive_locked(*e);
                e->pinned = ttl.count() < 0;
                if (!e->pinned) e->expires_at = e->last_used + ttl;
            }
            break;
        }
        victims = collect_locked(gpus);
        changed_.notify_all();
    }
    finish_unload(std::move(victims), gpus);
}

// ---- acquire(), step by step ----

// One acquire() call in progress: the request resolved to one load spec per allowed device, and their estimates
// once read. While it waits in the queue it holds one of the queue's places, given back when it ends (under the
// lock: it is declared after the lock in acquire()).
struct ResourcePool::Attempt {
    Attempt(const Request& request, std::string model_id, uint32_t& waiting_count)
        : req(request),
          id(std::move(model_id)),
          deadline(std::chrono::steady_clock::now() + request.wait_timeout),
          waiting(waiting_count) {
        for (const auto& dev : req.devices) {
            specs.push_back(LoadSpec{.model = req.model, .identity = id, .device = dev, .options = req.options});
        }
    }
    Attempt(const Attempt&) = delete;
    Attempt& operator=(const Attempt&) = delete;
    ~Attempt() {
        if (queued) --waiting;
    }

    const Request& req;
    std::string id;
    std::vector<LoadSpec> specs;
    std::vector<DeviceBytes> needs;  // per spec; empty until estimated
    std::chrono::steady_clock::time_point deadline;
    uint32_t& waiting;
    bool queued = false;
};

// Where an attempt goes: the chosen spec (specs.size() when none fits), the idle models to evict for it, and why.
struct ResourcePool::Admission {
    size_t chosen = 0;
    std::vector<Entry*> victims;
    std::vector<std::string> reasons;
};

// What the loader returned, outside the lock.
struct ResourcePool::Loaded {
    std::unique_ptr<Resident> resident;
    DeviceBytes measured;
    std::exception_ptr error;
    std::chrono::nanoseconds time{0};
};

Lease ResourcePool::acquire(const Request& req) {
    if (req.devices.empty()) {
        throw Error(ErrorKind::invalid_input, "no device allowed for " + req.model.string());
    }
    const std::string id = identity(req.model);
    {
        // The fast path: a resident model serves the request with one lock and no I/O.
        std::lock_guard lock(mutex_);
        if (auto lease = lease_resident_locked(id, req)) return std::move(*lease);
    }
    collect();

    std::unique_lock lock(mutex_, std::defer_lock);
    Attempt attempt(req, id, waiting_);
    lock.lock();
    for (;;) {
        if (auto lease = lease_resident_locked(id, req)) return std::move(*lease);
        if (Entry* loading = find_loading_locked(id, req)) {
            wait_for_load_locked(lock, *loading, attempt);
            continue;
        }
        if (attempt.needs.empty()) {
            estimate_unlocked(lock, attempt);
            continue;  // the world may have changed while estimating
        }
        Admission admission = plan_admission_locked(attempt);
        if (admission.chosen == attempt.specs.size()) {
            refuse_or_wait_locked(lock, attempt, admission.reasons);
            continue;
        }
        return load_admitted(lock, attempt, std::move(admission));
    }
}

std::optional<Lease> ResourcePool::lease_resident_locked(const std::string& id, const Request& req) {
    for (const auto& dev : req.devices) {
        if (Entry* e = find_ready_locked(id, req, dev)) {
            ++e->hits;
            if (req.keep_alive) e->keep_alive = req.keep_alive;  // the latest request's keep-alive applies (Ollama's rule)
            return make_lease_locked(*e, req, {"hit: " + req.model.filename().string() + " is resident on " + dev},
                                     true);
        }
    }
    return std::nullopt;
}

void ResourcePool::enter_queue_locked(Attempt& attempt, const std::string& what) {
    if (attempt.queued) return;
    if (waiting_ >= config_.queue_size) {
        ++counters_.busy_rejections;
        throw Error(ErrorKind::busy,
                    fmt::format("resource pool busy: {} callers already wait ({}); try again later", waiting_, what));
    }
    ++waiting_;
    attempt.queued = true;
}

void ResourcePool::wait_for_load_locked(std::unique_lock<std::mutex>& lock, Entry& loading, Attempt& attempt) {
    const Request& req = attempt.req;
    enter_queue_locked(attempt, "waiting for " + req.model.string() + " to load");
    auto outcome = loading.outcome;
    if (!changed_.wait_until(lock, attempt.deadline, [&] { return outcome->done; })) {
        throw Error(ErrorKind::busy, "timed out after " + std::to_string(req.wait_timeout.count()) +
                                         " ms waiting for " + req.model.string() + " to load");
    }
    if (!outcome->ok) throw Error(outcome->error_kind, outcome->error_message);
}

void ResourcePool::estimate_unlocked(std::unique_lock<std::mutex>& lock, Attempt& attempt) {
    // Estimates read the model file: not under the lock.
    lock.unlock();
    std::exception_ptr failed;
    try {
        for (const auto& s : attempt.specs) attempt.needs.push_back(loader_.estimate(s));
    } catch (...) {
        failed = std::current_exception();
    }
    lock.lock();
    if (failed) std::rethrow_exception(failed);
}

ResourcePool::Admission ResourcePool::plan_admission_locked(const Attempt& attempt) {
    Admission out;
    out.chosen = attempt.specs.size();
    for (size_t i = 0; i < attempt.specs.size(); ++i) {
        std::vector<Entry*> plan;
        std::optional<uint64_t> free_on_dev;  // for the decision's reason: each free_locked() reads the device again
        if (plan_bytes_locked(attempt, i, plan, free_on_dev, out.reasons) && plan_count_locked(plan, out.reasons)) {
            const std::string& dev = attempt.specs[i].device;
            const DeviceBytes& need = attempt.needs[i];
            out.chosen = i;
            out.victims = std::move(plan);
            if (i > 0) out.reasons.push_back("fallback: placed on " + dev + " (policy allow)");
            out.reasons.push_back(fmt::format("placed on {}: needs {} (estimate), {} free", dev,
                                              mib(need.count(dev) ? need.at(dev) : 0),
                                              mib(free_on_dev ? *free_on_dev : free_locked(dev))));
            for (Entry* v : out.victims) {
                out.reasons.push_back("evicted idle " + v->model.filename().string() + " from " + v->device);
            }
            return out;
        }
        if (attempt.req.fallback != Fallback::allow) break;  // only the preferred device (forbid), or wait for it
    }
    return out;
}

bool ResourcePool::plan_bytes_locked(const Attempt& attempt, size_t i, std::vector<Entry*>& plan,
                                     std::optional<uint64_t>& free_on_dev, std::vector<std::string>& reasons) const {
    for (const auto& [d, bytes] : attempt.needs[i]) {
        const uint64_t free = free_locked(d);
        if (d == attempt.specs[i].device) free_on_dev = free;
        if (bytes <= free) continue;
        if (!plan_eviction_locked(d, bytes, plan)) {
            reasons.push_back(fmt::format("{} does not fit {}: needs {} (estimate), {} free of a {} budget; held by {}",
                                          attempt.req.model.filename().string(), d, mib(bytes), mib(free),
                                          mib(budget_locked(d)), holders_locked(d)));
            return false;
        }
    }
    return true;
}

bool ResourcePool::plan_count_locked(std::vector<Entry*>& plan, std::vector<std::string>& reasons) const {
    if (entries_.size() - plan.size() < config_.max_loaded) return true;
    // The count limit, under the same lock as the byte budgets: make room by evicting the LRU idle model.
    Entry* lru = nullptr;
    for (const auto& e : entries_) {
        if (e->state == EntryState::ready && e->leases == 0 &&
            std::find(plan.begin(), plan.end(), e.get()) == plan.end() &&
            (lru == nullptr || (lru->pinned && !e->pinned) || e->last_used < lru->last_used)) {
            lru = e.get();
        }
    }
    if (lru == nullptr) {
        reasons.push_back(fmt::format("the pool already holds its limit of {} models, all in use", config_.max_loaded));
        return false;
    }
    plan.push_back(lru);
    return true;
}

void ResourcePool::refuse_or_wait_locked(std::unique_lock<std::mutex>& lock, Attempt& attempt,
                                         const std::vector<std::string>& reasons) {
    const Request& req = attempt.req;
    if (req.fallback == Fallback::wait) {
        enter_queue_locked(attempt, "waiting for room for " + req.model.string());
        if (changed_.wait_until(lock, attempt.deadline) == std::cv_status::timeout) {
            throw Error(ErrorKind::busy, "timed out after " + std::to_string(req.wait_timeout.count()) +
                                             " ms waiting for room: " + (reasons.empty() ? "" : reasons.front()));
        }
        return;
    }
    std::string msg;
    for (const auto& r : reasons) msg += (msg.empty() ? "" : "; ") + r;
    throw Error(ErrorKind::out_of_memory, msg + (req.fallback == Fallback::forbid ? " (fallback policy forbid)" : ""));
}

Lease ResourcePool::load_admitted(std::unique_lock<std::mutex>& lock, const Attempt& attempt, Admission admission) {
    // Admit: account for the estimate now, so concurrent admissions see it, then load outside the lock.
    std::vector<std::string> gpus;
    for (Entry* v : admission.victims) {
        if (monitor_.is_gpu(v->device)) gpus.push_back(v->device);
    }
    auto victim_residents = detach_locked(admission.victims, counters_.evictions_lru);
    const LoadSpec& spec = attempt.specs[admission.chosen];
    auto entry = std::make_unique<Entry>();
    entry->id = next_id_++;
    entry->identity = attempt.id;
    entry->model = attempt.req.model;
    entry->device = spec.device;
    entry->options = attempt.req.options;
    entry->bytes = attempt.needs[admission.chosen];
    entry->keep_alive = attempt.req.keep_alive;
    entry->last_used = now_();
    const uint64_t entry_id = entry->id;
    entries_.push_back(std::move(entry));
    lock.unlock();

    finish_unload(std::move(victim_residents), gpus);
    Loaded loaded = load_with_oom_retry(spec);
    lock.lock();
    return finish_load_locked(entry_id, std::move(loaded), attempt.req, std::move(admission.reasons));
}

ResourcePool::Loaded ResourcePool::load_with_oom_retry(const LoadSpec& spec) {
    Loaded out;
    const auto t0 = std::chrono::steady_clock::now();
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            out.resident = loader_.load(spec, out.measured);
            out.error = nullptr;
        } catch (...) {
            out.error = std::current_exception();
        }
        if (!out.error || attempt == 1 || !is_oom(out.error)) break;
        evict_all_idle();  // a first out-of-memory error is retried once, after evicting every idle model
    }
    out.time = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
    return out;
}

void ResourcePool::evict_all_idle() {
    std::vector<std::unique_ptr<Resident>> idle;
    std::vector<std::string> idle_gpus;
    {
        std::lock_guard lock(mutex_);
        ++counters_.oom_retries;
        std::vector<Entry*> all_idle;
        for (auto& other : entries_) {
            if (other->state == EntryState::ready && other->leases == 0) {
                all_idle.push_back(other.get());
                if (monitor_.is_gpu(other->device)) idle_gpus.push_back(other->device);
            }
        }
        idle = detach_locked(all_idle, counters_.evictions_explicit);
    }
    finish_unload(std::move(idle), idle_gpus);
}

Lease ResourcePool::finish_load_locked(uint64_t entry_id, Loaded loaded, const Request& req,
                                       std::vector<std::string> reasons) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& x) { return x->id == entry_id; });
    Entry& e = **it;  // loading entries are never evicted, so it is still there
    const std::shared_ptr<LoadOutcome> outcome = e.outcome;
    outcome->done = true;
    if (loaded.error) {
        ++counters_.load_failures;
        record_failure(*outcome, loaded.error, req.model);
        entries_.erase(it);  // a failed load is not cached
        changed_.notify_all();
        std::rethrow_exception(loaded.error);
    }
    outcome->ok = true;
    e.resident = std::move(loaded.resident);
    if (!loaded.measured.empty()) e.bytes = loaded.measured;
    e.state = EntryState::ready;
    ++e.loads;
    e.load_time = loaded.time;
    changed_.notify_all();
    return make_lease_locked(e, req, std::move(reasons), false);
}

bool ResourcePool::unload(const std::filesystem::path& model, const std::string& device) {
    const std::string id = identity(model);
    std::vector<std::unique_ptr<Resident>> victims;
    std::vector<std::string> gpus;
    {
        std::lock_guard lock(mutex_);
        std::vector<Entry*> matched;
        for (auto& e : entries_) {
            if (e->identity == id && (device.empty() || e->device == device) && e->state == EntryState::ready &&
                e->leases == 0) {
                matched.push_back(e.get());
                if (monitor_.is_gpu(e->device)) gpus.push_back(e->device);
            }
        }
        if (matched.empty()) return false;
        victims = detach_locked(matched, counters_.evictions_explicit);
    }
    finish_unload(std::move(victims), gpus);
    return true;
}

bool ResourcePool::pin(const std::filesystem::path& model, bool pinned) {
    const std::string id = identity(model);
    std::lock_guard lock(mutex_);
    bool any = false;
    for (auto& e : entries_) {
        if (e->identity != id || e->state != EntryState::ready) continue;
        e->pinned = pinned;
        e->keep_alive = pinned ? std::optional(std::chrono::milliseconds(-1)) : std::nullopt;
        e->expires_at.reset();
        if (!pinned && e->leases == 0) e->expires_at = now_() + keep_alive_locked(*e);
        any = true;
    }
    return any;
}

PoolStats ResourcePool::stats() const {
    std::lock_guard lock(mutex_);
    PoolStats s = counters_;
    s.waiting = waiting_;
    std::vector<std::string> devices = monitor_.devices();
    for (const auto& e : entries_) {
        EntryStats es;
        es.model = e->model.string();
        es.device = e->device;
        es.bytes = e->bytes;
        es.options = e->options;
        es.state = e->state == EntryState::ready && e->leases == 0 ? EntryState::idle : e->state;
        es.leases = e->leases;
        es.pinned = e->pinned;
        es.expires_at = e->expires_at;
        es.hits = e->hits;
        es.loads = e->loads;
        es.load_time = e->load_time;
        es.last_used = e->last_used;
        s.entries.push_back(std::move(es));
    }
    for (const auto& d : devices) {
        DeviceStats ds;
        ds.device = d;
        ds.budget_bytes = budget_locked(d);
        ds.used_bytes = used_locked(d);
        ds.driver_free_bytes = monitor_.free_bytes(d);
        ds.free_bytes = free_locked(d);
        s.devices.push_back(ds);
    }
    return s;
}

}  // namespace accel::pool
