#include "accel/engine/imatrix.h"

#include <ggml-backend.h>
#include <gguf.h>
#include <llama.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/engine/backend.h"
#include "accel/engine/session.h"
#include "model_io.h"

namespace accel::engine {
namespace {


struct GgmlFree {
    void operator()(ggml_context* c) const { ggml_free(c); }
};

// Receives llama.cpp's eval callback. Runs on the thread that computes the graph, one node at a time.
struct Collector {
    std::mutex mutex;
    std::map<std::string, ImatrixEntry> entries;
    std::vector<uint8_t> staging;  // src1 copied off a device
    std::string error;

    // The weight a graph node multiplies by: llama.cpp names views "name (view)" and some copies "a#name#b".
    static std::string weight_name(const char* name) {
        std::string_view n(name);
        if (const auto p = n.find('#'); p != std::string_view::npos) {
            n.remove_prefix(p + 1);
            if (const auto q = n.find('#'); q != std::string_view::npos) n = n.substr(0, q);
        }
        return std::string(n);
    }

    bool wants(const ggml_tensor* t) const {
        if (t->op != GGML_OP_MUL_MAT) return false;
        const ggml_tensor* src0 = t->src[0];
        const ggml_tensor* src1 = t->src[1];
        // Rows under 16 are decode-sized batches; llama.cpp's imatrix tool leaves them out too.
        if (src0 == nullptr || src1 == nullptr || src1->ne[1] < 16 || src1->type != GGML_TYPE_F32) return false;
        return weight_name(src0->name).rfind("blk.", 0) == 0;
    }

    void collect(const ggml_tensor* t) {
        const ggml_tensor* src0 = t->src[0];
        const ggml_tensor* src1 = t->src[1];
        std::lock_guard lock(mutex);
        const char* data = static_cast<const char*>(src1->data);
        if (src1->buffer != nullptr && !ggml_backend_buffer_is_host(src1->buffer)) {
            staging.resize(ggml_nbytes(src1));
            ggml_backend_tensor_get(src1, staging.data(), 0, staging.size());
            data = reinterpret_cast<const char*>(staging.data());
        }
        const std::string name = weight_name(src0->name);
        auto& e = entries[name];
        const int64_t n_mat = src0->ne[2] * src0->ne[3];
        const int64_t ne0 = src1->ne[0];
        const auto n_vals = static_cast<size_t>(ne0 * n_mat);
        if (e.sums.empty()) {
            e.sums.assign(n_vals, 0.0f);
            e.counts.assign(1, 0);
        } else if (e.sums.size() != n_vals) {
            error = "inconsistent activation size for " + name;
            return;
        }
        for (int64_t i3 = 0; i3 < src1->ne[3]; ++i3) {
            for (int64_t i2 = 0; i2 < src1->ne[2]; ++i2) {
                // 3D activations against a 2D weight fold onto matrix 0; batched weights keep one block each.
                const int64_t mat = (i3 % src0->ne[3]) * src0->ne[2] + (i2 % src0->ne[2]);
                float* acc = e.sums.data() + mat * ne0;
                for (int64_t row = 0; row < src1->ne[1]; ++row) {
                    const auto* x = reinterpret_cast<const float*>(
                        data + static_cast<size_t>(row) * src1->nb[1] + static_cast<size_t>(i2) * src1->nb[2] +
                        static_cast<size_t>(i3) * src1->nb[3]);
                    for (int64_t j = 0; j < ne0; ++j) acc[j] += x[j] * x[j];
                }
            }
        }
        e.counts[0] += ggml_nrows(src1) / n_mat;
        for (float v : e.sums) {
            if (!std::isfinite(v)) {
                error = "non-finite activations reached " + name;
                return;
            }
        }
    }

    static bool callback(ggml_tensor* t, bool ask, void* user) {
        auto* self = static_cast<Collector*>(user);
        if (ask) return self->wants(t);
        if (self->wants(t)) self->collect(t);
        return true;
    }
};

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Imatrix load_legacy(const std::filesystem::path& path) {
    const std::string bad = "not an imatrix file (neither GGUF nor llama.cpp's legacy .dat): " + path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::invalid_input, "cannot read imatrix file " + path.string());
    int32_t n_entries = 0;
    in.read(reinterpret_cast<char*>(&n_entries), sizeof(n_entries));
    if (!in || n_entries < 1 || n_entries > 1'000'000) throw Error(ErrorKind::invalid_input, bad);
    Imatrix m;
    for (int32_t i = 0; i < n_entries; ++i) {
        int32_t len = 0;
        in.read(reinterpret_cast<char*>(&len), sizeof(len));
        if (!in || len < 1 || len > 4096) throw Error(ErrorKind::invalid_input, bad);
        std::string name(static_cast<size_t>(len), '\0');
        in.read(name.data(), len);
        int32_t ncall = 0;
        int32_t nval = 0;
        in.read(reinterpret_cast<char*>(&ncall), sizeof(ncall));
        in.read(reinterpret_cast<char*>(&nval), sizeof(nval));
        if (!in || nval < 1 || nval > (1 << 28)) throw Error(ErrorKind::invalid_input, bad);
        ImatrixEntry e;
        e.sums.resize(static_cast<size_t>(nval));
        in.read(reinterpret_cast<char*>(e.sums.data()), static_cast<std::streamsize>(e.sums.size() * sizeof(float)));
        if (!in) throw Error(ErrorKind::invalid_input, bad);
        // Legacy sums are already scaled by ncall; an ncall of 0 means the values are the weights themselves.
        e.counts.assign(1, ncall > 0 ? ncall : 1);
        m.entries[name] = std::move(e);
    }
    int32_t n_chunks = 0;
    if (in.read(reinterpret_cast<char*>(&n_chunks), sizeof(n_chunks))) {
        m.chunk_count = n_chunks;
        int32_t len = 0;
        if (in.read(reinterpret_cast<char*>(&len), sizeof(len)) && len > 0 && len < 4096) {
            std::string dataset(static_cast<size_t>(len), '\0');
            if (in.read(dataset.data(), len)) m.datasets.push_back(dataset);
        }
    }
    return m;
}

}  // namespace

Imatrix compute_imatrix(const LoadedModel& model, std::string_view text, const ImatrixParams& params) {
    init_backend();
    if (params.n_ctx < 16) {
        throw Error(ErrorKind::invalid_input, "context of " + std::to_string(params.n_ctx) +
                                                  " tokens is too small for an importance matrix (need at least 16)");
    }
    std::vector<int32_t> tokens = tokenize(model, text, true);
    const auto n_chunk_max = static_cast<int32_t>(tokens.size() / params.n_ctx);
    if (n_chunk_max == 0) {
        throw Error(ErrorKind::invalid_input, "the text has " + std::to_string(tokens.size()) + " tokens for " +
                                                  model.path().string() + ", fewer than one chunk of " +
                                                  std::to_string(params.n_ctx) + " (give a longer text or a smaller -c)");
    }
    const int32_t n_chunk = params.max_chunks > 0 ? std::min(params.max_chunks, n_chunk_max) : n_chunk_max;

    Collector collector;
    llama_context_params cp = llama_context_default_params();
    const int32_t n_threads = params.n_threads > 0
                                  ? params.n_threads
                                  : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    cp.n_ctx = params.n_ctx;
    cp.n_batch = params.n_ctx;
    cp.n_ubatch = std::min<uint32_t>(512, params.n_ctx);
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.no_perf = true;
    cp.cb_eval = &Collector::callback;
    cp.cb_eval_user_data = &collector;
    clear_backend_message();
    detail::ContextPtr ctx(llama_init_from_model(model.get(), cp));
    if (!ctx) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::out_of_memory, "cannot create a context of " + std::to_string(params.n_ctx) +
                                                  " tokens for " + model.path().string() +
                                                  (why.empty() ? "" : ": " + why));
    }
    const detail::BatchPtr batch = detail::make_batch(static_cast<int32_t>(params.n_ctx));
    const auto n_ctx = static_cast<int32_t>(params.n_ctx);
    for (int32_t c = 0; c < n_chunk; ++c) {
        llama_memory_clear(llama_get_memory(ctx.get()), true);
        batch->n_tokens = n_ctx;
        for (int32_t k = 0; k < n_ctx; ++k) {
            int32_t token = tokens[static_cast<size_t>(c * n_ctx + k)];
            if (k == 0 && model.adds_bos()) token = model.bos();
            batch->token[k] = token;
            batch->pos[k] = k;
            batch->n_seq_id[k] = 1;
            batch->seq_id[k][0] = 0;
            // Every position is an output: llama.cpp drops non-output rows before the last layer's FFN, which
            // would then see too few rows to be collected.
            batch->logits[k] = 1;
        }
        clear_backend_message();
        if (llama_decode(ctx.get(), *batch) != 0) {
            const std::string why = last_backend_message();
            throw Error(ErrorKind::backend, "llama_decode failed on chunk " + std::to_string(c + 1) + " of " +
                                                model.path().string() + (why.empty() ? "" : ": " + why));
        }
        llama_synchronize(ctx.get());
        if (!collector.error.empty()) {
            throw Error(ErrorKind::backend, "importance matrix of " + model.path().string() + ": " + collector.error);
        }
        if (params.on_chunk) params.on_chunk(c + 1, n_chunk);
    }
    if (collector.entries.empty()) {
        throw Error(ErrorKind::backend, "no matrix multiplication of " + model.path().string() +
                                            " reached the importance-matrix collector");
    }
    Imatrix m;
    m.entries = std::move(collector.entries);
    if (!params.dataset.empty()) m.datasets.push_back(params.dataset);
    m.chunk_count = n_chunk;
    m.chunk_size = n_ctx;
    return m;
}

void save_imatrix(const Imatrix& imatrix, const std::filesystem::path& path) {
    if (imatrix.entries.empty()) throw Error(ErrorKind::invalid_input, "empty importance matrix: nothing to write");
    size_t data_size = 0;
    for (const auto& [name, e] : imatrix.entries) {
        data_size += GGML_PAD(ggml_tensor_overhead() + sizeof(float) * e.sums.size(), GGML_MEM_ALIGN);
        data_size += GGML_PAD(ggml_tensor_overhead() + sizeof(float) * e.counts.size(), GGML_MEM_ALIGN);
    }
    ggml_init_params ip{.mem_size = data_size, .mem_buffer = nullptr, .no_alloc = false};
    std::unique_ptr<ggml_context, GgmlFree> ctx(ggml_init(ip));
    if (!ctx) throw Error(ErrorKind::out_of_memory, "cannot allocate the importance matrix for " + path.string());
    detail::GgufPtr gguf(gguf_init_empty());
    gguf_set_val_str(gguf.get(), "general.type", "imatrix");
    std::vector<const char*> datasets;
    for (const auto& d : imatrix.datasets) datasets.push_back(d.c_str());
    gguf_set_arr_str(gguf.get(), "imatrix.datasets", datasets.data(), datasets.size());
    gguf_set_val_u32(gguf.get(), "imatrix.chunk_count", static_cast<uint32_t>(imatrix.chunk_count));
    gguf_set_val_u32(gguf.get(), "imatrix.chunk_size", static_cast<uint32_t>(imatrix.chunk_size));
    for (const auto& [name, e] : imatrix.entries) {
        const auto n_mat = static_cast<int64_t>(e.counts.size());
        if (n_mat == 0 || e.sums.size() % static_cast<size_t>(n_mat) != 0) {
            throw Error(ErrorKind::internal, "importance matrix entry " + name + " has inconsistent sizes");
        }
        ggml_tensor* sums = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, static_cast<int64_t>(e.sums.size()) / n_mat,
                                               n_mat);
        ggml_tensor* counts = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, 1, n_mat);
        ggml_format_name(sums, "%s.in_sum2", name.c_str());
        ggml_format_name(counts, "%s.counts", name.c_str());
        std::memcpy(sums->data, e.sums.data(), e.sums.size() * sizeof(float));
        for (size_t j = 0; j < e.counts.size(); ++j) static_cast<float*>(counts->data)[j] = static_cast<float>(e.counts[j]);
        gguf_add_tensor(gguf.get(), sums);
        gguf_add_tensor(gguf.get(), counts);
    }
    PartialFile tmp(path);
    if (!gguf_write_to_file(gguf.get(), tmp.path().c_str(), false)) {
        throw Error(ErrorKind::io, "cannot write importance matrix " + path.string() + ": " + std::strerror(errno));
    }
    tmp.commit();
}

Imatrix load_imatrix(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::invalid_input, "imatrix file not found: " + path.string());
    }
    {
        std::ifstream in(path, std::ios::binary);
        char magic[4] = {};
        in.read(magic, sizeof(magic));
        if (!in || std::memcmp(magic, "GGUF", 4) != 0) return load_legacy(path);
    }
    ggml_context* raw_ctx = nullptr;
    gguf_init_params gp{.no_alloc = false, .ctx = &raw_ctx};
    detail::GgufPtr gguf(gguf_init_from_file(path.c_str(), gp));
    std::unique_ptr<ggml_context, GgmlFree> ctx(raw_ctx);
    if (!gguf) throw Error(ErrorKind::invalid_input, "cannot read GGUF imatrix file " + path.string());
    Imatrix m;
    if (const int64_t k = gguf_find_key(gguf.get(), "imatrix.datasets");
        k >= 0 && gguf_get_kv_type(gguf.get(), k) == GGUF_TYPE_ARRAY &&
        gguf_get_arr_type(gguf.get(), k) == GGUF_TYPE_STRING) {
        for (size_t i = 0; i < gguf_get_arr_n(gguf.get(), k); ++i) m.datasets.emplace_back(gguf_get_arr_str(gguf.get(), k, i));
    }
    const int64_t k_count = gguf_find_key(gguf.get(), "imatrix.chunk_count");
    const int64_t k_size = gguf_find_key(gguf.get(), "imatrix.chunk_size");
    if (k_count < 0 || k_size < 0) {
        throw Error(ErrorKind::invalid_input, "GGUF file has no imatrix metadata (imatrix.chunk_count): " + path.string());
    }
    m.chunk_count = static_cast<int32_t>(gguf_get_val_u32(gguf.get(), k_count));
    m.chunk_size = static_cast<int32_t>(gguf_get_val_u32(gguf.get(), k_size));
    std::map<std::string, std::pair<const ggml_tensor*, const ggml_tensor*>> parts;
    for (ggml_tensor* t = ggml_get_first_tensor(ctx.get()); t != nullptr; t = ggml_get_next_tensor(ctx.get(), t)) {
        const std::string_view n(t->name);
        if (ends_with(n, ".in_sum2")) parts[std::string(n.substr(0, n.size() - 8))].first = t;
        if (ends_with(n, ".counts")) parts[std::string(n.substr(0, n.size() - 7))].second = t;
    }
    for (const auto& [name, p] : parts) {
        if (p.first == nullptr || p.second == nullptr || p.first->type != GGML_TYPE_F32 ||
            p.second->type != GGML_TYPE_F32) {
            throw Error(ErrorKind::invalid_input, "imatrix entry " + name + " lacks F32 sums or counts in " + path.string());
        }
        ImatrixEntry e;
        const auto* sums = static_cast<const float*>(p.first->data);
        const auto* counts = static_cast<const float*>(p.second->data);
        e.sums.assign(sums, sums + ggml_nelements(p.first));
        for (int64_t j = 0; j < ggml_nelements(p.second); ++j) e.counts.push_back(std::lround(counts[j]));
        if (e.counts.empty() || e.sums.size() % e.counts.size() != 0) {
            throw Error(ErrorKind::invalid_input, "imatrix entry " + name + " has inconsistent sizes in " + path.string());
        }
        m.entries[name] = std::move(e);
    }
    if (m.entries.empty()) throw Error(ErrorKind::invalid_input, "imatrix file has no entries: " + path.string());
    return m;
}

std::map<std::string, std::vector<float>> imatrix_weights(const Imatrix& imatrix) {
    std::map<std::string, std::vector<float>> out;
    for (const auto& [name, e] : imatrix.entries) {
        std::vector<float> w(e.sums.size());
        const size_t n_mat = e.counts.size();
        const size_t ne0 = n_mat == 0 ? 0 : e.sums.size() / n_mat;
        for (size_t j = 0; j < n_mat; ++j) {
            const auto count = static_cast<float>(e.counts[j]);
            for (size_t i = 0; i < ne0; ++i) w[j * ne0 + i] = count > 0 ? e.sums[j * ne0 + i] / count : 1.0f;
        }
        out[name] = std::move(w);
    }
    return out;
}

}  // namespace accel::engine
