#include "ggml_runtime.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "../model_io.h"
#include "accel/core/error.h"
#include "accel/engine/backend.h"

namespace accel::engine::graphs {
namespace {

constexpr size_t graph_size = 4096;

struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

GgufWeights::GgufWeights(const std::filesystem::path& file, ggml_backend_dev_t dev,
                         const std::function<void(const GgufWeights&)>& check_metadata)
    : file_(file) {
    ggml_context* meta = nullptr;
    gguf_init_params params{.no_alloc = true, .ctx = &meta};
    gguf_.reset(gguf_init_from_file(file.c_str(), params));
    meta_.reset(meta);
    if (!gguf_ || !meta_)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: not a readable GGUF file", file.string()));
    check_metadata(*this);
    buffer_.reset(ggml_backend_alloc_ctx_tensors_from_buft(meta_.get(), ggml_backend_dev_buffer_type(dev)));
    if (!buffer_)
        throw Error(ErrorKind::out_of_memory, fmt::format("{}: cannot allocate the weights on {}", file.string(),
                                                          ggml_backend_dev_name(dev)));
    ggml_backend_buffer_set_usage(buffer_.get(), GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
    std::unique_ptr<std::FILE, FileClose> f(std::fopen(file.c_str(), "rb"));
    if (!f) throw Error(ErrorKind::io, fmt::format("{}: cannot open", file.string()));
    const size_t data = gguf_get_data_offset(gguf_.get());
    std::vector<uint8_t> bytes;
    for (int64_t i = 0; i < gguf_get_n_tensors(gguf_.get()); ++i) {
        ggml_tensor* t = ggml_get_tensor(meta_.get(), gguf_get_tensor_name(gguf_.get(), i));
        if (t == nullptr) throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is unreadable", file.string(), i));
        bytes.resize(ggml_nbytes(t));
        const size_t at = data + gguf_get_tensor_offset(gguf_.get(), i);
        if (std::fseek(f.get(), static_cast<long>(at), SEEK_SET) != 0 ||
            std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is truncated", file.string(), ggml_get_name(t)));
        ggml_backend_tensor_set(t, bytes.data(), 0, bytes.size());
    }
}

std::string GgufWeights::architecture() const {
    const int64_t k = gguf_find_key(gguf_.get(), "general.architecture");
    if (k < 0 || gguf_get_kv_type(gguf_.get(), k) != GGUF_TYPE_STRING) return "";
    return gguf_get_val_str(gguf_.get(), k);
}

int64_t GgufWeights::key(const std::string& k, gguf_type type) const {
    const int64_t id = gguf_find_key(gguf_.get(), k.c_str());
    if (id < 0) throw Error(ErrorKind::invalid_input, fmt::format("{}: no metadata key {}", file_.string(), k));
    if (gguf_get_kv_type(gguf_.get(), id) != type)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: metadata key {} has another type", file_.string(), k));
    return id;
}

bool GgufWeights::has(const std::string& k) const { return gguf_find_key(gguf_.get(), k.c_str()) >= 0; }

uint32_t GgufWeights::get_u32(const std::string& k) const { return gguf_get_val_u32(gguf_.get(), key(k, GGUF_TYPE_UINT32)); }

float GgufWeights::get_f32(const std::string& k) const { return gguf_get_val_f32(gguf_.get(), key(k, GGUF_TYPE_FLOAT32)); }

bool GgufWeights::get_bool(const std::string& k) const { return gguf_get_val_bool(gguf_.get(), key(k, GGUF_TYPE_BOOL)); }

std::vector<int32_t> GgufWeights::get_i32s(const std::string& k) const {
    const int64_t id = key(k, GGUF_TYPE_ARRAY);
    if (gguf_get_arr_type(gguf_.get(), id) != GGUF_TYPE_INT32)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is not a list of i32", file_.string(), k));
    const auto* data = static_cast<const int32_t*>(gguf_get_arr_data(gguf_.get(), id));
    return {data, data + gguf_get_arr_n(gguf_.get(), id)};
}

std::vector<float> GgufWeights::get_f32s(const std::string& k) const {
    const int64_t id = key(k, GGUF_TYPE_ARRAY);
    if (gguf_get_arr_type(gguf_.get(), id) != GGUF_TYPE_FLOAT32)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is not a list of f32", file_.string(), k));
    const auto* data = static_cast<const float*>(gguf_get_arr_data(gguf_.get(), id));
    return {data, data + gguf_get_arr_n(gguf_.get(), id)};
}

bool GgufWeights::has_tensor(const std::string& name) const { return ggml_get_tensor(meta_.get(), name.c_str()) != nullptr; }

int64_t GgufWeights::tensor_ne0(const std::string& name) const {
    const ggml_tensor* t = ggml_get_tensor(meta_.get(), name.c_str());
    return t == nullptr ? 0 : t->ne[0];
}

std::vector<std::string> GgufWeights::get_strings(const std::string& k) const {
    const int64_t id = key(k, GGUF_TYPE_ARRAY);
    if (gguf_get_arr_type(gguf_.get(), id) != GGUF_TYPE_STRING)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is not a list of strings", file_.string(), k));
    std::vector<std::string> out;
    for (size_t i = 0; i < gguf_get_arr_n(gguf_.get(), id); ++i) out.emplace_back(gguf_get_arr_str(gguf_.get(), id, i));
    return out;
}

std::optional<std::string> GgufWeights::find_string(const std::string& k) const {
    if (gguf_find_key(gguf_.get(), k.c_str()) < 0) return std::nullopt;
    return std::string(gguf_get_val_str(gguf_.get(), key(k, GGUF_TYPE_STRING)));
}

uint64_t GgufWeights::buffer_bytes() const { return ggml_backend_buffer_get_size(buffer_.get()); }

uint64_t GraphRunner::compute_buffer_bytes() const {
    uint64_t n = 0;
    for (const auto& b : backends_) n += ggml_backend_sched_get_buffer_size(sched_.get(), b.get());
    return n;
}

ggml_tensor* GgufWeights::tensor(const std::string& name, std::vector<int64_t> ne, bool f32_only) const {
    ggml_tensor* t = ggml_get_tensor(meta_.get(), name.c_str());
    if (t == nullptr) throw Error(ErrorKind::invalid_input, fmt::format("{}: no tensor {}", file_.string(), name));
    if ((f32_only || ne.size() == 1) && t->type != GGML_TYPE_F32)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is {}, accel reads it as f32", file_.string(),
                                                          name, ggml_type_name(t->type)));
    ne.resize(GGML_MAX_DIMS, 1);
    for (int d = 0; d < GGML_MAX_DIMS; ++d)
        if (t->ne[d] != ne[static_cast<size_t>(d)])
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: tensor {} has shape [{}, {}, {}, {}], the metadata implies [{}]", file_.string(),
                                    name, t->ne[0], t->ne[1], t->ne[2], t->ne[3], fmt::join(ne, ", ")));
    return t;
}

GraphRunner::GraphRunner(const std::string& device, int32_t n_threads) {
    init_backend();
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (cpu == nullptr) throw Error(ErrorKind::backend, "ggml has no CPU backend");
    dev_ = device.empty() || device == "cpu" ? cpu : detail::find_device(device);
    if (dev_ != cpu) backends_.emplace_back(ggml_backend_dev_init(dev_, nullptr));
    backends_.emplace_back(ggml_backend_dev_init(cpu, nullptr));
    for (const auto& b : backends_)
        if (!b) throw Error(ErrorKind::backend, fmt::format("cannot start the {} backend", ggml_backend_dev_name(dev_)));
    const int32_t threads = n_threads > 0 ? n_threads : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    auto set_threads = reinterpret_cast<ggml_backend_set_n_threads_t>(
        ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(cpu), "ggml_backend_set_n_threads"));
    if (set_threads != nullptr) set_threads(backends_.back().get(), threads);
    std::vector<ggml_backend_t> raw;
    for (const auto& b : backends_) raw.push_back(b.get());
    sched_.reset(ggml_backend_sched_new(raw.data(), nullptr, static_cast<int>(raw.size()), graph_size, false, true));
    if (!sched_) throw Error(ErrorKind::backend, "cannot create the ggml scheduler");
}

void GraphRunner::run(const std::function<void(ggml_context*, ggml_cgraph*)>& build,
                      const std::function<void()>& set_inputs, const std::function<void()>& read) {
    ggml_init_params params{.mem_size = ggml_tensor_overhead() * graph_size + ggml_graph_overhead_custom(graph_size, false),
                            .mem_buffer = nullptr, .no_alloc = true};
    ggml_context_ptr ctx(ggml_init(params));
    if (!ctx) throw Error(ErrorKind::out_of_memory, "cannot create a ggml context for the graph");
    ggml_cgraph* graph = ggml_new_graph_custom(ctx.get(), graph_size, false);
    build(ctx.get(), graph);
    ggml_backend_sched_reset(sched_.get());
    clear_backend_message();
    if (!ggml_backend_sched_alloc_graph(sched_.get(), graph))
        throw Error(ErrorKind::out_of_memory, fmt::format("cannot allocate the graph's buffers on {} ({})",
                                                          ggml_backend_dev_name(dev_), last_backend_message()));
    set_inputs();
    const ggml_status status = ggml_backend_sched_graph_compute(sched_.get(), graph);
    if (status != GGML_STATUS_SUCCESS)
        throw Error(ErrorKind::backend, fmt::format("the graph failed on {} (ggml status {}: {})",
                                                    ggml_backend_dev_name(dev_), static_cast<int>(status),
                                                    last_backend_message()));
    read();
}

}  // namespace accel::engine::graphs
