#include "accel/pool/engine_loader.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/spawn.h"
#include "accel/hw/memory_info.h"
#include "accel/model/gguf_file.h"
#include "accel/model/gguf_validate.h"
#include "accel/model/memory_estimate.h"
#include "engine_resident.h"

namespace accel::pool {
namespace {

uint64_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0;
    uint64_t resident = 0;
    statm >> size >> resident;
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

model::MemoryEstimate estimate_for(const model::GgufFile& file, const LoadSpec& spec) {
    model::MemoryConfig mc;
    mc.n_ctx = spec.options.n_ctx;
    mc.n_parallel = spec.options.n_seq;
    mc.n_batch = spec.options.n_batch;
    mc.n_ubatch = spec.options.n_ubatch;
    mc.kv_type = spec.options.type_k;
    mc.flash_attn = spec.options.flash_attn;
    mc.device = spec.device;
    return model::estimate_memory(model::memory_shape_from_gguf(file), mc);
}

const hw::Device* find_device(const std::vector<hw::Device>& devices, const std::string& id) {
    for (const auto& d : devices) {
        if (d.id == id) return &d;
    }
    return nullptr;
}

}  // namespace

EngineLoader::EngineLoader(std::vector<hw::Device> devices, PlacementRequest placement)
    : devices_(std::move(devices)), placement_(placement) {}

EngineLoader::Plan EngineLoader::plan(const LoadSpec& spec) {
    const LoadOptions& o = spec.options;
    // An empty identity means the caller did not say which file version this is: do not cache.
    const std::string key = spec.identity.empty()
                                ? std::string()
                                : fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", spec.identity, spec.device,
                                              o.n_ctx, o.n_seq, o.n_batch, o.n_ubatch, model::to_string(o.type_k),
                                              model::to_string(o.type_v), model::to_string(o.flash_attn),
                                              o.n_gpu_layers, o.embeddings, engine::to_string(o.pooling));
    if (!key.empty()) {
        std::lock_guard lock(plans_mutex_);
        if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    }
    // Validated before the estimate reads its hyperparameters, so that a damaged file is refused with the rule it
    // breaks (docs/model.md) rather than estimated from nonsense.
    const model::GgufFile file = model::read_validated_gguf(spec.model);
    Plan out;
    out.estimate = estimate_for(file, spec);
    PlacementRequest req = placement_;
    req.forced_device = spec.device;
    out.placement = place(footprint(file, out.estimate), devices_, req);
    if (o.n_gpu_layers >= 0 && spec.device != "cpu") out.placement.n_gpu_layers = o.n_gpu_layers;
    if (!key.empty()) {
        std::lock_guard lock(plans_mutex_);
        if (plans_.size() >= 64) plans_.clear();  // a bound, not an LRU: plans are cheap to recompute
        plans_.emplace(key, out);
    }
    return out;
}

DeviceBytes EngineLoader::estimate(const LoadSpec& spec) {
    const Placement p = plan(spec).placement;
    if (!p.fits) {
        std::string why;
        for (const auto& r : p.reasons) why += (why.empty() ? "" : "; ") + r;
        throw Error(ErrorKind::out_of_memory, why);
    }
    return DeviceBytes(p.bytes.begin(), p.bytes.end());
}

void EngineLoader::set_validated_load(ValidatedLoad mode) { validated_ = std::move(mode); }

void EngineLoader::check_in_helper(const LoadSpec& spec) {
    if (!validated_.enabled) return;
    if (!spec.identity.empty()) {
        std::lock_guard lock(checked_mutex_);
        if (checked_.count(spec.identity) > 0) return;
    }
    const std::filesystem::path program = validated_.program.empty() ? self_executable() : validated_.program;
    const SpawnResult r =
        spawn_and_wait({program.string(), "__validate-load", spec.model.string()}, {.timeout = validated_.timeout});
    ACCEL_LOG_DEBUG("validated load of {} in a helper: {} in {:.1f} ms", spec.model.string(), describe(r),
                    std::chrono::duration<double, std::milli>(r.elapsed).count());
    const std::string why = last_line(r.err);
    if (r.status == SpawnStatus::exited && r.exit_code == 0) {
        if (!spec.identity.empty()) {
            std::lock_guard lock(checked_mutex_);
            checked_.insert(spec.identity);
        }
        return;
    }
    if (r.status == SpawnStatus::exited && r.exit_code == 2 && !why.empty()) {
        throw Error(ErrorKind::invalid_input, why);  // the helper's message names the file
    }
    if (r.status == SpawnStatus::exited) {
        throw Error(ErrorKind::backend, fmt::format("{}: the load check in a helper process failed ({}){}",
                                                    spec.model.string(), describe(r), why.empty() ? "" : ": " + why));
    }
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: refused: loading it ended a helper process ({}){}", spec.model.string(), describe(r),
                            why.empty() ? "" : ": " + why));
}

std::unique_ptr<Resident> EngineLoader::load(const LoadSpec& spec, DeviceBytes& measured) {
    auto r = std::make_unique<EngineResident>();
    const Plan planned = plan(spec);
    check_in_helper(spec);
    r->placement = planned.placement;
    const model::MemoryEstimate& est = planned.estimate;
    const bool on_gpu = std::any_of(r->placement.bytes.begin(), r->placement.bytes.end(),
                                    [](const auto& kv) { return kv.first != "cpu"; });

    std::lock_guard lock(measure_);
    std::map<std::string, uint64_t> gpu_free_before;
    if (on_gpu) {
        for (const auto& d : hw::ggml_devices()) {
            if (d.id != "cpu" && r->placement.bytes.count(d.id) > 0) gpu_free_before[d.id] = d.memory_free_bytes;
        }
    }
    const uint64_t rss_before = rss_bytes();
    r->model = engine::LoadedModel::load(spec.model, {.device = r->placement.device,
                                                      .split_devices = r->placement.split_devices,
                                                      .split_fractions = r->placement.split_fractions,
                                                      .n_gpu_layers = r->placement.n_gpu_layers,
                                                      .use_mmap = spec.options.use_mmap});
    r->session = engine::Session::open(r->model, {.n_ctx = spec.options.n_ctx,
                                                  .n_batch = spec.options.n_batch,
                                                  .n_ubatch = spec.options.n_ubatch,
                                                  .n_seq_max = spec.options.n_seq,
                                                  .type_k = spec.options.type_k,
                                                  .type_v = spec.options.type_v,
                                                  .flash_attn = spec.options.flash_attn,
                                                  .embeddings = spec.options.embeddings,
                                                  .pooling = spec.options.pooling});
    r->default_threads = r->session->n_threads();
    const uint64_t rss_after = rss_bytes();
    const uint64_t floor = r->model.size_bytes() + est.kv_cache_bytes;
    measured["cpu"] = std::max(rss_after > rss_before ? rss_after - rss_before : 0, floor);
    // GPU figures: re-read the device after the load.
    for (const auto& d : on_gpu ? hw::ggml_devices() : std::vector<hw::Device>{}) {
        auto it = gpu_free_before.find(d.id);
        if (it == gpu_free_before.end()) continue;
        measured[d.id] = it->second > d.memory_free_bytes ? it->second - d.memory_free_bytes : 0;
        if (r->placement.bytes.count("cpu") > 0) measured["cpu"] = r->placement.bytes.at("cpu");
    }
    return r;
}

// The CPU's total (RAM, or the cgroup limit) and the cgroup files are found once: they do not change while a pool
// runs, and finding them on every admission check was a measurable part of the pool's load overhead (docs/pool.md).
SystemMonitor::SystemMonitor(std::vector<hw::Device> devices)
    : devices_(std::move(devices)), cpu_total_bytes_(memory_.read().effective_total_bytes()) {}

std::vector<std::string> SystemMonitor::devices() {
    std::vector<std::string> out;
    for (const auto& d : devices_) {
        if (d.usable) out.push_back(d.id);
    }
    return out;
}

uint64_t SystemMonitor::total_bytes(const std::string& device) {
    if (device == "cpu") return cpu_total_bytes_;
    const hw::Device* d = find_device(devices_, device);
    return d != nullptr ? d->memory_total_bytes : 0;
}

uint64_t SystemMonitor::free_bytes(const std::string& device) {
    if (device == "cpu") return memory_.read().effective_available_bytes();
    for (const auto& d : hw::ggml_devices()) {
        if (d.id == device) return d.memory_free_bytes;
    }
    return 0;
}

bool SystemMonitor::is_gpu(const std::string& device) {
    const hw::Device* d = find_device(devices_, device);
    return d != nullptr && (d->type == hw::DeviceType::gpu || d->type == hw::DeviceType::igpu);
}

uint64_t SystemMonitor::system_available_bytes() { return memory_.read().effective_available_bytes(); }

}  // namespace accel::pool
