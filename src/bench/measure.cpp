// The one setup every measuring path shares: facts, free memory, --cold, the pool's lease, memory figures.
#include "accel/bench/measure.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "accel/bench/run_hygiene.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/sha256_cache.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/engine/synthetic_model.h"
#include "accel/model/gguf_file.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

pool::PoolConfig measuring_pool_config() {
    pool::PoolConfig config;
    config.low_memory = pool::LowMemoryMode::off;
    return config;
}

}  // namespace

ModelFacts read_model_facts(const std::filesystem::path& model, const model::MemoryConfig& kv_config) {
    ModelFacts f;
    f.sha256 = sha256_file_cached(model);
    const model::GgufFile file = model::read_gguf(model);
    f.name = file.get_string("general.name").value_or("");
    f.random_weights = engine::has_random_weights(f.name);
    f.embedding = model::is_embedding_model(file);
    for (const auto& t : file.tensors) {
        if (t.name.rfind("blk.", 0) == 0) f.n_params_blocks += t.n_elements;
    }
    try {
        f.kv_cache_bytes = model::estimate_memory(model::memory_shape_from_gguf(file), kv_config).kv_cache_bytes;
    } catch (const Error&) {
        // A model without the usual shape keys: no KV estimate; the measured figures stand alone.
    }
    return f;
}

void record_facts(PointResult& r, const ModelFacts& facts) {
    r.model_sha256 = facts.sha256;
    r.model_name = facts.name;
    r.model_n_params_blocks = facts.n_params_blocks;
    r.kv_cache_bytes_estimate = facts.kv_cache_bytes.value_or(0);
}

MeasuredModel::MeasuredModel()
    : devices_(hw::ggml_devices()),
      loader_(devices_),
      monitor_(devices_),
      pool_(std::make_unique<pool::ResourcePool>(measuring_pool_config(), loader_, monitor_)) {}

MeasuredModel::~MeasuredModel() = default;

std::optional<uint64_t> MeasuredModel::device_free() const {
    for (const auto& d : hw::ggml_devices()) {
        if (d.id == device_) return d.memory_free_bytes;
    }
    return std::nullopt;
}

bool MeasuredModel::on_gpu() const {
    for (const auto& d : devices_) {
        if (d.id == device_) return d.type == hw::DeviceType::gpu || d.type == hw::DeviceType::igpu;
    }
    return false;
}

void MeasuredModel::load(const MeasureLoad& load) {
    device_ = load.device;
    if (device_ != "cpu") free_before_ = device_free();
    if (load.cold) {
        // The last thing before the load: nothing between here and the pool's load reads the file.
        try {
            cold_note_ = evict_from_page_cache(load.model);
        } catch (const Error& e) {
            cold_note_ = e.what();
        }
        cold_ = cold_note_.empty();
    }
    if (load.before_load) load.before_load();
    load_started_ = Clock::now();
    lease_ = pool_->acquire({.model = load.model,
                             .devices = {load.device},
                             .options = load.options,
                             .fallback = pool::Fallback::forbid,
                             .n_threads = load.n_threads});
    load_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - load_started_).count();
    guard_.emplace(lease_.session());
}

std::optional<uint64_t> MeasuredModel::allocated_bytes() const {
    if (device_ == "cpu" || !guard_) return std::nullopt;
    uint64_t allocated = 0;
    for (const auto& b : guard_->session().memory_breakdown().buffers) {
        if (b.device == device_) allocated += b.model_bytes + b.context_bytes + b.compute_bytes;
    }
    return allocated > 0 ? std::optional<uint64_t>(allocated) : std::nullopt;
}

std::optional<uint64_t> MeasuredModel::free_drop_bytes() const {
    if (device_ == "cpu" || !free_before_) return std::nullopt;
    const auto after = device_free();
    if (!after || *free_before_ <= *after) return std::nullopt;
    return *free_before_ - *after;
}

void MeasuredModel::record(PointResult& r) const {
    const pool::SessionGuard& g = guard();
    r.device = lease_.device();
    r.n_gpu_layers = g.placement().n_gpu_layers;
    r.n_threads = g.session().n_threads();
    r.placement = g.placement().reasons;
    r.model_desc = g.model().description();
    r.model_arch = g.model().architecture();
    r.model_size = g.model().size_bytes();
    r.model_n_params = g.model().n_params();
    r.load_ns = load_ns_;
    if (cold_) {
        r.cold_cache = cold_;
        r.cold_cache_note = cold_note_;
    }
    // What the backend allocated on the device (ggml reserves weights, KV cache and compute buffers up front, so
    // this is also the peak); the drop of the device's free memory when the backend does not say.
    r.device_memory_bytes = allocated_bytes();
    if (!r.device_memory_bytes) r.device_memory_bytes = free_drop_bytes();
}

void reset_peak_rss() {
    const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (::write(fd, "5", 1) != 1) ACCEL_LOG_DEBUG("could not reset the peak RSS: {}", std::strerror(errno));
    ::close(fd);
}

uint64_t peak_rss_bytes() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

}  // namespace accel::bench
