// Validation before llama.cpp sees a file: the pinned llama.cpp (de3ff815ea7d) ends the process on a failed
// GGML_ASSERT and trusts some values it never checks, so each rule here mirrors one such place in
// llama-model.cpp, llama-vocab.cpp, llama-model-loader.cpp or ggml. docs/model.md lists the rules and why.
#include "accel/model/gguf_validate.h"

#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "accel/core/error.h"

namespace accel::model {

namespace {

constexpr uint32_t max_layers = 512;    // LLAMA_MAX_LAYERS
constexpr uint32_t max_experts = 1024;  // LLAMA_MAX_EXPERTS
constexpr int32_t max_token_type = 6;   // LLAMA_TOKEN_TYPE_BYTE; 0 (undefined) .. 6
constexpr uint64_t no_token = 0xffffffffu;  // a special-token id of -1 as u32: "none"

// What llama.cpp's typed getters accept: get_key<uint32_t> wants exactly u32, get_key<float> f32, and
// get_key_or_arr one u32 or an array of u32/i32 with one value per layer.
enum class Want : uint8_t { u32, f32, boolean, string, u32_or_array, string_array };

struct KeyRule {
    std::string_view key;  // after "<arch>." when arch_prefixed
    bool arch_prefixed;
    Want want;
};

constexpr std::array<KeyRule, 39> key_rules = {{
    {"context_length", true, Want::u32},
    {"embedding_length", true, Want::u32},
    {"block_count", true, Want::u32},
    {"feed_forward_length", true, Want::u32_or_array},
    {"attention.head_count", true, Want::u32_or_array},
    {"attention.head_count_kv", true, Want::u32_or_array},
    {"attention.key_length", true, Want::u32},
    {"attention.value_length", true, Want::u32},
    {"rope.dimension_count", true, Want::u32},
    {"expert_count", true, Want::u32},
    {"expert_used_count", true, Want::u32_or_array},
    {"expert_group_count", true, Want::u32},
    {"expert_group_used_count", true, Want::u32},
    {"nextn_predict_layers", true, Want::u32},
    {"vocab_size", true, Want::u32},
    {"pooling_type", true, Want::u32},
    {"attention.causal", true, Want::boolean},
    {"attention.layer_norm_epsilon", true, Want::f32},
    {"attention.layer_norm_rms_epsilon", true, Want::f32},
    {"rope.freq_base", true, Want::f32},
    {"rope.scaling.factor", true, Want::f32},
    {"rope.scaling.type", true, Want::string},
    {"tokenizer.ggml.pre", false, Want::string},
    {"tokenizer.ggml.merges", false, Want::string_array},
    {"tokenizer.ggml.add_bos_token", false, Want::boolean},
    {"tokenizer.ggml.add_eos_token", false, Want::boolean},
    {"tokenizer.ggml.add_sep_token", false, Want::boolean},
    {"tokenizer.ggml.add_space_prefix", false, Want::boolean},
    {"tokenizer.ggml.bos_token_id", false, Want::u32},
    {"tokenizer.ggml.eos_token_id", false, Want::u32},
    {"tokenizer.ggml.eot_token_id", false, Want::u32},
    {"tokenizer.ggml.eom_token_id", false, Want::u32},
    {"tokenizer.ggml.unknown_token_id", false, Want::u32},
    {"tokenizer.ggml.seperator_token_id", false, Want::u32},
    {"tokenizer.ggml.padding_token_id", false, Want::u32},
    {"tokenizer.ggml.mask_token_id", false, Want::u32},
    {"tokenizer.ggml.fim_pre_token_id", false, Want::u32},
    {"tokenizer.ggml.fim_suf_token_id", false, Want::u32},
    {"tokenizer.ggml.fim_mid_token_id", false, Want::u32},
}};

// Special-token keys whose ids llama-vocab.cpp looks up in its token table.
constexpr std::array<std::string_view, 17> special_token_keys = {
    "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",     "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.eom_token_id",     "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.mask_token_id",    "tokenizer.ggml.fim_pre_token_id",
    "tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.fim_pad_token_id",
    "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id", "tokenizer.ggml.prefix_token_id",
    "tokenizer.ggml.suffix_token_id",  "tokenizer.ggml.middle_token_id",
};

constexpr std::array<std::string_view, 12> tokenizer_models = {
    "none", "no_vocab", "llama", "bert", "gpt2", "hybriddna", "whitespace", "t5", "rwkv", "test", "plamo2", "gemma4"};

constexpr std::array<std::string_view, 4> rope_scaling_types = {"none", "linear", "yarn", "longrope"};

// Architectures whose tensors follow the plain transformer layout checked by check_shapes (q/k/v/output and
// up/gate/down projections sized by the hyperparameters); others get the generic checks only.
constexpr std::array<std::string_view, 6> plain_layout_archs = {"llama", "qwen2", "qwen3", "starcoder2", "gpt2",
                                                                "bert"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view s) {
    for (const auto& x : list)
        if (x == s) return true;
    return false;
}

std::string shown(std::string_view s) {
    std::string out;
    for (const char ch : s.substr(0, 40)) {
        const auto c = static_cast<unsigned char>(ch);
        out += (c >= 0x20 && c < 0x7f) ? std::string(1, ch) : fmt::format("\\x{:02x}", c);
    }
    return "'" + out + (s.size() > 40 ? "...'" : "'");
}

bool is_byte_token_text(std::string_view t) {
    auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
    return t.size() == 6 && t.substr(0, 3) == "<0x" && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// The layer index of a "blk.<N>.<what>" tensor name and the <what>; nullopt for other names.
std::optional<std::pair<uint64_t, std::string_view>> block_of(std::string_view name) {
    if (name.rfind("blk.", 0) != 0) return std::nullopt;
    const auto dot = name.find('.', 4);
    if (dot == std::string_view::npos || dot == 4 || dot - 4 > 9) return std::nullopt;
    uint64_t layer = 0;
    for (const char c : name.substr(4, dot - 4)) {
        if (c < '0' || c > '9') return std::nullopt;
        layer = layer * 10 + static_cast<uint64_t>(c - '0');
    }
    return std::make_pair(layer, name.substr(dot + 1));
}

class Validator {
public:
    Validator(const GgufFile& file, std::span<const std::byte> bytes) : f_(file), bytes_(bytes) {}

    void run() {
        arch_ = f_.get_string("general.architecture").value_or("");
        check_key_types();
        check_tensor_dims();
        check_tokenizer();
        check_hparams();
        check_shapes();
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", f_.source, what));
    }

    // --- reading arrays in place (the reader keeps only a preview) ---

    const std::byte* at(uint64_t pos, uint64_t n) const {
        if (pos > bytes_.size() || n > bytes_.size() - pos) fail("array data lies outside the file (reader mismatch)");
        return bytes_.data() + pos;
    }

    template <typename T>
    T scalar_at(uint64_t pos) const {
        T v;
        std::memcpy(&v, at(pos, sizeof(T)), sizeof(T));
        return v;
    }

    template <typename Fn>
    void for_each_string(const GgufValue& v, Fn&& fn) const {
        uint64_t pos = v.array_data_pos;
        for (uint64_t k = 0; k < v.array_count; ++k) {
            const auto n = scalar_at<uint64_t>(pos);
            pos += 8;
            fn(k, std::string_view(reinterpret_cast<const char*>(at(pos, n)), static_cast<size_t>(n)));
            pos += n;
        }
    }

    // An array of 4-byte integers, element k.
    int64_t int32_element(const GgufValue& v, uint64_t k) const {
        const uint64_t pos = v.array_data_pos + 4 * k;
        if (v.array_type == GgufType::i32) return scalar_at<int32_t>(pos);
        return scalar_at<uint32_t>(pos);
    }

    const GgufValue* arch_key(std::string_view suffix) const { return f_.find(arch_ + "." + std::string(suffix)); }

    std::optional<uint32_t> u32_key(const std::string& key) const {
        const auto* v = f_.find(key);
        if (v == nullptr) return std::nullopt;
        return static_cast<uint32_t>(v->u);
    }
    std::optional<uint32_t> arch_u32(std::string_view suffix) const {
        return u32_key(arch_ + "." + std::string(suffix));
    }

    // --- rules ---

    void check_key_types() const {
        for (const auto& r : key_rules) {
            if (r.arch_prefixed && arch_.empty()) continue;
            const std::string key = r.arch_prefixed ? arch_ + "." + std::string(r.key) : std::string(r.key);
            const auto* v = f_.find(key);
            if (v == nullptr) continue;
            const bool is_arr = v->type == GgufType::array;
            bool ok = false;
            std::string_view want;
            switch (r.want) {
                case Want::u32:
                    ok = v->type == GgufType::u32;
                    want = "u32";
                    break;
                case Want::f32:
                    ok = v->type == GgufType::f32;
                    want = "f32";
                    break;
                case Want::boolean:
                    ok = v->type == GgufType::boolean;
                    want = "bool";
                    break;
                case Want::string:
                    ok = v->type == GgufType::string;
                    want = "string";
                    break;
                case Want::u32_or_array:
                    ok = v->type == GgufType::u32 ||
                         (is_arr && (v->array_type == GgufType::u32 || v->array_type == GgufType::i32));
                    want = "u32 or an array of u32/i32 (one per layer)";
                    break;
                case Want::string_array:
                    ok = is_arr && v->array_type == GgufType::string;
                    want = "an array of strings";
                    break;
            }
            if (!ok)
                fail(fmt::format("metadata key '{}' has type {}{}, llama.cpp expects {}", key, to_string(v->type),
                                 is_arr ? fmt::format(" of {}", to_string(v->array_type)) : "", want));
        }
    }

    // ggml asserts every dimension of a tensor it creates is at least 1 (llama-model-loader create_tensor).
    void check_tensor_dims() const {
        for (const auto& t : f_.tensors)
            for (size_t d = 0; d < t.shape.size(); ++d)
                if (t.shape[d] == 0) fail(fmt::format("tensor '{}' dimension {} is 0 (every dimension must be >= 1)", t.name, d));
    }

    void check_tokenizer() {
        const auto model = f_.get_string("tokenizer.ggml.model");
        if (!model) return;  // llama.cpp refuses the file itself (a required key), and non-LLM files have none
        if (!contains(tokenizer_models, *model))
            fail(fmt::format("tokenizer.ggml.model {} is not a tokenizer llama.cpp knows", shown(*model)));
        if (*model == "none" || *model == "no_vocab") return;

        const auto* tokens = f_.find("tokenizer.ggml.tokens");
        if (tokens == nullptr) fail("tokenizer.ggml.tokens is missing (the vocabulary)");
        if (tokens->array_count == 0) fail("tokenizer.ggml.tokens is empty");
        if (tokens->array_count > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
            fail(fmt::format("tokenizer.ggml.tokens has {} tokens, over INT32_MAX", tokens->array_count));
        n_tokens_ = static_cast<uint32_t>(tokens->array_count);

        // Unique texts: llama-vocab.cpp asserts id_to_token.size() == token_to_id.size(). It renames an empty token
        // to "[EMPTY_<i>]" first, so the check does the same.
        token_ids_.reserve(n_tokens_);
        for_each_string(*tokens, [&](uint64_t k, std::string_view text) {
            if (text.empty()) text = renamed_.emplace_back(fmt::format("[EMPTY_{}]", k));
            const auto [it, inserted] = token_ids_.emplace(text, static_cast<uint32_t>(k));
            if (!inserted)
                fail(fmt::format("tokenizer.ggml.tokens: token {} {} duplicates token {}", k, shown(text),
                                 it->second));
        });

        if (const auto* scores = f_.find("tokenizer.ggml.scores")) {
            if (scores->array_count != n_tokens_)
                fail(fmt::format("tokenizer.ggml.scores has {} entries for {} tokens", scores->array_count, n_tokens_));
            for (uint64_t k = 0; k < scores->array_count; ++k)
                if (std::isnan(scalar_at<float>(scores->array_data_pos + 4 * k)))
                    fail(fmt::format("tokenizer.ggml.scores: score of token {} is NaN", k));
        }
        if (const auto* types = f_.find("tokenizer.ggml.token_type")) {
            if (types->array_count != n_tokens_)
                fail(fmt::format("tokenizer.ggml.token_type has {} entries for {} tokens", types->array_count,
                                 n_tokens_));
            for (uint64_t k = 0; k < types->array_count; ++k) {
                const int64_t t = int32_element(*types, k);
                if (t < 0 || t > max_token_type)
                    fail(fmt::format("tokenizer.ggml.token_type: token {} has type {} (0 to {} allowed)", k, t,
                                     max_token_type));
            }
            // An SPM byte token is read back as the two hex digits of "<0xXX>" (llama-vocab.cpp token_to_byte).
            if (*model == "llama") {
                for_each_string(*tokens, [&](uint64_t k, std::string_view text) {
                    if (int32_element(*types, k) == max_token_type && !is_byte_token_text(text))
                        fail(fmt::format("tokenizer.ggml.tokens: token {} {} has type byte but is not <0xXX>", k,
                                         shown(text)));
                });
            }
        }

        const bool bpe = *model == "gpt2" || *model == "hybriddna" || *model == "whitespace" || *model == "gemma4";
        if (const auto* merges = f_.find("tokenizer.ggml.merges"); merges != nullptr && bpe) {
            for_each_string(*merges, [&](uint64_t k, std::string_view m) {
                const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
                if (space == std::string_view::npos)
                    fail(fmt::format("tokenizer.ggml.merges: merge {} {} is not two tokens separated by a space", k,
                                     shown(m)));
                for (const auto part : {m.substr(0, space), m.substr(space + 1)})
                    if (token_ids_.find(part) == token_ids_.end())
                        fail(fmt::format("tokenizer.ggml.merges: merge {} {} names {}, which is not a token", k,
                                         shown(m), shown(part)));
            });
        }

        for (const auto key : special_token_keys) {
            const auto* v = f_.find(std::string(key));
            if (v == nullptr) continue;
            const auto id = v->as_uint();
            if (id && *id == no_token) continue;  // "none", as converters write it; llama.cpp keeps its default
            if (!id || *id >= n_tokens_)
                fail(fmt::format("{} is {}, outside the vocabulary of {} tokens", key, v->to_text(), n_tokens_));
        }
        check_added_tokens(*model, bpe);
    }

    // llama-vocab.cpp asserts that the token it adds around a text (BOS, EOS, SEP) exists. Its defaults per tokenizer
    // (llama: BOS 1 added; bert: BOS 101 and SEP 102 always added; t5: EOS 1 added; BPE: BOS/EOS 11, BOS added for
    // the llama3-style pre-tokenizers, always for gemma4) are disabled when outside the vocabulary, so a small
    // vocabulary without the key aborts the first tokenize.
    void check_added_tokens(const std::string& model, bool bpe) const {
        struct Added {
            std::string_view what;
            std::string_view id_key;
            std::optional<std::string_view> flag_key;  // nullopt: always added
            bool flag_default;
            int64_t default_id;
        };
        static constexpr std::array<std::string_view, 11> bos_pre = {
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
            "tekken", "chameleon"};
        constexpr std::string_view bos_key = "tokenizer.ggml.bos_token_id";
        constexpr std::string_view eos_key = "tokenizer.ggml.eos_token_id";
        constexpr std::string_view add_bos = "tokenizer.ggml.add_bos_token";
        constexpr std::string_view add_eos = "tokenizer.ggml.add_eos_token";
        std::vector<Added> added;
        if (model == "llama") {
            added = {{"BOS", bos_key, add_bos, true, 1}, {"EOS", eos_key, add_eos, false, 2}};
        } else if (model == "bert") {
            added = {{"BOS", bos_key, std::nullopt, true, 101},
                     {"SEP", "tokenizer.ggml.seperator_token_id", std::nullopt, true, 102}};
        } else if (model == "t5") {
            added = {{"BOS", bos_key, add_bos, false, -1}, {"EOS", eos_key, add_eos, true, 1}};
        } else if (model == "gemma4") {
            added = {{"BOS", bos_key, std::nullopt, true, -1}, {"EOS", eos_key, add_eos, false, -1}};
        } else if (bpe) {
            const bool bos_default = contains(bos_pre, f_.get_string("tokenizer.ggml.pre").value_or(""));
            added = {{"BOS", bos_key, add_bos, bos_default, 11}, {"EOS", eos_key, add_eos, false, 11}};
        }
        for (const auto& a : added) {
            bool on = a.flag_default;
            if (a.flag_key)
                if (const auto* flag = f_.find(std::string(*a.flag_key))) on = flag->u != 0;
            if (!on) continue;
            const auto* id = f_.find(std::string(a.id_key));
            if (id != nullptr && id->as_uint() != no_token) continue;  // in range, checked above
            if (a.default_id < 0 || a.default_id >= static_cast<int64_t>(n_tokens_))
                fail(fmt::format("the {} tokenizer adds a {} token, but {} is {} and {}", model, a.what, a.id_key,
                                 id == nullptr ? "missing" : "none (4294967295)",
                                 a.default_id < 0 ? std::string("it has no default")
                                                  : fmt::format("the default id {} is outside the vocabulary of {} "
                                                                "tokens", a.default_id, n_tokens_)));
        }
    }

    // One value per layer: a u32 repeated, or an array of exactly n_layer values (llama.cpp get_key_or_arr).
    std::vector<uint32_t> per_layer(std::string_view suffix, uint32_t n_layer, std::vector<uint32_t> fallback) const {
        const auto* v = arch_key(suffix);
        if (v == nullptr) return fallback;
        const std::string key = arch_ + "." + std::string(suffix);
        if (v->type != GgufType::array) return std::vector<uint32_t>(n_layer, static_cast<uint32_t>(v->u));
        if (v->array_count != n_layer)
            fail(fmt::format("{} has {} values for {} layers", key, v->array_count, n_layer));
        std::vector<uint32_t> out(n_layer);
        for (uint32_t l = 0; l < n_layer; ++l) {
            const int64_t x = int32_element(*v, l);
            if (x < 0) fail(fmt::format("{}[{}] is negative ({})", key, l, x));
            out[l] = static_cast<uint32_t>(x);
        }
        return out;
    }

    // llama-model.cpp load_hparams: GGML_ASSERTs on layer and expert counts, the rope scaling name; and the values
    // the graph divides by or reshapes with (heads, head sizes).
    void check_hparams() {
        if (arch_.empty() || arch_ == "clip") return;
        const auto n_layer = arch_u32("block_count");
        if (!n_layer) return;  // a required key: llama.cpp refuses the file itself
        const std::string p = arch_ + ".";
        if (*n_layer == 0 || *n_layer > max_layers)
            fail(fmt::format("{}block_count is {} (1 to {} allowed)", p, *n_layer, max_layers));
        n_layer_ = *n_layer;
        if (const auto nextn = arch_u32("nextn_predict_layers"); nextn && *nextn > n_layer_)
            fail(fmt::format("{}nextn_predict_layers {} exceeds block_count {}", p, *nextn, n_layer_));

        const auto n_embd = arch_u32("embedding_length");
        if (n_embd && *n_embd == 0) fail(fmt::format("{}embedding_length is 0", p));
        n_embd_ = n_embd.value_or(0);
        if (const auto ctx = arch_u32("context_length"); ctx && *ctx == 0) fail(fmt::format("{}context_length is 0", p));

        check_experts(p);

        if (const auto s = f_.get_string(p + "rope.scaling.type"); s && !contains(rope_scaling_types, *s))
            fail(fmt::format("{}rope.scaling.type {} is not none, linear, yarn or longrope", p, shown(*s)));

        n_head_ = per_layer("attention.head_count", n_layer_, std::vector<uint32_t>(n_layer_, 0));
        n_head_kv_ = per_layer("attention.head_count_kv", n_layer_, n_head_);
        n_ff_ = per_layer("feed_forward_length", n_layer_, std::vector<uint32_t>(n_layer_, 0));
        for (uint32_t l = 0; l < n_layer_; ++l) {
            const uint32_t h = n_head_[l];
            const uint32_t kv = n_head_kv_[l];
            if (kv > 0 && h == 0)
                fail(fmt::format("layer {}: {} key/value heads but no attention heads", l, kv));
            if (kv > 0 && h % kv != 0)
                fail(fmt::format("layer {}: attention.head_count {} is not a multiple of attention.head_count_kv {}",
                                 l, h, kv));
        }
        const uint32_t h0 = n_head_.empty() ? 0 : n_head_[0];
        if (h0 == 0) return;
        // llama.cpp: head size = n_embd / n_head unless key_length/value_length say otherwise.
        const auto key_len = arch_u32("attention.key_length");
        const auto value_len = arch_u32("attention.value_length");
        if ((!key_len || !value_len) && n_embd_ % h0 != 0)
            fail(fmt::format("{}embedding_length {} is not a multiple of attention.head_count {}", p, n_embd_, h0));
        head_k_ = key_len.value_or(n_embd_ / h0);
        head_v_ = value_len.value_or(n_embd_ / h0);
        if (head_k_ == 0 || head_v_ == 0) fail(fmt::format("{}attention key/value length is 0", p));
        if (const auto rot = arch_u32("rope.dimension_count"); rot && *rot > head_k_)
            fail(fmt::format("{}rope.dimension_count {} exceeds the head size {}", p, *rot, head_k_));
    }

    void check_experts(const std::string& p) const {
        const uint32_t n_expert = arch_u32("expert_count").value_or(0);
        const uint32_t groups = arch_u32("expert_group_count").value_or(0);
        const uint32_t group_used = arch_u32("expert_group_used_count").value_or(0);
        uint32_t used = 0;
        for (const auto u : per_layer("expert_used_count", n_layer_, {})) used = std::max(used, u);
        if ((arch_ == "hunyuan-dense" || arch_ == "hunyuan_vl") && n_expert <= 1) return;  // llama.cpp zeroes them
        if (n_expert > max_experts)
            fail(fmt::format("{}expert_count {} exceeds llama.cpp's limit of {}", p, n_expert, max_experts));
        if (used > n_expert) fail(fmt::format("{}expert_used_count {} exceeds expert_count {}", p, used, n_expert));
        if (n_expert == 0) {
            if (groups != 0) fail(fmt::format("{}expert_group_count {} without experts", p, groups));
            return;
        }
        if (used == 0) fail(fmt::format("{}expert_count is {} but expert_used_count is 0", p, n_expert));
        if (groups >= n_expert)
            fail(fmt::format("{}expert_group_count {} is not below expert_count {}", p, groups, n_expert));
        if (groups > 1) {
            if (n_expert % groups != 0)
                fail(fmt::format("{}expert_count {} is not a multiple of expert_group_count {}", p, n_expert, groups));
            if (group_used == 0 || group_used >= groups)
                fail(fmt::format("{}expert_group_used_count {} must be between 1 and expert_group_count {} - 1", p,
                                 group_used, groups));
        }
    }

    // Hyperparameters against tensor shapes. llama.cpp checks each tensor it creates against the shape it expects
    // and throws, but only after asserting on shapes derived from broken hyperparameters; accel says which
    // hyperparameter disagrees with which tensor.
    void check_shapes() const {
        for (const auto& t : f_.tensors) {
            const auto blk = block_of(t.name);
            if (blk && n_layer_ > 0 && blk->first >= n_layer_)
                fail(fmt::format("tensor '{}' is for layer {}, but block_count is {}", t.name, blk->first, n_layer_));
        }
        if (!contains(plain_layout_archs, arch_) || n_embd_ == 0 || n_head_.size() != n_layer_) return;
        auto expect = [&](const GgufTensor& t, const std::vector<uint64_t>& want, std::string_view from) {
            std::vector<uint64_t> padded = want;
            std::vector<uint64_t> got = t.shape;
            while (padded.size() < got.size()) padded.push_back(1);
            while (got.size() < padded.size()) got.push_back(1);
            if (got != padded)
                fail(fmt::format("tensor '{}' has shape [{}], but {} give [{}]", t.name, fmt::join(t.shape, ", "),
                                 from, fmt::join(want, ", ")));
        };
        for (const auto& t : f_.tensors) {
            if (t.name == "token_embd.weight" || t.name == "output.weight") {
                if (n_tokens_ > 0) expect(t, {n_embd_, n_tokens_}, "embedding_length and the token count");
                continue;
            }
            if (t.name == "output_norm.weight") {
                expect(t, {n_embd_}, "embedding_length");
                continue;
            }
            const auto blk = block_of(t.name);
            if (!blk) continue;
            const auto l = static_cast<size_t>(blk->first);
            const std::string_view what = blk->second;
            const uint64_t h = n_head_[l];
            const uint64_t kv = n_head_kv_[l];
            const uint64_t ff = n_ff_[l];
            if (what == "attn_q.weight" && h > 0) expect(t, {n_embd_, h * head_k_}, "embedding_length and head_count");
            if (what == "attn_k.weight" && kv > 0)
                expect(t, {n_embd_, kv * head_k_}, "embedding_length and head_count_kv");
            if (what == "attn_v.weight" && kv > 0)
                expect(t, {n_embd_, kv * head_v_}, "embedding_length and head_count_kv");
            if (what == "attn_output.weight" && h > 0)
                expect(t, {h * head_v_, n_embd_}, "head_count and embedding_length");
            if ((what == "ffn_up.weight" || what == "ffn_gate.weight") && ff > 0)
                expect(t, {n_embd_, ff}, "embedding_length and feed_forward_length");
            if (what == "ffn_down.weight" && ff > 0) expect(t, {ff, n_embd_}, "feed_forward_length and embedding_length");
            if (what == "attn_norm.weight" || what == "ffn_norm.weight") expect(t, {n_embd_}, "embedding_length");
        }
    }

    const GgufFile& f_;
    std::span<const std::byte> bytes_;
    std::string arch_;
    uint32_t n_tokens_ = 0;
    std::unordered_map<std::string_view, uint32_t> token_ids_;
    std::deque<std::string> renamed_;  // storage for the renamed empty tokens that token_ids_ points into
    uint32_t n_layer_ = 0;
    uint64_t n_embd_ = 0;
    uint64_t head_k_ = 0;
    uint64_t head_v_ = 0;
    std::vector<uint32_t> n_head_;
    std::vector<uint32_t> n_head_kv_;
    std::vector<uint32_t> n_ff_;
};

}  // namespace

void validate_gguf(const GgufFile& file, std::span<const std::byte> bytes) { Validator(file, bytes).run(); }

GgufFile read_validated_gguf(const std::filesystem::path& path) {
    const MappedFile mapped(path);
    GgufFile f = parse_gguf(mapped.bytes(), path.string());
    validate_gguf(f, mapped.bytes());
    return f;
}

}  // namespace accel::model
