// Hugging Face -> GGUF: the shared machinery (sources and their checks, dtype conversion, writing through
// core::PartialFile). Each architecture's names, shapes and metadata are its adapter's (hf_arch.h,
// hf_arch_<family>.cpp), following the pinned llama.cpp's convert_hf_to_gguf.py; docs/convert.md lists the
// differences.
#include "accel/model/hf_convert.h"

#include <algorithm>
#include <cmath>
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
#include "hf_arch.h"
#include "hf_tokenizer.h"
#include "json_strict.h"

namespace accel::model {

namespace fs = std::filesystem;
using detail::GgmlType;
using nlohmann::json;

namespace detail {

std::string read_text_file(const fs::path& p, uint64_t max_bytes) {
    std::error_code ec;
    const auto size = fs::file_size(p, ec);
    if (ec) throw Error(ErrorKind::invalid_input, fmt::format("{}: cannot read ({})", p.string(), ec.message()));
    if (size > max_bytes) throw Error(ErrorKind::invalid_input, fmt::format("{}: larger than {} bytes", p.string(), max_bytes));
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

uint32_t get_u32(const json& c, const char* key, const std::string& source, std::optional<uint32_t> fallback) {
    if (!c.contains(key) || c[key].is_null()) {
        if (fallback) return *fallback;
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no '{}'", source, key));
    }
    if (!c[key].is_number_unsigned() || c[key].get<uint64_t>() == 0 || c[key].get<uint64_t>() > (1ull << 31))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: '{}' is not a positive integer", source, key));
    return static_cast<uint32_t>(c[key].get<uint64_t>());
}

std::optional<float> get_f32(const json& c, const char* key) {
    if (c.contains(key) && c[key].is_number()) return c[key].get<float>();
    return std::nullopt;
}

void plan_encoder_block(std::vector<TensorPlan>& p, const std::string& blk, const std::string& layer,
                        const EncoderBlockNames& names, uint64_t n_embd, uint64_t n_ff,
                        const std::function<std::string(const std::string&)>& src) {
    for (size_t i = 0; i < names.linear.size(); ++i) {
        const auto& [to, from] = names.linear[i];
        const uint64_t rows = i == 4 ? n_ff : n_embd, cols = i == 5 ? n_ff : n_embd;
        p.push_back({blk + to + ".weight", src(layer + from + ".weight"), {rows, cols}});
        p.push_back({blk + to + ".bias", src(layer + from + ".bias"), {rows}});
    }
    for (const auto& [to, from] : names.norms) {
        p.push_back({blk + to + ".weight", src(layer + from + ".weight"), {n_embd}});
        p.push_back({blk + to + ".bias", src(layer + from + ".bias"), {n_embd}});
    }
}

}  // namespace detail

namespace {

struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

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
        const json j = detail::parse_json(detail::read_text_file(index, 64u << 20), index.string(), true);
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

// ---- the architectures (one adapter per family: hf_arch_<family>.cpp)

using detail::HfArchitecture;
using detail::TensorPlan;

struct ArchEntry {
    const char* hf_arch;
    std::unique_ptr<HfArchitecture> (*make)(const detail::HfInput&);
    bool has_mmproj = false;  // a second file: the multimodal projector (convert_hf_mmproj)
};

const std::vector<ArchEntry>& arch_table() {
    static const std::vector<ArchEntry> table = {
        {"LlamaForCausalLM", detail::make_llama_architecture},
        {"Qwen2ForCausalLM", detail::make_llama_architecture},
        {"BertModel", detail::make_bert_architecture},
        {"BertForMaskedLM", detail::make_bert_architecture},
        {"BertForSequenceClassification", detail::make_bert_architecture},
        {"T5ForConditionalGeneration", detail::make_t5_architecture},
        {"T5EncoderModel", detail::make_t5_architecture},
        {"ViTForImageClassification", detail::make_vit_architecture},
        {"CLIPModel", detail::make_clip_architecture},
        {"WhisperForConditionalGeneration", detail::make_whisper_architecture},
        {"DetrForObjectDetection", detail::make_detr_architecture},
        {"Wav2Vec2ForCTC", detail::make_wav2vec2_architecture},
        {"LlavaForConditionalGeneration", detail::make_llava_architecture, true},
        {"LlavaNextForConditionalGeneration", detail::make_llava_architecture, true},
        {"ClapModel", detail::make_clap_architecture},
        {"XCLIPModel", detail::make_xclip_architecture},
    };
    return table;
}

std::string read_hf_arch(const json& c, const std::string& source) {
    if (!c.contains("architectures") || !c["architectures"].is_array() || c["architectures"].empty() ||
        !c["architectures"][0].is_string())
        throw Error(ErrorKind::invalid_input, source + ": no architectures list");
    return c["architectures"][0].get<std::string>();
}

std::unique_ptr<HfArchitecture> make_architecture(const detail::HfInput& in) {
    for (const auto& e : arch_table()) {
        if (in.hf_arch != e.hf_arch) continue;
        if (in.mmproj && !e.has_mmproj)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: {} has no multimodal projector to write (--mmproj-out "
                                                              "is for LLaVA and LLaVA-Next)", in.config_source, in.hf_arch));
        return e.make(in);
    }
    throw Error(ErrorKind::invalid_input, fmt::format("{}: architecture {} is not one accel converts (it converts {})",
                                                      in.config_source, in.hf_arch,
                                                      fmt::join(convertible_architectures(), ", ")));
}

// Every planned tensor exists with the shape the config implies and a dtype accel reads; every other source
// tensor is one the architecture drops.
void check_plan(const std::vector<TensorPlan>& p, const HfArchitecture& a, const std::string& hf_arch,
                const std::map<std::string, Source>& src, const std::string& dir) {
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
        if (!t.weight_norm_g.empty()) {
            const auto g = src.find(t.weight_norm_g);
            if (g == src.end()) throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is missing", dir, t.weight_norm_g));
            std::vector<uint64_t> want(t.hf_shape.size(), 1);
            if (!want.empty()) want.back() = t.hf_shape.back();
            if (g->second.tensor.shape != want || g->second.tensor.dtype != st.dtype)
                throw Error(ErrorKind::invalid_input, fmt::format("{}: tensor {} is not the weight-norm gain of {} "
                                                                  "(shape [{}], {})", dir, t.weight_norm_g, t.source,
                                                                  fmt::join(want, ", "), st.dtype));
            used.insert(t.weight_norm_g);
        }
    }
    for (const auto& [name, s] : src) {
        if (used.contains(name) || a.dropped(name)) continue;
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: tensor {} does not belong to a {} with this config.json", dir, name, hf_arch));
    }
}

GgmlType out_type(ConvertType t, const TensorPlan& p) {
    if (p.hf_shape.size() < 2 || p.keep_f32) return GgmlType::f32;
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

std::vector<uint8_t> load_raw(const Source& s) { return read_tensor_bytes(s.file, s.data_start - 8, s.tensor); }

std::vector<float> to_f32(const std::vector<uint8_t>& raw, const model::SafetensorsTensor& t) {
    std::vector<float> out(t.n_elements);
    if (t.dtype == "F32") {
        std::memcpy(out.data(), raw.data(), out.size() * 4);
        return out;
    }
    const bool f16 = t.dtype == "F16";  // else BF16: the dtypes check_plan lets through
    for (uint64_t i = 0; i < t.n_elements; ++i) {
        uint16_t h;
        std::memcpy(&h, raw.data() + 2 * i, 2);
        out[i] = f16 ? detail::fp16_to_fp32(h) : detail::bf16_to_fp32(h);
    }
    return out;
}

// torch's weight_norm over the last axis: w[..., k] = g[k] * v[..., k] / ||v[:, ..., k]||, summed in double.
void fold_weight_norm(std::vector<float>& v, const std::vector<float>& g) {
    const size_t n_last = g.size();
    std::vector<double> sq(n_last, 0.0);
    for (size_t i = 0; i < v.size(); ++i) sq[i % n_last] += double(v[i]) * v[i];
    for (size_t i = 0; i < v.size(); ++i) {
        const double norm = std::sqrt(sq[i % n_last]);
        v[i] = static_cast<float>(norm > 0 ? g[i % n_last] * (v[i] / norm) : 0.0);
    }
}

// convert_hf_to_gguf.py's LlamaModel.permute: rows [head][2][d/2] -> [head][d/2][2], on elements of `elem` bytes.
std::vector<uint8_t> permute_rows(const std::vector<uint8_t>& w, uint64_t n_rows, uint64_t row_len, uint32_t n_head,
                                  size_t elem) {
    std::vector<uint8_t> out(w.size());
    const uint64_t d = n_rows / n_head, half = d / 2, row_bytes = row_len * elem;
    for (uint64_t h = 0; h < n_head; ++h)
        for (uint64_t j = 0; j < half; ++j)
            for (uint64_t s = 0; s < 2; ++s)
                std::memcpy(&out[(h * d + j * 2 + s) * row_bytes], &w[(h * d + s * half + j) * row_bytes], row_bytes);
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
    static const std::vector<std::string> archs = [] {
        std::vector<std::string> names;
        for (const auto& e : arch_table()) names.emplace_back(e.hf_arch);
        return names;
    }();
    return archs;
}

HfSupport hf_support(const std::vector<std::string>& architectures) {
    // What runs each converted family: llama.cpp for its own architectures, accel's graphs or whisper.cpp otherwise.
    static const std::map<std::string, std::string> runtime_of = {
        {"ViTForImageClassification", "accel's ggml graphs (accel infer)"},
        {"CLIPModel", "accel's ggml graphs (library and accel conform; accel infer has no CLIP tokenizer yet)"},
        {"DetrForObjectDetection", "accel's ggml graphs (accel infer)"},
        {"XCLIPModel", "accel's ggml graphs (accel infer --video)"},
        {"WhisperForConditionalGeneration", "whisper.cpp"},
        {"Wav2Vec2ForCTC", "accel's ggml graphs (accel infer --audio)"},
        {"ClapModel", "accel's ggml graphs (library and accel conform)"},
        {"LlavaForConditionalGeneration", "llama.cpp with libmtmd (accel infer --mmproj)"},
        {"LlavaNextForConditionalGeneration", "llama.cpp with libmtmd (accel infer --mmproj)"}};
    const auto& known = convertible_architectures();
    for (const auto& a : architectures) {
        if (std::find(known.begin(), known.end(), a) == known.end()) continue;
        const auto it = runtime_of.find(a);
        return {.convertible = true, .architecture = a, .runs_with = it == runtime_of.end() ? "llama.cpp" : it->second};
    }
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    std::string given;
    for (const auto& a : architectures) given += (given.empty() ? "" : ", ") + a;
    return {.reason = fmt::format("{} is not one accel converts (it converts {})",
                                  given.empty() ? "a config.json without \"architectures\"" : given, list)};
}

std::vector<std::string> convertible_model_types() {
    // The model_type each Hugging Face architecture's config.json carries.
    static const std::map<std::string, std::string> model_type_of = {
        {"LlamaForCausalLM", "llama"},
        {"Qwen2ForCausalLM", "qwen2"},
        {"BertModel", "bert"},
        {"BertForMaskedLM", "bert"},
        {"BertForSequenceClassification", "bert"},
        {"T5ForConditionalGeneration", "t5"},
        {"T5EncoderModel", "t5"},
        {"ViTForImageClassification", "vit"},
        {"CLIPModel", "clip"},
        {"XCLIPModel", "xclip"},
        {"DetrForObjectDetection", "detr"},
        {"WhisperForConditionalGeneration", "whisper"},
        {"Wav2Vec2ForCTC", "wav2vec2"},
        {"ClapModel", "clap"},
        {"LlavaForConditionalGeneration", "llava"},
        {"LlavaNextForConditionalGeneration", "llava_next"}};
    std::set<std::string> out;
    for (const auto& a : convertible_architectures()) {
        if (const auto it = model_type_of.find(a); it != model_type_of.end()) out.insert(it->second);
    }
    return {out.begin(), out.end()};
}

namespace {

std::string model_name(const fs::path& hf_dir) {
    std::string name = fs::absolute(hf_dir).lexically_normal().filename().string();
    if (name.empty()) name = fs::absolute(hf_dir).lexically_normal().parent_path().filename().string();
    return name;
}

// GGUF through the shared writer interface (hf_arch.h), the format every adapter gets unless it has its own.
class GgufFileWriter final : public detail::ModelFileWriter {
public:
    explicit GgufFileWriter(detail::GgufWriter& w) : w_(w) {}
    void add_tensor(const TensorPlan& p, GgmlType type) override {
        std::vector<uint64_t> ne(p.hf_shape.rbegin(), p.hf_shape.rend());
        if (ne.empty()) ne.push_back(1);  // a scalar (CLIP's logit_scale) is a 1-element tensor
        w_.add_tensor(p.name, ne, type);
    }
    void write_header(std::FILE* f, const std::string& path) const override { w_.write_header(f, path); }
    void write_tensor(std::FILE* f, const std::string& path, const std::vector<uint8_t>& bytes) override {
        w_.write_tensor(f, path, bytes);
    }

private:
    detail::GgufWriter& w_;
};

// Streams every planned tensor, converted, after the header, into a PartialFile committed only when all is written.
void write_model(detail::ModelFileWriter& w, const std::vector<TensorPlan>& plan,
                 const std::map<std::string, Source>& sources, ConvertType type, const fs::path& out) {
    PartialFile tmp(out);
    {
        FilePtr f(std::fopen(tmp.path().c_str(), "wb"));
        if (!f) throw Error(ErrorKind::io, fmt::format("{}: cannot create ({})", tmp.path().string(), std::strerror(errno)));
        w.write_header(f.get(), out.string());
        std::vector<uint8_t> bytes;
        for (const auto& p : plan) {
            const Source& s = sources.at(p.source);
            std::vector<uint8_t> raw = load_raw(s);
            const uint64_t row_len = p.hf_shape.size() > 1 ? p.hf_shape.back() : 1;
            const size_t elem = raw.size() / std::max<uint64_t>(s.tensor.n_elements, 1);
            if (p.permute_heads > 0) raw = permute_rows(raw, p.hf_shape[0], row_len, p.permute_heads, elem);
            const detail::GgmlType to = out_type(type, p);
            // f16 to f16, bf16 to bf16 and f32 to f32 are the source's bytes (what the round trip through f32 gives);
            // a scaled tensor (T5's tied output) goes through f32
            const bool same_type = (s.tensor.dtype == "F16" && to == detail::GgmlType::f16) ||
                                   (s.tensor.dtype == "BF16" && to == detail::GgmlType::bf16) ||
                                   (s.tensor.dtype == "F32" && to == detail::GgmlType::f32);
            if (same_type && p.scale == 1.0f && p.weight_norm_g.empty()) {
                w.write_tensor(f.get(), out.string(), raw);
                continue;
            }
            std::vector<float> x = to_f32(raw, s.tensor);
            if (!p.weight_norm_g.empty()) {
                const Source& g = sources.at(p.weight_norm_g);
                fold_weight_norm(x, to_f32(load_raw(g), g.tensor));
            }
            if (p.scale != 1.0f)
                for (float& v : x) v *= p.scale;
            bytes.clear();
            detail::convert_row_major(x.data(), x.size(), to, bytes);
            w.write_tensor(f.get(), out.string(), bytes);
        }
        if (std::fflush(f.get()) != 0 || std::ferror(f.get()))
            throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", out.string()));
    }
    tmp.commit();
}

ConvertResult convert(const fs::path& hf_dir, const fs::path& out, const ConvertOptions& options, bool mmproj) {
    const fs::path config_path = hf_dir / "config.json";
    if (!fs::is_directory(hf_dir) || !fs::exists(config_path))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: not a Hugging Face folder (no config.json)", hf_dir.string()));
    const std::string config_text = detail::read_text_file(config_path, 16u << 20);
    const json config = detail::parse_json(config_text, config_path.string(), true);
    if (!config.is_object()) throw Error(ErrorKind::invalid_input, config_path.string() + ": not a JSON object");
    const std::string hf_arch = read_hf_arch(config, config_path.string());

    ConvertResult r;
    const auto sources = read_sources(hf_dir, r.n_shards);
    std::set<std::string> names;
    for (const auto& [name, s] : sources) names.insert(name);
    const detail::HfInput in{hf_dir, config, config_text, config_path.string(), hf_arch, names, mmproj};
    const auto a = make_architecture(in);
    const auto plan = a->plan();
    check_plan(plan, *a, hf_arch, sources, hf_dir.string());
    const detail::HfVocab vocab = a->read_vocab();

    detail::GgufWriter gguf;
    std::unique_ptr<detail::ModelFileWriter> w = a->own_format(options.type);
    r.format = w ? a->arch() : "gguf";
    if (!w) {
        gguf.add_string("general.architecture", a->arch());
        gguf.add_string("general.type", "model");
        gguf.add_string("general.name", model_name(hf_dir));
        a->add_metadata(gguf);
        gguf.add_u32("general.file_type", file_type(options.type));
        gguf.add_u32("general.quantization_version", 2);
        if (!vocab.model.empty()) detail::add_vocab(vocab, gguf);  // image models have no tokenizer
        w = std::make_unique<GgufFileWriter>(gguf);
    }
    for (const auto& p : plan) {
        const GgmlType t = out_type(options.type, p);
        w->add_tensor(p, t);
        r.tensors.push_back({p.name, p.source, detail::ggml_type_name(t),
                             std::vector<uint64_t>(p.hf_shape.rbegin(), p.hf_shape.rend())});
        r.n_params += sources.at(p.source).tensor.n_elements;
    }
    write_model(*w, plan, sources, options.type, out);

    r.hf_architecture = hf_arch;
    r.arch = a->arch();
    r.tokenizer = vocab.model;
    r.tokenizer_pre = vocab.pre;
    r.n_vocab = a->n_vocab();
    r.has_chat_template = !vocab.chat_template.empty();
    std::error_code ec;
    r.out_bytes = fs::file_size(out, ec);
    return r;
}

}  // namespace

std::vector<ConvertedTensor> plan_hf(const fs::path& hf_dir) {
    const fs::path config_path = hf_dir / "config.json";
    const std::string config_text = detail::read_text_file(config_path, 16u << 20);
    const json config = detail::parse_json(config_text, config_path.string(), true);
    if (!config.is_object()) throw Error(ErrorKind::invalid_input, config_path.string() + ": not a JSON object");
    const std::set<std::string> no_sources;
    const detail::HfInput in{hf_dir, config, config_text, config_path.string(), read_hf_arch(config, config_path.string()),
                             no_sources};
    std::vector<ConvertedTensor> out;
    for (const auto& p : make_architecture(in)->plan())
        out.push_back({p.name, p.source, "", std::vector<uint64_t>(p.hf_shape.rbegin(), p.hf_shape.rend())});
    return out;
}

ConvertResult convert_hf(const fs::path& hf_dir, const fs::path& out, const ConvertOptions& options) {
    try {
        return convert(hf_dir, out, options, false);
    } catch (const nlohmann::json::exception& e) {  // a config.json or index value of the wrong JSON type
        throw Error(ErrorKind::invalid_input, fmt::format("{}: malformed JSON value: {}", hf_dir.string(), e.what()));
    }
}

ConvertResult convert_hf_mmproj(const fs::path& hf_dir, const fs::path& out, const ConvertOptions& options) {
    try {
        return convert(hf_dir, out, options, true);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: malformed JSON value: {}", hf_dir.string(), e.what()));
    }
}

}  // namespace accel::model
