// BertModel, BertForMaskedLM and BertForSequenceClassification -> GGUF "bert", as the pinned llama.cpp's
// convert_hf_to_gguf.py converts them (conversion/bert.py class BertModel, conversion/base.py TextModel, gguf-py's
// tensor_mapping.py): the encoder. The pooler and the masked-LM head (cls.*) are dropped, as that converter drops
// them: llama.cpp's BERT gives token states and its own pooling (mean, cls, last). BertForSequenceClassification
// keeps its head (docs/convert.md, intended differences): the pooler as `cls` and the classifier as `cls.output`,
// with the labels and pooling "rank", which is llama.cpp's graph for classifier(tanh(dense(CLS state))) -- the
// pinned converter drops the pooler, so its file computes classifier(CLS state), not transformers' logits.
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "hf_arch.h"
#include "json_strict.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Hparams {
    uint32_t n_vocab = 0, n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_ctx = 0, n_token_types = 0;
    float norm_eps = 1e-12f;  // BertConfig's default layer_norm_eps
    std::optional<uint32_t> pooling;  // llama.cpp's pooling type: 1 mean, 2 cls, 3 last (sentence-transformers), 4 rank
    std::vector<std::string> labels;  // BertForSequenceClassification: id2label in id order
};

// config.json's id2label ({"0": "negative", ...}) in id order; every id from 0 to n - 1 exactly once.
std::vector<std::string> read_labels(const json& c, const std::string& source) {
    if (!c.contains("id2label") || !c["id2label"].is_object() || c["id2label"].empty())
        throw Error(ErrorKind::invalid_input, source + ": BertForSequenceClassification needs id2label");
    const json& m = c["id2label"];
    std::vector<std::string> labels(m.size());
    std::vector<bool> seen(m.size(), false);
    for (const auto& [key, value] : m.items()) {
        size_t id = 0;
        try {
            size_t used = 0;
            id = std::stoul(key, &used);
            if (used != key.size()) throw std::invalid_argument(key);
        } catch (const std::exception&) {
            throw Error(ErrorKind::invalid_input, fmt::format("{}: id2label key '{}' is not a label id", source, key));
        }
        if (id >= labels.size() || seen[id] || !value.is_string())
            throw Error(ErrorKind::invalid_input, fmt::format("{}: id2label is not the labels 0..{}", source, labels.size() - 1));
        seen[id] = true;
        labels[id] = value.get<std::string>();
    }
    return labels;
}

// sentence-transformers' modules.json names a Pooling module whose config.json gives the mode
// (TextModel._try_set_pooling_type). No modules.json: no pooling key, as the converter.
std::optional<uint32_t> read_pooling(const fs::path& dir) {
    const fs::path modules_path = dir / "modules.json";
    if (!fs::exists(modules_path)) return std::nullopt;
    const json modules = parse_json(read_text_file(modules_path, 1u << 20), modules_path.string(), false);
    for (const auto& m : modules) {
        if (!m.value("type", "").ends_with("Pooling")) continue;
        const std::string sub = m.value("path", "");
        if (sub.find("..") != std::string::npos || sub.starts_with("/"))
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: module path '{}' leaves the folder", modules_path.string(), sub));
        const fs::path cfg_path = dir / sub / "config.json";
        const json cfg = parse_json(read_text_file(cfg_path, 1u << 20), cfg_path.string(), false);
        if (cfg.value("pooling_mode_mean_tokens", false)) return 1;
        if (cfg.value("pooling_mode_cls_token", false)) return 2;
        if (cfg.value("pooling_mode_lasttoken", false)) return 3;
        const std::string mode = cfg.value("pooling_mode", "");
        if (mode == "mean") return 1;
        if (mode == "cls") return 2;
        if (mode == "lasttoken") return 3;
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a pooling llama.cpp does not have (it has mean, cls and "
                                                          "lasttoken)", cfg_path.string()));
    }
    return std::nullopt;
}

Hparams read_hparams(const HfInput& in) {
    const json& c = in.config;
    const std::string& source = in.config_source;
    Hparams h;
    h.n_vocab = get_u32(c, "vocab_size", source);
    h.n_embd = get_u32(c, "hidden_size", source);
    h.n_ff = get_u32(c, "intermediate_size", source);
    h.n_layer = get_u32(c, "num_hidden_layers", source);
    h.n_head = get_u32(c, "num_attention_heads", source);
    h.n_ctx = get_u32(c, "max_position_embeddings", source);
    h.n_token_types = get_u32(c, "type_vocab_size", source, 1);
    if (h.n_embd % h.n_head != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: hidden_size {} is not a multiple of "
                                                          "num_attention_heads {}", source, h.n_embd, h.n_head));
    if (const auto eps = get_f32(c, "layer_norm_eps")) h.norm_eps = *eps;
    const std::string act = c.value("hidden_act", "gelu");
    if (act != "gelu" && act != "gelu_new" && act != "gelu_pytorch_tanh")
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: hidden_act '{}': llama.cpp's BERT uses GELU only", source, act));
    const std::string pos = c.value("position_embedding_type", "absolute");
    if (pos != "absolute")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: position_embedding_type '{}': llama.cpp's BERT has "
                                                          "absolute positions only", source, pos));
    h.pooling = read_pooling(in.dir);
    if (in.hf_arch == "BertForSequenceClassification") {
        h.labels = read_labels(c, source);
        h.pooling = 4;  // rank: the classification head in llama.cpp's graph
    }
    return h;
}

class BertArchitecture final : public HfArchitecture {
public:
    explicit BertArchitecture(const HfInput& in)
        : h_(read_hparams(in)), dir_(in.dir), config_text_(in.config_text), names_(in.source_names) {
        // BertForMaskedLM (and checkpoints saved from it) prefix the encoder with "bert."
        if (names_.contains("bert.embeddings.word_embeddings.weight")) prefix_ = "bert.";
    }

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return h_.n_vocab; }
    HfVocab read_vocab() const override { return read_wordpiece_vocab(dir_, h_.n_vocab, config_text_); }

    bool dropped(const std::string& source) const override {
        return source.ends_with("embeddings.position_ids") ||
               (h_.labels.empty() && source.starts_with(prefix_ + "pooler.")) ||
               source.starts_with("cls.predictions.") || source.starts_with("cls.seq_relationship.");
    }

    std::vector<TensorPlan> plan() const override {
        const Hparams& h = h_;
        std::vector<TensorPlan> p;
        p.push_back({"token_embd.weight", src("embeddings.word_embeddings.weight"), {h.n_vocab, h.n_embd}});
        p.push_back({"token_types.weight", src("embeddings.token_type_embeddings.weight"), {h.n_token_types, h.n_embd},
                     0, true});
        p.push_back({"position_embd.weight", src("embeddings.position_embeddings.weight"), {h.n_ctx, h.n_embd},
                     0, true});
        p.push_back({"token_embd_norm.weight", src("embeddings.LayerNorm.weight"), {h.n_embd}});
        p.push_back({"token_embd_norm.bias", src("embeddings.LayerNorm.bias"), {h.n_embd}});
        for (uint32_t i = 0; i < h.n_layer; ++i) {
            const std::string b = fmt::format("blk.{}.", i), l = fmt::format("encoder.layer.{}.", i);
            static const EncoderBlockNames names{
                {{{"attn_q", "attention.self.query"}, {"attn_k", "attention.self.key"},
                  {"attn_v", "attention.self.value"}, {"attn_output", "attention.output.dense"},
                  {"ffn_up", "intermediate.dense"}, {"ffn_down", "output.dense"}}},
                {{{"attn_output_norm", "attention.output.LayerNorm"}, {"layer_output_norm", "output.LayerNorm"}}}};
            plan_encoder_block(p, b, l, names, h.n_embd, h.n_ff, [this](const std::string& s) { return src(s); });
        }
        if (!h.labels.empty()) {  // the classification head: pooler, then classifier
            const auto n_labels = static_cast<uint64_t>(h.labels.size());
            p.push_back({"cls.weight", src("pooler.dense.weight"), {h.n_embd, h.n_embd}});
            p.push_back({"cls.bias", src("pooler.dense.bias"), {h.n_embd}});
            p.push_back({"cls.output.weight", "classifier.weight", {n_labels, h.n_embd}});
            p.push_back({"cls.output.bias", "classifier.bias", {n_labels}});
        }
        return p;
    }

    void add_metadata(GgufWriter& w) const override {
        const Hparams& h = h_;
        w.add_u32("bert.block_count", h.n_layer);
        w.add_u32("bert.context_length", h.n_ctx);
        w.add_u32("bert.embedding_length", h.n_embd);
        w.add_u32("bert.feed_forward_length", h.n_ff);
        w.add_u32("bert.attention.head_count", h.n_head);
        w.add_f32("bert.attention.layer_norm_epsilon", h.norm_eps);
        w.add_bool("bert.attention.causal", false);
        if (h.pooling) w.add_u32("bert.pooling_type", *h.pooling);
        if (!h.labels.empty()) w.add_strings("bert.classifier.output_labels", h.labels);
        w.add_u32("tokenizer.ggml.token_type_count", h.n_token_types);
    }

private:
    // The source name of an encoder tensor: the "bert." prefix where the checkpoint has one, and the old
    // LayerNorm names (gamma, beta) where it uses them.
    std::string src(const std::string& name) const {
        std::string s = prefix_ + name;
        if (names_.contains(s)) return s;
        for (const auto& [now, old] : {std::pair{".weight", ".gamma"}, std::pair{".bias", ".beta"}}) {
            if (!s.ends_with(now) || s.find("LayerNorm") == std::string::npos) continue;
            const std::string o = s.substr(0, s.size() - std::string(now).size()) + old;
            if (names_.contains(o)) return o;
        }
        return s;
    }

    std::string arch_ = "bert";
    Hparams h_;
    fs::path dir_;
    std::string config_text_;
    const std::set<std::string>& names_;
    std::string prefix_;
};

}  // namespace

std::unique_ptr<HfArchitecture> make_bert_architecture(const HfInput& in) {
    return std::make_unique<BertArchitecture>(in);
}

}  // namespace accel::model::detail
