// Hugging Face -> GGUF for the text classes (LLaMA, Qwen2). Names and metadata follow the pinned llama.cpp's
// convert_hf_to_gguf.py (conversion/llama.py, conversion/qwen.py, conversion/base.py); docs/convert.md lists the
// differences.
#include "accel/model/hf_convert.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/model/safetensors_file.h"
#include "gguf_writer.h"
#include "hf_tokenizer.h"
#include "json_strict.h"

namespace accel::model {
namespace {

namespace fs = std::filesystem;
using detail::GgmlType;
using nlohmann::json;

struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

std::string read_text(const fs::path& p, uint64_t max_bytes) {
    std::error_code ec;
    const auto size = fs::file_size(p, ec);
    if (ec) throw Error(ErrorKind::invalid_input, fmt::format("{}: cannot read ({})", p.string(), ec.message()));
    if (size > max_bytes) throw Error(ErrorKind::invalid_input, fmt::format("{}: larger than {} bytes", p.string(), max_bytes));
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---- the source: every tensor of every shard, checked against the index

struct Source {
    fs::path file;
    uint64_t data_start = 0;  // 8 + header bytes
    SafetensorsTensor tensor;
};

std::map<std::string, Source> read_sources(const fs::path& dir, uint32_t& n_shards) {
    std::vector<fs::path> shards;
    std::map<std::string, std::string> weight_map;
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(index)) {
        const json j = detail::parse_json(read_text(index, 64u << 20), index.string(), true);
        if (!j.contains("weight_map") || !j["weight_map"].is_object())
            throw Error(ErrorKind::invalid_input, index.string() + ": no weight_map object");
        std::set<std::string> names;
        for (const auto& [tensor, file] : j["weight_map"].items()) {
            if (!file.is_string()) throw Error(ErrorKind::invalid_input, index.string() + ": weight_map value is not a file name");
            const std::string f = file.get<std::string>();
            if (f.find('/') != std::string::npos || f.starts_with("."))
                throw Error(ErrorKind::invalid_input, fmt::format("{}: shard name '{}' leaves the folder", index.string(), f));
            weight_map[tensor] = f;
            if (names.insert(f).second) shards.push_back(dir / f);
        }
    } else if (fs::exists(dir / "model.safetensors")) {
        shards.push_back(dir / "model.safetensors");
    } else {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: no model.safetensors or model.safetensors.index.json (accel converts safetensors "
                                "checkpoints only)", dir.string()));
    }
    std::map<std::string, Source> out;
    for (const auto& shard : shards) {
        if (!fs::exists(shard)) throw Error(ErrorKind::invalid_input, fmt::format("{}: the index names it, but it is missing", shard.string()));
        const SafetensorsFile f = read_safetensors(shard);  // checks header against the file size (a truncated shard)
        for (const auto& t : f.tensors) {
            if (!weight_map.empty()) {
                const auto it = weight_map.find(t.name);
                if (it == weight_map.end() || dir / it->second != shard)
                    throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is not where {} says it is",
                                                                      shard.string(), t.name, index.string()));
            }
            if (!out.emplace(t.name, Source{shard, 8 + f.header_bytes, t}).second)
                throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} appears twice", shard.string(), t.name));
        }
    }
    for (const auto& [name, file] : weight_map)
        if (!out.contains(name))
            throw Error(ErrorKind::invalid_input, fmt::format("{}: lists {} in {}, which does not hold it", index.string(), name, file));
    n_shards = static_cast<uint32_t>(shards.size());
    return out;
}

// ---- the architectures

struct Hparams {
    std::string hf_arch, arch;
    uint32_t n_vocab = 0, n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ctx = 0;
    float rope_theta = 10000.0f, rms_eps = 1e-6f;
    bool tied = false, qkv_bias = false, permute_qk = false;
};

uint32_t get_u32(const json& c, const char* key, const std::string& source, std::optional<uint32_t> fallback = {}) {
    if (!c.contains(key) || c[key].is_null()) {
        if (fallback) return *fallback;
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no '{}'", source, key));
    }
    if (!c[key].is_number_unsigned() || c[key].get<uint64_t>() == 0 || c[key].get<uint64_t>() > (1ull << 31))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: '{}' is not a positive integer", source, key));
    return static_cast<uint32_t>(c[key].get<uint64_t>());
}

Hparams read_hparams(const json& c, const std::string& source) {
    Hparams h;
    if (!c.contains("architectures") || !c["architectures"].is_array() || c["architectures"].empty() ||
        !c["architectures"][0].is_string())
        throw Error(ErrorKind::invalid_input, source + ": no architectures list");
    h.hf_arch = c["architectures"][0].get<std::string>();
    if (h.hf_arch == "LlamaForCausalLM") {
        h.arch = "llama";
        h.permute_qk = true;  // HF stores q/k for rotate_half; llama.cpp's llama uses the interleaved rope
        h.qkv_bias = c.value("attention_bias", false);
    } else if (h.hf_arch == "Qwen2ForCausalLM") {
        h.arch = "qwen2";
        h.qkv_bias = true;
    } else {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: architecture {} is not one accel converts (it converts {})",
                                                          source, h.hf_arch, fmt::join(convertible_architectures(), ", ")));
    }
    h.n_vocab = get_u32(c, "vocab_size", source);
    h.n_embd = get_u32(c, "hidden_size", source);
    h.n_ff = get_u32(c, "intermediate_size", source);
    h.n_layer = get_u32(c, "num_hidden_layers", source);
    h.n_head = get_u32(c, "num_attention_heads", source);
    h.n_head_kv = get_u32(c, "num_key_value_heads", source, h.n_head);
    h.n_ctx = get_u32(c, "max_position_embeddings", source, 2048);
    if (h.n_embd % h.n_head != 0 && !c.contains("head_dim"))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: hidden_size {} is not a multiple of num_attention_heads {}",
                                                          source, h.n_embd, h.n_head));
    h.head_dim = get_u32(c, "head_dim", source, h.n_embd / h.n_head);
    if (h.n_head % h.n_head_kv != 0 || (h.permute_qk && h.head_dim % 2 != 0))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: num_attention_heads {} is not a multiple of "
                                                          "num_key_value_heads {} (or head_dim is odd)",
                                                          source, h.n_head, h.n_head_kv));
    if (c.contains("tie_word_embeddings") && c["tie_word_embeddings"].is_boolean()) h.tied = c["tie_word_embeddings"].get<bool>();
    // transformers < 5 has rope_theta and rope_scaling at the top; 5 moves them into rope_parameters
    const json rope = c.contains("rope_parameters") && c["rope_parameters"].is_object() ? c["rope_parameters"] : c;
    if (rope.contains("rope_theta") && rope["rope_theta"].is_number()) h.rope_theta = rope["rope_theta"].get<float>();
    const json scaling = c.contains("rope_scaling") ? c["rope_scaling"] : rope;
    if (scaling.is_object()) {
        const std::string type = scaling.value("rope_type", scaling.value("type", "default"));
        if (type != "default")
            throw Error(ErrorKind::invalid_input, fmt::format("{}: rope scaling '{}' is not converted yet", source, type));
    }
    if (c.contains("rms_norm_eps") && c["rms_norm_eps"].is_number()) h.rms_eps = c["rms_norm_eps"].get<float>();
    return h;
}

struct Plan {
    std::string name, source;
    std::vector<uint64_t> hf_shape;  // as safetensors stores it (row-major, outermost first)
    uint32_t permute_heads = 0;      // > 0: undo HF's rotate_half row order with this many heads
};

std::vector<Plan> plan_tensors(const Hparams& h, const std::map<std::string, Source>& src, const std::string& dir) {
    const uint64_t q = uint64_t{h.n_head} * h.head_dim, kv = uint64_t{h.n_head_kv} * h.head_dim;
    std::vector<Plan> p;
    p.push_back({"token_embd.weight", "model.embed_tokens.weight", {h.n_vocab, h.n_embd}});
    p.push_back({"output_norm.weight", "model.norm.weight", {h.n_embd}});
    if (!h.tied || src.contains("lm_head.weight")) p.push_back({"output.weight", "lm_head.weight", {h.n_vocab, h.n_embd}});
    for (uint32_t i = 0; i < h.n_layer; ++i) {
        const std::string b = fmt::format("blk.{}.", i), l = fmt::format("model.layers.{}.", i);
        p.push_back({b + "attn_norm.weight", l + "input_layernorm.weight", {h.n_embd}});
        p.push_back({b + "attn_q.weight", l + "self_attn.q_proj.weight", {q, h.n_embd}, h.permute_qk ? h.n_head : 0});
        p.push_back({b + "attn_k.weight", l + "self_attn.k_proj.weight", {kv, h.n_embd}, h.permute_qk ? h.n_head_kv : 0});
        p.push_back({b + "attn_v.weight", l + "self_attn.v_proj.weight", {kv, h.n_embd}});
        if (h.qkv_bias) {
            p.push_back({b + "attn_q.bias", l + "self_attn.q_proj.bias", {q}, h.permute_qk ? h.n_head : 0});
            p.push_back({b + "attn_k.bias", l + "self_attn.k_proj.bias", {kv}, h.permute_qk ? h.n_head_kv : 0});
            p.push_back({b + "attn_v.bias", l + "self_attn.v_proj.bias", {kv}});
        }
        p.push_back({b + "attn_output.weight", l + "self_attn.o_proj.weight", {h.n_embd, q}});
        p.push_back({b + "ffn_norm.weight", l + "post_attention_layernorm.weight", {h.n_embd}});
        p.push_back({b + "ffn_gate.weight", l + "mlp.gate_proj.weight", {h.n_ff, h.n_embd}});
        p.push_back({b + "ffn_up.weight", l + "mlp.up_proj.weight", {h.n_ff, h.n_embd}});
        p.push_back({b + "ffn_down.weight", l + "mlp.down_proj.weight", {h.n_embd, h.n_ff}});
    }
    std::set<std::string> used;
    for (const auto& t : p) {
        const auto it = src.find(t.source);
        if (it == src.end()) throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is missing", dir, t.source));
        const auto& st = it->second.tensor;
        if (st.shape != t.hf_shape)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} has shape [{}], config.json implies [{}]", dir,
                                                              t.source, fmt::join(st.shape, ", "), fmt::join(t.hf_shape, ", ")));
        if (st.dtype != "F32" && st.dtype != "F16" && st.dtype != "BF16")
            throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is {}; accel converts F32, F16 and BF16", dir,
                                                              t.source, st.dtype));
        used.insert(t.source);
    }
    for (const auto& [name, s] : src) {
        if (used.contains(name) || name.ends_with("rotary_emb.inv_freq")) continue;
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: tensor {} does not belong to a {} with this config.json", dir, name, h.hf_arch));
    }
    return p;
}

GgmlType out_type(ConvertType t, const Plan& p) {
    if (p.hf_shape.size() < 2) return GgmlType::f32;
    switch (t) {
        case ConvertType::f32: return GgmlType::f32;
        case ConvertType::f16: return GgmlType::f16;
        case ConvertType::bf16: return GgmlType::bf16;
        case ConvertType::q8_0: return p.hf_shape.back() % 32 == 0 ? GgmlType::q8_0 : GgmlType::f16;
    }
    return GgmlType::f32;
}

uint32_t file_type(ConvertType t) {  // llama_ftype
    switch (t) {
        case ConvertType::f32: return 0;
        case ConvertType::f16: return 1;
        case ConvertType::bf16: return 32;
        case ConvertType::q8_0: return 7;
    }
    return 0;
}

std::vector<float> load_f32(const Source& s) {
    const auto& t = s.tensor;
    std::vector<uint8_t> raw(t.end - t.begin);
    FilePtr f(std::fopen(s.file.c_str(), "rb"));
    if (!f || std::fseek(f.get(), static_cast<long>(s.data_start + t.begin), SEEK_SET) != 0 ||
        std::fread(raw.data(), 1, raw.size(), f.get()) != raw.size())
        throw Error(ErrorKind::io, fmt::format("{}: cannot read tensor {}", s.file.string(), t.name));
    std::vector<float> out(t.n_elements);
    for (uint64_t i = 0; i < t.n_elements; ++i) {
        if (t.dtype == "F32") {
            std::memcpy(&out[i], raw.data() + 4 * i, 4);
        } else {
            uint16_t h;
            std::memcpy(&h, raw.data() + 2 * i, 2);
            out[i] = t.dtype == "F16" ? detail::fp16_to_fp32(h) : detail::bf16_to_fp32(h);
        }
    }
    return out;
}

// convert_hf_to_gguf.py's LlamaModel.permute: rows [head][2][d/2] -> [head][d/2][2]
std::vector<float> permute_rows(const std::vector<float>& w, uint64_t n_rows, uint64_t row_len, uint32_t n_head) {
    std::vector<float> out(w.size());
    const uint64_t d = n_rows / n_head, half = d / 2;
    for (uint64_t h = 0; h < n_head; ++h)
        for (uint64_t j = 0; j < half; ++j)
            for (uint64_t s = 0; s < 2; ++s)
                std::memcpy(&out[(h * d + j * 2 + s) * row_len], &w[(h * d + s * half + j) * row_len], row_len * 4);
    return out;
}

}  // namespace

ConvertType parse_convert_type(const std::string& text) {
    for (const auto t : {ConvertType::f32, ConvertType::f16, ConvertType::bf16, ConvertType::q8_0})
        if (text == to_string(t)) return t;
    throw Error(ErrorKind::invalid_input, fmt::format("unknown --type '{}' (choose f32, f16, bf16 or q8_0)", text));
}

const char* to_string(ConvertType type) {
    switch (type) {
        case ConvertType::f32: return "f32";
        case ConvertType::f16: return "f16";
        case ConvertType::bf16: return "bf16";
        case ConvertType::q8_0: return "q8_0";
    }
    return "?";
}

const std::vector<std::string>& convertible_architectures() {
    static const std::vector<std::string> archs = {"LlamaForCausalLM", "Qwen2ForCausalLM"};
    return archs;
}

namespace {

ConvertResult convert(const fs::path& hf_dir, const fs::path& out, const ConvertOptions& options) {
    const fs::path config_path = hf_dir / "config.json";
    if (!fs::is_directory(hf_dir) || !fs::exists(config_path))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: not a Hugging Face folder (no config.json)", hf_dir.string()));
    const std::string config_text = read_text(config_path, 16u << 20);
    const json config = detail::parse_json(config_text, config_path.string(), true);
    if (!config.is_object()) throw Error(ErrorKind::invalid_input, config_path.string() + ": not a JSON object");
    const Hparams h = read_hparams(config, config_path.string());

    ConvertResult r;
    const auto sources = read_sources(hf_dir, r.n_shards);
    const auto plan = plan_tensors(h, sources, hf_dir.string());
    const detail::HfVocab vocab = detail::read_hf_vocab(hf_dir, h.n_vocab, config_text);

    detail::GgufWriter w;
    const std::string a = h.arch;
    std::string name = fs::absolute(hf_dir).lexically_normal().filename().string();
    if (name.empty()) name = fs::absolute(hf_dir).lexically_normal().parent_path().filename().string();
    w.add_string("general.architecture", a);
    w.add_string("general.type", "model");
    w.add_string("general.name", name);
    w.add_u32(a + ".block_count", h.n_layer);
    w.add_u32(a + ".context_length", h.n_ctx);
    w.add_u32(a + ".embedding_length", h.n_embd);
    w.add_u32(a + ".feed_forward_length", h.n_ff);
    w.add_u32(a + ".attention.head_count", h.n_head);
    w.add_u32(a + ".attention.head_count_kv", h.n_head_kv);
    w.add_f32(a + ".rope.freq_base", h.rope_theta);
    w.add_f32(a + ".attention.layer_norm_rms_epsilon", h.rms_eps);
    if (config.contains("head_dim")) {
        w.add_u32(a + ".attention.key_length", h.head_dim);
        w.add_u32(a + ".attention.value_length", h.head_dim);
    }
    w.add_u32("general.file_type", file_type(options.type));
    if (h.arch == "llama") {
        w.add_u32(a + ".vocab_size", h.n_vocab);
        w.add_u32(a + ".rope.dimension_count", h.head_dim);
    }
    w.add_u32("general.quantization_version", 2);
    detail::add_vocab(vocab, w);

    for (const auto& p : plan) {
        std::vector<uint64_t> ne(p.hf_shape.rbegin(), p.hf_shape.rend());
        const GgmlType t = out_type(options.type, p);
        w.add_tensor(p.name, ne, t);
        r.tensors.push_back({p.name, p.source, detail::ggml_type_name(t), ne});
        r.n_params += sources.at(p.source).tensor.n_elements;
    }

    PartialFile tmp(out);
    {
        FilePtr f(std::fopen(tmp.path().c_str(), "wb"));
        if (!f) throw Error(ErrorKind::io, fmt::format("{}: cannot create ({})", tmp.path().string(), std::strerror(errno)));
        w.write_header(f.get(), out.string());
        std::vector<uint8_t> bytes;
        for (const auto& p : plan) {
            std::vector<float> x = load_f32(sources.at(p.source));
            const uint64_t row_len = p.hf_shape.size() > 1 ? p.hf_shape.back() : 1;
            if (p.permute_heads > 0) x = permute_rows(x, p.hf_shape[0], row_len, p.permute_heads);
            bytes.clear();
            detail::convert_row_major(x.data(), x.size(), out_type(options.type, p), bytes);
            w.write_tensor(f.get(), out.string(), bytes);
        }
        if (std::fflush(f.get()) != 0 || std::ferror(f.get()))
            throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", out.string()));
    }
    tmp.commit();
    r.hf_architecture = h.hf_arch;
    r.arch = h.arch;
    r.tokenizer = vocab.model;
    r.tokenizer_pre = vocab.pre;
    r.n_vocab = h.n_vocab;
    r.has_chat_template = !vocab.chat_template.empty();
    std::error_code ec;
    r.out_bytes = fs::file_size(out, ec);
    return r;
}

}  // namespace

ConvertResult convert_hf(const fs::path& hf_dir, const fs::path& out, const ConvertOptions& options) {
    try {
        return convert(hf_dir, out, options);
    } catch (const nlohmann::json::exception& e) {  // a config.json or index value of the wrong JSON type
        throw Error(ErrorKind::invalid_input, fmt::format("{}: malformed JSON value: {}", hf_dir.string(), e.what()));
    }
}

}  // namespace accel::model
