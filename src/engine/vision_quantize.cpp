#include "vision_quantize.h"

#include <ggml-cpu.h>
#include <ggml.h>
#include <gguf.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/model/gguf_file.h"

namespace accel::engine::detail {
namespace {

struct GgufFree {
    void operator()(gguf_context* c) const { gguf_free(c); }
};
struct CtxFree {
    void operator()(ggml_context* c) const { ggml_free(c); }
};

// llama.cpp's file types for general.file_type
constexpr uint32_t ftype_q4_0 = 2, ftype_q8_0 = 7;

// A 2-D matrix weight whose rows split into blocks of 32. Embeddings the graphs add rather than multiply stay as
// they are: ViT's and CLIP's position embeddings, DETR's object queries (its graph reads them as f32 only). 4-D
// convolution kernels (ViT's patch embedding, DETR's backbone and input projection) are never 2-D.
bool quantized_matrix(const ggml_tensor* t) {
    const std::string name = ggml_get_name(t);
    return ggml_n_dims(t) == 2 && (t->type == GGML_TYPE_F32 || t->type == GGML_TYPE_F16) && t->ne[0] % 32 == 0 &&
           name.ends_with(".weight") && name.find("position_embd") == std::string::npos &&
           !name.starts_with("query_embd.");
}

ggml_type parse_type(const std::string& type) {
    return type == "Q8_0" ? GGML_TYPE_Q8_0 : type == "Q4_0" ? GGML_TYPE_Q4_0 : GGML_TYPE_COUNT;
}

// The output's size without writing it: the metadata as it stands, plus each tensor at its new type, aligned.
uint64_t estimate_bytes(const std::filesystem::path& in, ggml_type to) {
    ggml_context* meta_ctx = nullptr;
    std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(in.c_str(), {.no_alloc = true, .ctx = &meta_ctx}));
    std::unique_ptr<ggml_context, CtxFree> meta(meta_ctx);
    if (!g || !meta) return 0;
    const size_t align = gguf_get_alignment(g.get());
    uint64_t total = gguf_get_meta_size(g.get());
    for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) {
        const ggml_tensor* t = ggml_get_tensor(meta.get(), gguf_get_tensor_name(g.get(), i));
        const size_t n = quantized_matrix(t) ? ggml_row_size(to, t->ne[0]) * static_cast<size_t>(t->ne[1]) : ggml_nbytes(t);
        total += (n + align - 1) / align * align;
    }
    return total;
}

[[noreturn]] void refuse_quantized(const std::filesystem::path& in, const char* tensor, ggml_type type) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is {}: quantize an F32 or F16 file (accel convert "
                                                      "--type f32)", in.string(), tensor, ggml_type_name(type)));
}

// What quantize_vision_gguf would refuse of the input, read from the header alone, before any type starts (and
// before any progress line): not a readable GGUF, a tensor that is neither F32 nor F16.
void check_input(const std::filesystem::path& in) {
    ggml_context* meta_ctx = nullptr;
    std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(in.c_str(), {.no_alloc = true, .ctx = &meta_ctx}));
    std::unique_ptr<ggml_context, CtxFree> meta(meta_ctx);
    if (!g || !meta) throw Error(ErrorKind::invalid_input, fmt::format("{}: not a readable GGUF file", in.string()));
    for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) {
        const char* name = gguf_get_tensor_name(g.get(), i);
        const ggml_tensor* t = ggml_get_tensor(meta.get(), name);
        if (t != nullptr && t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16) refuse_quantized(in, name, t->type);
    }
}

}  // namespace

bool is_vision_architecture(const std::string& arch) {
    return arch == "vit" || arch == "clip_model" || arch == "detr" || arch == "clap" ||
           arch == "xclip";
}

bool is_vision_gguf(const std::filesystem::path& file) {
    // accel's own reader, which logs nothing: a file that is no GGUF goes on to llama.cpp's path, which says so once.
    try {
        const auto arch = model::read_gguf(file).get_string("general.architecture");
        return arch && is_vision_architecture(*arch);
    } catch (const Error&) {
        return false;
    }
}

std::vector<QuantizeOutput> quantize_vision(const QuantizeRequest& request) {
    if (!request.imatrix.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: accel's image models quantize without an imatrix",
                                                          request.input.string()));
    if (request.types.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no type to quantize to", request.input.string()));
    std::vector<QuantType> types;
    for (const auto& name : request.types) {
        const QuantType& t = parse_quant_type(name);
        if (t.name != "Q8_0" && t.name != "Q4_0")
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: accel's image, video and audio-text models (vit, clip_model, detr, clap, xclip) quantize to "
                                    "Q8_0 and Q4_0, not {}",
                                    request.input.string(), t.name));
        if (std::any_of(types.begin(), types.end(), [&](const QuantType& o) { return o.name == t.name; }))
            throw Error(ErrorKind::invalid_input, fmt::format("type {} is given twice", t.name));
        types.push_back(t);
    }
    check_input(request.input);
    std::vector<QuantizeOutput> outputs;
    const auto n_types = static_cast<int32_t>(types.size());
    for (int32_t i = 0; i < n_types; ++i) {
        const QuantType& t = types[static_cast<size_t>(i)];
        const auto path = quantized_path(request.input, request.out_dir, t);
        if (std::filesystem::equivalent(path.parent_path().empty() ? "." : path.parent_path(),
                                        request.input.parent_path().empty() ? "." : request.input.parent_path()) &&
            path.filename() == request.input.filename())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: the output would overwrite the input", path.string()));
        QuantizeProgress progress{.type_index = i, .n_types = n_types, .type = t.name};
        if (request.on_progress) request.on_progress(progress);
        const auto t0 = std::chrono::steady_clock::now();
        const uint64_t bytes = quantize_vision_gguf(request.input, path, t.name, request.n_threads);
        const auto t1 = std::chrono::steady_clock::now();
        progress.done = true;
        if (request.on_progress) request.on_progress(progress);
        outputs.push_back({.type = t, .path = path, .file_bytes = bytes,
                           .estimated_bytes = estimate_bytes(request.input, parse_type(t.name)),
                           .elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)});
    }
    return outputs;
}

uint64_t quantize_vision_gguf(const std::filesystem::path& in, const std::filesystem::path& out,
                              const std::string& type, int32_t n_threads, const std::string& general_name) {
    const ggml_type to = parse_type(type);
    if (to == GGML_TYPE_COUNT && !type.empty())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: accel's image models quantize to Q8_0 and Q4_0, not {}",
                                                          in.string(), type));
    ggml_context* data_ctx = nullptr;
    std::unique_ptr<gguf_context, GgufFree> src(gguf_init_from_file(in.c_str(), {.no_alloc = false, .ctx = &data_ctx}));
    std::unique_ptr<ggml_context, CtxFree> data(data_ctx);
    if (!src || !data) throw Error(ErrorKind::invalid_input, fmt::format("{}: not a readable GGUF file", in.string()));
    const int64_t ka = gguf_find_key(src.get(), "general.architecture");
    const std::string arch = ka >= 0 && gguf_get_kv_type(src.get(), ka) == GGUF_TYPE_STRING
                                 ? gguf_get_val_str(src.get(), ka) : "";
    if (!is_vision_architecture(arch))
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: a '{}' model, not vit, clip_model, detr, clap or xclip", in.string(), arch));

    const int64_t n_tensors = gguf_get_n_tensors(src.get());
    const size_t overhead = ggml_tensor_overhead() * static_cast<size_t>(n_tensors + 1);
    std::unique_ptr<ggml_context, CtxFree> meta(ggml_init({.mem_size = overhead, .mem_buffer = nullptr, .no_alloc = true}));
    std::unique_ptr<gguf_context, GgufFree> dst(gguf_init_empty());
    gguf_set_kv(dst.get(), src.get());
    if (!type.empty()) gguf_set_val_u32(dst.get(), "general.file_type", to == GGML_TYPE_Q8_0 ? ftype_q8_0 : ftype_q4_0);
    if (!general_name.empty()) gguf_set_val_str(dst.get(), "general.name", general_name.c_str());
    std::vector<std::vector<uint8_t>> bytes(static_cast<size_t>(n_tensors));
    const int32_t threads = n_threads > 0 ? n_threads : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    for (int64_t i = 0; i < n_tensors; ++i) {
        const char* name = gguf_get_tensor_name(src.get(), i);
        const ggml_tensor* t = ggml_get_tensor(data.get(), name);
        if (t == nullptr) throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is unreadable", in.string(), i));
        if (t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16) refuse_quantized(in, name, t->type);
        const bool q = to != GGML_TYPE_COUNT && quantized_matrix(t);
        ggml_tensor* o = ggml_new_tensor(meta.get(), q ? to : t->type, ggml_n_dims(t), t->ne);
        ggml_set_name(o, name);
        auto& b = bytes[static_cast<size_t>(i)];
        if (!q) {
            b.assign(static_cast<const uint8_t*>(t->data), static_cast<const uint8_t*>(t->data) + ggml_nbytes(t));
        } else {
            const int64_t n = ggml_nelements(t), n_rows = t->ne[1], row = t->ne[0];
            std::vector<float> f(static_cast<size_t>(n));
            if (t->type == GGML_TYPE_F32) {
                std::copy_n(static_cast<const float*>(t->data), n, f.begin());
            } else {
                ggml_fp16_to_fp32_row(static_cast<const ggml_fp16_t*>(t->data), f.data(), n);
            }
            b.resize(ggml_row_size(to, row) * static_cast<size_t>(n_rows));
            // rows split across threads; each chunk writes its own rows
            ggml_quantize_init(to);
            std::vector<std::thread> pool;
            const int64_t per = (n_rows + threads - 1) / threads;
            for (int64_t r0 = 0; r0 < n_rows; r0 += per) {
                const int64_t nr = std::min(per, n_rows - r0);
                pool.emplace_back([&, r0, nr] {
                    ggml_quantize_chunk(to, f.data(), b.data(), r0 * row, nr, row, nullptr);
                });
            }
            for (auto& th : pool) th.join();
        }
        gguf_add_tensor(dst.get(), o);
        gguf_set_tensor_data(dst.get(), name, b.data());
    }
    PartialFile tmp(out);
    if (!gguf_write_to_file(dst.get(), tmp.path().c_str(), false))
        throw Error(ErrorKind::io, fmt::format("{}: cannot write (disk full?)", tmp.path().string()));
    tmp.commit();
    std::error_code ec;
    return std::filesystem::file_size(out, ec);
}

}  // namespace accel::engine::detail
