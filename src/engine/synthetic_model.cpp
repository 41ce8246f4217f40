// Synthetic models through llama.cpp's own model builder (llama_model_init_from_user) and saver.
// This is the only file in accel that uses llama.cpp's internal headers (llama-arch.h, llama-model-saver.h),
// because the public API has no names for the hyperparameter keys and no way to ask which architectures the
// saver supports. llama.cpp's tests/test-llama-archs.cpp does the same.
#include "accel/engine/synthetic_model.h"

#include <gguf.h>
#include <llama.h>
#include <llama-arch.h>
#include <llama-model-saver.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <system_error>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/core/sha256.h"
#include "accel/engine/backend.h"
#include "deterministic_rng.h"
#include "model_io.h"
#include "synthetic_detr.h"
#include "synthetic_clap.h"
#include "synthetic_wav2vec2.h"
#include "synthetic_vision.h"

namespace accel::engine {
namespace {

struct Recipe {
    const char* arch;
    const char* vocab;  // ggml-vocab-<vocab>.gguf
    bool encoder;       // bidirectional, pooled embeddings
    uint32_t kv_group;  // query heads per KV head (grouped-query attention)
};

// Architectures whose hyperparameters below are enough for llama.cpp to build them. More can be added as long
// as llama_model_saver_supports_arch() accepts them and a test covers the round trip.
constexpr Recipe k_recipes[] = {
    {"bert", "bert-bge", true, 1},     {"gpt2", "gpt-2", false, 1},      {"llama", "llama-spm", false, 1},
    {"phi3", "phi-3", false, 1},       {"qwen2", "qwen2", false, 2},     {"qwen3", "qwen2", false, 2},
    {"starcoder2", "gpt-2", false, 2},
};

const Recipe* find_recipe(const std::string& arch) {
    for (const auto& r : k_recipes) {
        if (arch == r.arch) return &r;
    }
    return nullptr;
}

using detail::GgufPtr;
using detail::ModelPtr;

using detail::fnv1a;
using detail::Rng;

struct FillParams {
    uint64_t seed;
    uint64_t n_elements = 0;   // the exact parameter count, summed as tensors are filled
    std::set<std::string> seen;  // llama.cpp hands shared tensors (rope_freqs) once per layer: count them once
    const ggml_tensor* token_embd = nullptr;
    bool saw_non_f32 = false;  // set instead of throwing: this runs inside llama.cpp
};

// Weight matrices get N(0, 0.02); norm weights 1 and biases 0, as a freshly initialised network would have.
void fill_tensor(ggml_tensor* t, void* user) {
    auto* p = static_cast<FillParams*>(user);
    if (t->type != GGML_TYPE_F32) {
        p->saw_non_f32 = true;
        return;
    }
    const auto n = static_cast<size_t>(ggml_nelements(t));
    if (p->seen.insert(t->name).second) p->n_elements += n;
    if (std::strcmp(t->name, "token_embd.weight") == 0) p->token_embd = t;
    std::vector<float> data(n);
    const bool is_norm = std::strstr(t->name, "norm") != nullptr;
    const bool is_bias = std::strstr(t->name, ".bias") != nullptr;
    if (is_norm && !is_bias) {
        std::fill(data.begin(), data.end(), 1.0f);
    } else if (!is_bias) {
        Rng rng{p->seed ^ fnv1a(t->name)};
        for (size_t i = 0; i + 1 < n; i += 2) {
            const double r = std::sqrt(-2.0 * std::log(rng.uniform()));
            const double a = 2.0 * M_PI * rng.uniform();
            data[i] = static_cast<float>(0.02 * r * std::cos(a));
            data[i + 1] = static_cast<float>(0.02 * r * std::sin(a));
        }
        if (n % 2 == 1) data[n - 1] = static_cast<float>(0.02 * (rng.uniform() - 0.5));
    }
    ggml_backend_tensor_set(t, data.data(), 0, ggml_nbytes(t));
}

std::string fmt_count(uint64_t n) {
    char buf[32];
    if (n >= 1'000'000'000ULL) {
        std::snprintf(buf, sizeof buf, "%.2fB", static_cast<double>(n) / 1e9);
    } else if (n >= 1'000'000ULL) {
        std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.1fK", static_cast<double>(n) / 1e3);
    }
    return buf;
}

uint32_t round_up(uint32_t v, uint32_t m) { return (v + m - 1) / m * m; }

SyntheticShape shape_for(const Recipe& r, uint32_t n_vocab, uint32_t n_embd, uint32_t n_layer) {
    SyntheticShape s;
    s.n_vocab = n_vocab;
    s.n_embd = n_embd;
    s.n_layer = n_layer;
    s.n_head = std::max<uint32_t>(1, n_embd / 64);
    s.n_head_kv = (s.n_head % r.kv_group == 0) ? s.n_head / r.kv_group : s.n_head;
    // Gated FFNs use about 8/3 of the width, plain ones 4x; multiples of 256 keep every quant type possible.
    const bool gated = !r.encoder && std::strcmp(r.arch, "gpt2") != 0 && std::strcmp(r.arch, "starcoder2") != 0;
    s.n_ff = gated ? round_up(n_embd * 8 / 3, 256) : round_up(n_embd * 4, 256);
    s.n_ctx_train = r.encoder ? 512 : 4096;
    return s;
}

// Writes the hyperparameters of shape into meta (which already holds the tokenizer).
void set_hparams(gguf_context* meta, const Recipe& r, const SyntheticShape& s, const std::string& name) {
    const llm_arch arch = llm_arch_from_string(r.arch);
    llama_model_saver ms(arch, meta);
    ms.add_kv(LLM_KV_GENERAL_ARCHITECTURE, r.arch);
    ms.add_kv(LLM_KV_GENERAL_NAME, name.c_str());
    ms.add_kv(LLM_KV_VOCAB_SIZE, s.n_vocab);
    ms.add_kv(LLM_KV_CONTEXT_LENGTH, s.n_ctx_train);
    ms.add_kv(LLM_KV_EMBEDDING_LENGTH, s.n_embd);
    ms.add_kv(LLM_KV_BLOCK_COUNT, s.n_layer);
    ms.add_kv(LLM_KV_FEED_FORWARD_LENGTH, s.n_ff);
    ms.add_kv(LLM_KV_ATTENTION_HEAD_COUNT, s.n_head);
    ms.add_kv(LLM_KV_ATTENTION_HEAD_COUNT_KV, s.n_head_kv);
    ms.add_kv(LLM_KV_ATTENTION_LAYERNORM_EPS, 1e-5f);
    ms.add_kv(LLM_KV_ATTENTION_LAYERNORM_RMS_EPS, 1e-5f);
    ms.add_kv(LLM_KV_ROPE_FREQ_BASE, 10000.0f);
    ms.add_kv(LLM_KV_ROPE_DIMENSION_COUNT, s.n_embd / s.n_head);
    if (r.encoder) {
        ms.add_kv(LLM_KV_ATTENTION_CAUSAL, false);
        ms.add_kv(LLM_KV_POOLING_TYPE, static_cast<uint32_t>(LLAMA_POOLING_TYPE_MEAN));
    }
}

llama_model_params builder_params() {
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    static ggml_backend_dev_t cpu_only[2] = {nullptr, nullptr};
    cpu_only[0] = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    mp.devices = cpu_only;
    return mp;
}

ModelPtr build(gguf_context* meta, FillParams* fill) {
    clear_backend_message();
    llama_model_params mp = builder_params();
    ModelPtr m(llama_model_init_from_user(meta, fill_tensor, fill, mp));
    if (!m) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::internal, "llama.cpp could not build the synthetic model" + (why.empty() ? "" : ": " + why));
    }
    if (fill->saw_non_f32) {
        throw Error(ErrorKind::internal, "llama.cpp created a non-F32 tensor for the synthetic model");
    }
    return m;
}

// Parameter count of a shape, from the tensor shapes these architectures use (embeddings, attention with
// grouped KV heads, FFN, norms and biases). It only steers the shape search: llama.cpp does not count the
// parameters of a model built from metadata, so the exact count is taken from the tensors as they are filled.
double estimate_params(const Recipe& r, const SyntheticShape& s) {
    const double w = s.n_embd;
    const double kv = static_cast<double>(s.n_embd) / s.n_head * s.n_head_kv;
    const double ff = s.n_ff;
    const bool gated = std::strcmp(r.arch, "gpt2") != 0 && std::strcmp(r.arch, "starcoder2") != 0 && !r.encoder;
    const double fixed = s.n_vocab * w * (r.encoder ? 1.0 : 2.0) + (r.encoder ? (512.0 + 2.0) * w : 0.0) + 4.0 * w;
    const double per_layer = 2.0 * w * w + 2.0 * w * kv + (gated ? 3.0 : 2.0) * w * ff + 6.0 * w + 2.0 * kv + ff;
    return fixed + per_layer * s.n_layer;
}

// Width and depth grow together (depth about width/64, as in GPT-2 and Llama), with head size 64. For each
// width the depth that best reaches the target is chosen; among widths within 10% of the target the one with
// the most natural aspect ratio wins.
SyntheticShape choose_shape(const Recipe& r, uint32_t n_vocab, uint64_t target) {
    static constexpr uint32_t widths[] = {64,  128, 192,  256,  320,  384,  448,  512,  640,  768,  896,
                                          1024, 1280, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192};
    const auto t = static_cast<double>(target);
    SyntheticShape best{};
    double best_score = std::numeric_limits<double>::infinity();
    for (uint32_t w : widths) {
        const double p1 = estimate_params(r, shape_for(r, n_vocab, w, 1));
        if (p1 > t * 1.1) break;
        const double per_layer = estimate_params(r, shape_for(r, n_vocab, w, 2)) - p1;
        const double fixed = p1 - per_layer;
        const double layers = std::round((t - fixed) / per_layer);
        const auto n_layer = static_cast<uint32_t>(std::clamp(layers, 1.0, 256.0));
        const double err = std::fabs(fixed + per_layer * n_layer - t) / t;
        const double aspect = std::fabs(std::log(n_layer / std::max(1.0, w / 64.0)));
        const double score = (err > 0.10 ? 100.0 + err : 0.0) + aspect + 10.0 * err;
        if (score < best_score) {
            best_score = score;
            best = shape_for(r, n_vocab, w, n_layer);
        }
    }
    if (best.n_embd == 0) {
        const auto smallest = static_cast<uint64_t>(estimate_params(r, shape_for(r, n_vocab, 64, 1)));
        throw Error(ErrorKind::invalid_input, "--params " + std::to_string(target) + " is too small for " + r.arch +
                                                  ": its smallest model has about " + std::to_string(smallest) +
                                                  " parameters (mostly the " + std::to_string(n_vocab) +
                                                  "-token vocabulary's embeddings)");
    }
    return best;
}

llama_ftype to_ftype(WeightType t) {
    switch (t) {
        case WeightType::f32: return LLAMA_FTYPE_ALL_F32;
        case WeightType::f16: return LLAMA_FTYPE_MOSTLY_F16;
        case WeightType::q8_0: return LLAMA_FTYPE_MOSTLY_Q8_0;
        case WeightType::q4_0: return LLAMA_FTYPE_MOSTLY_Q4_0;
    }
    return LLAMA_FTYPE_ALL_F32;
}

// Removes the file on scope exit unless released.

}  // namespace

std::vector<std::string> synthetic_architectures() {
    std::vector<std::string> out;
    for (const auto& r : k_recipes) out.emplace_back(r.arch);
    out.emplace_back("detr");  // accel's own architecture, not llama.cpp's (synthetic_detr.cpp)
    out.emplace_back("wav2vec2");  // accel's own graph: synthetic_wav2vec2.cpp
    out.emplace_back("clap");      // accel's own graphs: synthetic_clap.cpp
    out.insert(out.end(), {"vit", "clip", "xclip"});  // accel's own graphs: synthetic_vision.cpp
    return out;
}

std::string synthetic_unsupported_reason(const std::string& arch) {
    const llm_arch a = llm_arch_from_string(arch);
    if (a == LLM_ARCH_UNKNOWN) return "";
    if (!llama_model_saver_supports_arch(a)) {
        return "llama.cpp at this commit cannot save " + arch +
               " models (llama_model_saver_supports_arch is false; llama_model_save_to_file would assert)";
    }
    return "";
}

uint64_t parse_param_count(const std::string& text) {
    const auto bad = [&] {
        return Error(ErrorKind::invalid_input,
                     "invalid parameter count '" + text + "': use a number with an optional K, M, B or G suffix, e.g. 25M");
    };
    if (text.empty()) throw bad();
    size_t pos = 0;
    double v = 0;
    try {
        v = std::stod(text, &pos);
    } catch (const std::exception&) {
        throw bad();
    }
    double mult = 1;
    const std::string suffix = text.substr(pos);
    if (suffix == "k" || suffix == "K") {
        mult = 1e3;
    } else if (suffix == "m" || suffix == "M") {
        mult = 1e6;
    } else if (suffix == "b" || suffix == "B" || suffix == "g" || suffix == "G") {
        mult = 1e9;
    } else if (!suffix.empty()) {
        throw bad();
    }
    const double n = v * mult;
    if (!(n >= 1.0) || n > 1e12) throw bad();
    return static_cast<uint64_t>(std::llround(n));
}

WeightType parse_weight_type(const std::string& text) {
    if (text == "f32") return WeightType::f32;
    if (text == "f16") return WeightType::f16;
    if (text == "q8_0") return WeightType::q8_0;
    if (text == "q4_0") return WeightType::q4_0;
    throw Error(ErrorKind::invalid_input, "unknown weight type '" + text + "': use f32, f16, q8_0 or q4_0");
}

const char* to_string(WeightType type) {
    switch (type) {
        case WeightType::f32: return "f32";
        case WeightType::f16: return "f16";
        case WeightType::q8_0: return "q8_0";
        case WeightType::q4_0: return "q4_0";
    }
    return "f32";
}

SyntheticModel make_synthetic_model(const SyntheticSpec& spec) {
    if (spec.arch == "detr") return detail::make_synthetic_detr(spec);
    if (spec.arch == "wav2vec2") return detail::make_synthetic_wav2vec2(spec);
    if (spec.arch == "clap") return detail::make_synthetic_clap(spec);
    if (detail::is_synthetic_vision_arch(spec.arch)) return detail::make_synthetic_vision_model(spec);
    init_backend();
    if (const std::string why = synthetic_unsupported_reason(spec.arch); !why.empty()) {
        const bool t5 = spec.arch == "t5" || spec.arch == "t5encoder";
        throw Error(ErrorKind::invalid_input,
                    "make-model cannot build " + spec.arch + ": " + why +
                        (t5 ? "; convert a Hugging Face T5 checkpoint instead: accel convert HF_DIR --out MODEL.gguf" : ""));
    }
    const Recipe* recipe = find_recipe(spec.arch);
    if (recipe == nullptr) {
        std::string list;
        for (const auto& r : k_recipes) list += (list.empty() ? "" : ", ") + std::string(r.arch);
        throw Error(ErrorKind::invalid_input, "unknown architecture '" + spec.arch + "' for make-model: use one of " + list);
    }
    if (spec.out.empty()) {
        throw Error(ErrorKind::invalid_input, "make-model needs --out FILE.gguf");
    }

    const std::filesystem::path vocab_path = spec.vocab_dir / ("ggml-vocab-" + std::string(recipe->vocab) + ".gguf");
    gguf_init_params gp{.no_alloc = true, .ctx = nullptr};
    GgufPtr vocab(gguf_init_from_file(vocab_path.c_str(), gp));
    if (!vocab) {
        throw Error(ErrorKind::invalid_input, "cannot read the tokenizer " + vocab_path.string() +
                                                  " (set ACCEL_VOCAB_DIR to llama.cpp's models/ folder)");
    }
    const int64_t tok_key = gguf_find_key(vocab.get(), "tokenizer.ggml.tokens");
    if (tok_key < 0) {
        throw Error(ErrorKind::invalid_input, vocab_path.string() + " has no tokenizer.ggml.tokens");
    }
    const auto n_vocab = static_cast<uint32_t>(gguf_get_arr_n(vocab.get(), tok_key));

    GgufPtr meta(gguf_init_empty());
    gguf_set_kv(meta.get(), vocab.get());  // the tokenizer, copied whole

    const SyntheticShape shape = choose_shape(*recipe, n_vocab, spec.n_params_target);
    SyntheticModel out;
    out.shape = shape;
    out.name = "accel synthetic " + spec.arch + " " + fmt_count(spec.n_params_target) + " " + to_string(spec.type) +
               " seed " + std::to_string(spec.seed) + " (RANDOM WEIGHTS: for performance tests only, output is meaningless)";
    set_hparams(meta.get(), *recipe, shape, out.name);

    std::error_code ec;
    const auto parent = spec.out.has_parent_path() ? spec.out.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(parent, ec)) {
        throw Error(ErrorKind::invalid_input, "output folder does not exist: " + parent.string());
    }
    PartialFile f32_file(spec.out.string() + ".f32");  // the f32 model llama.cpp then quantizes; never renamed
    PartialFile final_file(spec.out);
    {
        FillParams fill{spec.seed};
        ModelPtr model = build(meta.get(), &fill);
        out.n_params = fill.n_elements;
        detail::save_model(model.get(), fill.token_embd, {}, f32_file.path());
    }
    if (!std::filesystem::exists(f32_file.path(), ec)) {
        throw Error(ErrorKind::io, "llama.cpp did not write " + f32_file.path().string());
    }
    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.nthread = spec.n_threads;
    qp.ftype = to_ftype(spec.type);
    qp.pure = true;  // one type for every matrix, so the file is what its name says
    clear_backend_message();
    if (llama_model_quantize(f32_file.path().c_str(), final_file.path().c_str(), &qp) != 0) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::io, "writing " + spec.out.string() + " failed" + (why.empty() ? "" : ": " + why));
    }
    final_file.commit();
    out.path = spec.out;
    out.file_bytes = std::filesystem::file_size(spec.out);
    out.sha256 = sha256_file(spec.out);
    return out;
}

void detail::save_model(const llama_model* model, const ggml_tensor* token_embd,
                        const std::filesystem::path& source, const std::filesystem::path& out) {
    llama_model_saver saver(model);
    saver.add_kv_from_model();
    saver.add_tensors_from_model();
    ggml_context* data_ctx = nullptr;
    detail::GgufPtr src;
    if (gguf_find_tensor(saver.gguf_ctx, "token_embd.weight") < 0) {
        if (token_embd == nullptr && !source.empty()) {
            gguf_init_params gp{.no_alloc = false, .ctx = &data_ctx};
            src.reset(gguf_init_from_file(source.c_str(), gp));
            if (src && data_ctx != nullptr) token_embd = ggml_get_tensor(data_ctx, "token_embd.weight");
        }
        if (token_embd != nullptr) saver.add_tensor(token_embd);
    }
    saver.save(out.string());
    if (data_ctx != nullptr) ggml_free(data_ctx);
}


}  // namespace accel::engine
