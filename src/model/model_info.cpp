#include "accel/model/model_info.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "accel/model/gguf_validate.h"
#include "accel/model/safetensors_file.h"
#include "json_strict.h"

namespace accel::model {

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path, uint64_t max_bytes) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", path.string(), ec.message()));
    if (size > max_bytes)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: {} bytes, over the {}-byte limit for this file", path.string(), size, max_bytes));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, fmt::format("{}: cannot open", path.string()));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool has_gguf_magic(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    char m[4] = {};
    return in.read(m, 4) && std::string_view(m, 4) == "GGUF";
}

std::optional<uint64_t> first_uint(const nlohmann::json& j, std::initializer_list<const char*> keys) {
    for (const char* k : keys)
        if (auto it = j.find(k); it != j.end() && it->is_number_unsigned()) return it->get<uint64_t>();
    if (auto tc = j.find("text_config"); tc != j.end() && tc->is_object()) return first_uint(*tc, keys);
    return std::nullopt;
}

void from_gguf(ModelInfo& m, const fs::path& path) {
    auto f = read_validated_gguf(path);
    m.format = "gguf";
    m.file_bytes = f.file_bytes;
    m.architecture = f.get_string("general.architecture").value_or("");
    m.name = f.get_string("general.name").value_or("");
    if (auto ft = f.get_uint("general.file_type")) m.file_type = file_type_name(static_cast<uint32_t>(*ft));
    m.n_params = f.n_params();
    m.n_tensors = f.tensors.size();
    m.weights_bytes = f.weights_bytes();
    for (const auto& t : f.tensors) {
        const std::string type(ggml_type_info(t.ggml_type)->name);
        m.tensor_type_counts[type] += 1;
        m.tensor_type_bytes[type] += t.n_bytes;
    }
    if (m.file_type.empty() && !m.tensor_type_bytes.empty()) {
        const auto most = std::max_element(m.tensor_type_bytes.begin(), m.tensor_type_bytes.end(),
                                           [](const auto& x, const auto& y) { return x.second < y.second; });
        m.file_type = fmt::format("{} (guessed: no general.file_type; most weight bytes)", most->first);
    }
    const std::string& a = m.architecture;
    m.context_length = f.get_uint(a + ".context_length");
    m.n_embd = f.get_uint(a + ".embedding_length");
    m.n_layer = f.get_uint(a + ".block_count");
    m.n_head = f.get_uint(a + ".attention.head_count");
    m.n_head_kv = f.get_uint(a + ".attention.head_count_kv");
    if (!m.n_head_kv) m.n_head_kv = m.n_head;
    m.n_vocab = f.get_uint(a + ".vocab_size");
    if (const auto* tokens = f.find("tokenizer.ggml.tokens"); !m.n_vocab && tokens) m.n_vocab = tokens->array_count;
    m.tokenizer_model = f.get_string("tokenizer.ggml.model").value_or("");
    add_gguf_evidence(m.evidence, f);
    if (m.evidence.name.empty()) m.evidence.name = path.filename().string();
    if (m.n_layer && m.n_embd) m.memory_shape = memory_shape_from_gguf(f);
    m.files_read.push_back(path.string());
    m.gguf = std::move(f);
}

void from_config(ModelInfo& m, const fs::path& config_path) {
    const std::string text = slurp(config_path, 16u << 20);
    m.files_read.push_back(config_path.string());
    m.evidence = evidence_from_config_json(text, config_path.string());
    const auto j = detail::parse_json(text, config_path.string(), false);
    m.architecture = m.evidence.model_type;
    if (m.evidence.name.empty()) m.evidence.name = config_path.parent_path().filename().string();
    m.name = m.evidence.name;
    if (auto it = j.find("torch_dtype"); it != j.end() && it->is_string()) m.file_type = it->get<std::string>();
    if (auto it = j.find("dtype"); m.file_type.empty() && it != j.end() && it->is_string())
        m.file_type = it->get<std::string>();
    m.context_length = first_uint(j, {"max_position_embeddings", "n_positions", "seq_length", "max_seq_len"});
    m.n_embd = first_uint(j, {"hidden_size", "n_embd", "d_model", "dim"});
    m.n_layer = first_uint(j, {"num_hidden_layers", "n_layer", "num_layers", "n_layers"});
    m.n_head = first_uint(j, {"num_attention_heads", "n_head", "num_heads", "n_heads"});
    m.n_head_kv = first_uint(j, {"num_key_value_heads", "n_head_kv", "num_kv_heads"});
    if (!m.n_head_kv) m.n_head_kv = m.n_head;
    m.n_vocab = first_uint(j, {"vocab_size"});
    if (m.n_layer && m.n_embd && m.n_head) {
        MemoryModelShape s;
        s.n_layer = static_cast<uint32_t>(*m.n_layer);
        s.n_embd = static_cast<uint32_t>(*m.n_embd);
        s.n_head = static_cast<uint32_t>(*m.n_head);
        s.n_head_kv = static_cast<uint32_t>(m.n_head_kv.value_or(*m.n_head));
        const auto hd = first_uint(j, {"head_dim"}).value_or(*m.n_embd / std::max<uint64_t>(*m.n_head, 1));
        s.head_dim_k = s.head_dim_v = static_cast<uint32_t>(hd);
        s.n_ff = static_cast<uint32_t>(first_uint(j, {"intermediate_size", "n_inner", "ffn_dim"}).value_or(0));
        s.n_vocab = static_cast<uint32_t>(m.n_vocab.value_or(0));
        s.n_ctx_train = static_cast<uint32_t>(m.context_length.value_or(0));
        m.memory_shape = s;
    }
}

void add_safetensors(ModelInfo& m, const fs::path& dir) {
    std::vector<fs::path> shards;
    const auto index = dir / "model.safetensors.index.json";
    if (fs::exists(index)) {
        const auto j = detail::parse_json(slurp(index, 64u << 20), index.string(), true);
        m.files_read.push_back(index.string());
        const auto wm = j.find("weight_map");
        if (wm == j.end() || !wm->is_object())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: no weight_map object", index.string()));
        std::set<std::string> names;
        for (const auto& [tensor, file] : wm->items()) {
            if (!file.is_string())
                throw Error(ErrorKind::invalid_input,
                            fmt::format("{}: weight_map['{}'] is not a file name", index.string(), tensor));
            const auto f = file.get<std::string>();
            if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
                throw Error(ErrorKind::invalid_input,
                            fmt::format("{}: shard name '{}' leaves the model directory", index.string(), f));
            names.insert(f);
        }
        for (const auto& n : names) shards.push_back(dir / n);
    } else {
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".safetensors") shards.push_back(entry.path());
        std::sort(shards.begin(), shards.end());
    }
    for (const auto& shard : shards) {
        const auto st = read_safetensors(shard);
        m.files_read.push_back(shard.string());
        m.file_bytes += st.file_bytes;
        m.n_params += st.n_params();
        m.n_tensors += st.tensors.size();
        for (const auto& t : st.tensors) {
            m.weights_bytes += t.end - t.begin;
            m.tensor_type_counts[t.dtype] += 1;
            m.tensor_type_bytes[t.dtype] += t.end - t.begin;
        }
    }
    if (m.memory_shape) m.memory_shape->weights_bytes = m.weights_bytes;
}

void add_tokenizer(ModelInfo& m, const fs::path& dir) {
    if (const auto tj = dir / "tokenizer.json"; fs::exists(tj)) {
        const auto j = detail::parse_json(slurp(tj, 256u << 20), tj.string(), false);
        m.files_read.push_back(tj.string());
        if (auto mo = j.find("model"); mo != j.end() && mo->is_object())
            if (auto t = mo->find("type"); t != mo->end() && t->is_string()) m.tokenizer_model = t->get<std::string>();
        if (m.tokenizer_model.empty()) m.tokenizer_model = "present (type not stated)";
    }
    if (const auto tc = dir / "tokenizer_config.json"; fs::exists(tc)) {
        const auto j = detail::parse_json(slurp(tc, 64u << 20), tc.string(), false);
        m.files_read.push_back(tc.string());
        if (auto c = j.find("tokenizer_class"); c != j.end() && c->is_string())
            m.tokenizer_class = c->get<std::string>();
    }
    if (const auto gc = dir / "generation_config.json"; fs::exists(gc)) {
        (void)detail::parse_json(slurp(gc, 16u << 20), gc.string(), false);
        m.files_read.push_back(gc.string());
        m.has_generation_config = true;
    }
}

}  // namespace

ModelInfo inspect_model(const std::filesystem::path& path) {
    ModelInfo m;
    m.path = path.string();
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        m.format = "hf_directory";
        const auto config = path / "config.json";
        if (!fs::exists(config))
            throw Error(ErrorKind::invalid_input, fmt::format("{}: no config.json in this model directory", m.path));
        from_config(m, config);
        add_safetensors(m, path);
        add_tokenizer(m, path);
        return m;
    }
    if (!fs::exists(path, ec)) throw Error(ErrorKind::invalid_input, fmt::format("{}: no such file", m.path));
    if (has_gguf_magic(path)) {
        from_gguf(m, path);
        return m;
    }
    if (path.extension() == ".json") {
        m.format = "config_json";
        from_config(m, path);
        return m;
    }
    throw Error(ErrorKind::invalid_input,
                fmt::format("{}: neither a GGUF file, a model directory nor a config.json", m.path));
}

}  // namespace accel::model
