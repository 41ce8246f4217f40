#include "hf_tokenizer.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "json_strict.h"

namespace accel::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, fmt::format("{}: cannot open", p.string()));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---- tokenizer.model / spiece.model: the few fields of sentencepiece's ModelProto that GGUF needs, read from the
// protobuf wire format by hand. Debian's libsentencepiece-dev would parse it too, but only through its processor
// (which hides the precompiled charsmap unless one also builds against libprotobuf and the generated
// sentencepiece_model.pb.h): two dependencies for five fields of a format that is a dozen lines to walk.

struct Reader {
    const uint8_t* p;
    const uint8_t* end;
    const std::string& source;

    [[noreturn]] void fail() const { throw Error(ErrorKind::invalid_input, source + ": not a valid SentencePiece model"); }
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) fail();
            const uint8_t b = *p++;
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return v;
        }
        fail();
    }
    void skip(uint32_t wire) {
        switch (wire) {
            case 0: varint(); return;
            case 1: need(8); p += 8; return;
            case 2: { const uint64_t n = varint(); need(n); p += n; return; }
            case 5: need(4); p += 4; return;
            default: fail();
        }
    }
    void need(uint64_t n) const {
        if (static_cast<uint64_t>(end - p) < n) fail();
    }
};

struct Piece {
    std::string text;
    float score = 0;
    int32_t type = 1;  // NORMAL
};

// ModelProto: pieces (1) {piece 1, score 2, type 3}; trainer_spec (2) {model_type 3: 1 unigram, 2 BPE};
// normalizer_spec (3) {precompiled_charsmap 2, add_dummy_prefix 3, remove_extra_whitespaces 4}, proto2 defaults.
struct SentencePieceModel {
    std::vector<Piece> pieces;
    int32_t model_type = 1;
    bool add_dummy_prefix = true, remove_extra_whitespaces = true;
    std::vector<uint8_t> precompiled_charsmap;
};

Piece read_piece(Reader m) {
    Piece piece;
    while (m.p < m.end) {
        const uint64_t k = m.varint();
        if (k == ((1u << 3) | 2)) {
            const uint64_t len = m.varint();
            m.need(len);
            piece.text.assign(reinterpret_cast<const char*>(m.p), len);
            m.p += len;
        } else if (k == ((2u << 3) | 5)) {
            m.need(4);
            std::memcpy(&piece.score, m.p, 4);
            m.p += 4;
        } else if (k == ((3u << 3) | 0)) {
            piece.type = static_cast<int32_t>(m.varint());
        } else {
            m.skip(static_cast<uint32_t>(k & 7));
        }
    }
    if (piece.type < 1 || piece.type > 6) m.fail();
    return piece;
}

void read_trainer_spec(Reader m, SentencePieceModel& out) {
    while (m.p < m.end) {
        const uint64_t k = m.varint();
        if (k == ((3u << 3) | 0)) out.model_type = static_cast<int32_t>(m.varint());
        else m.skip(static_cast<uint32_t>(k & 7));
    }
}

void read_normalizer_spec(Reader m, SentencePieceModel& out) {
    while (m.p < m.end) {
        const uint64_t k = m.varint();
        if (k == ((2u << 3) | 2)) {
            const uint64_t len = m.varint();
            m.need(len);
            out.precompiled_charsmap.assign(m.p, m.p + len);
            m.p += len;
        } else if (k == ((3u << 3) | 0)) {
            out.add_dummy_prefix = m.varint() != 0;
        } else if (k == ((4u << 3) | 0)) {
            out.remove_extra_whitespaces = m.varint() != 0;
        } else {
            m.skip(static_cast<uint32_t>(k & 7));
        }
    }
}

SentencePieceModel read_sentencepiece(const fs::path& path) {
    const std::string data = read_text(path);
    const std::string source = path.string();
    Reader r{reinterpret_cast<const uint8_t*>(data.data()), reinterpret_cast<const uint8_t*>(data.data()) + data.size(),
             source};
    SentencePieceModel out;
    while (r.p < r.end) {
        const uint64_t key = r.varint();
        const uint64_t field = key >> 3;
        if ((key & 7) != 2 || field < 1 || field > 3) {
            r.skip(static_cast<uint32_t>(key & 7));
            continue;
        }
        const uint64_t n = r.varint();
        r.need(n);
        const Reader m{r.p, r.p + n, source};
        r.p += n;
        if (field == 1) out.pieces.push_back(read_piece(m));
        else if (field == 2) read_trainer_spec(m, out);
        else read_normalizer_spec(m, out);
    }
    if (out.pieces.empty()) r.fail();
    return out;
}

// convert_hf_to_gguf.py's does_token_look_special
bool looks_special(const std::string& t) {
    auto wrapped = [&](std::string_view a, std::string_view b) {
        return t.size() >= a.size() + b.size() && t.starts_with(a) && t.ends_with(b);
    };
    return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || wrapped("<|", "|>") ||
           wrapped("<\xef\xbd\x9c", "\xef\xbd\x9c>") || wrapped("<unused", ">");
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
}

// The pre-tokenizers accel recognises, by the regex of tokenizer.json's Split step (convert_hf_to_gguf.py hashes the
// tokenization of a test text instead, which ties it to the full vocabulary).
const char* known_pre(const json& pre) {
    static const std::pair<const char*, const char*> regexes[] = {
        {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
         "\\s+(?!\\S)|\\s+",
         "qwen2"},
        {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
         "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
         "llama-bpe"},
    };
    if (!pre.is_object()) return nullptr;
    if (pre.value("type", "") == "ByteLevel" && pre.value("use_regex", false)) return "gpt-2";
    if (pre.value("type", "") != "Sequence" || !pre.contains("pretokenizers")) return nullptr;
    for (const auto& step : pre["pretokenizers"]) {
        if (step.value("type", "") != "Split" || !step.contains("pattern")) continue;
        const std::string rx = step["pattern"].value("Regex", "");
        for (const auto& [text, name] : regexes)
            if (rx == text) return name;
    }
    return nullptr;
}

std::string token_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return {};
}

void read_specials(HfVocab& v, const json& tc, const json& added, const json& config) {
    static const std::pair<const char*, const char*> kinds[] = {{"bos", "bos"}, {"eos", "eos"}, {"unk", "unk"},
                                                                 {"sep", "sep"}, {"pad", "pad"}, {"cls", "cls"},
                                                                 {"mask", "mask"}};
    for (const auto& [kind, key] : kinds) {
        const std::string text = tc.is_object() && tc.contains(std::string(key) + "_token")
                                     ? token_text(tc[std::string(key) + "_token"])
                                     : std::string();
        if (text.empty()) continue;
        std::optional<uint32_t> id;
        for (const auto& a : added)
            if (a.value("content", "") == text && a.contains("id")) id = a["id"].get<uint32_t>();
        for (uint32_t i = 0; !id && i < v.tokens.size(); ++i)
            if (v.tokens[i] == text) id = i;
        if (id && *id < v.tokens.size()) v.special_ids[kind] = *id;
    }
    for (const auto& [kind, key] : kinds) {  // config.json fills what the tokenizer did not say
        const std::string k = std::string(key) + "_token_id";
        if (v.special_ids.contains(kind) || !config.contains(k) || !config[k].is_number_unsigned()) continue;
        const auto id = config[k].get<uint64_t>();
        if (id < v.tokens.size()) v.special_ids[kind] = static_cast<uint32_t>(id);
    }
    if (tc.is_object()) {
        if (tc.contains("add_bos_token") && tc["add_bos_token"].is_boolean()) v.add_bos = tc["add_bos_token"].get<bool>();
        if (tc.contains("add_eos_token") && tc["add_eos_token"].is_boolean()) v.add_eos = tc["add_eos_token"].get<bool>();
        if (tc.contains("chat_template")) {
            const auto& ct = tc["chat_template"];
            if (ct.is_string()) v.chat_template = ct.get<std::string>();
            if (ct.is_array())
                for (const auto& t : ct)
                    if (t.value("name", "") == "default") v.chat_template = t.value("template", "");
        }
    }
}

using TokensById = std::map<uint32_t, std::pair<std::string, bool>>;  // id -> (text, is an added token)

// n_vocab placeholders "[PAD<i>]" of type unused, as convert_hf_to_gguf.py pads a vocabulary.
void pad_vocab(HfVocab& v, uint32_t n_vocab) {
    v.tokens.resize(n_vocab);
    v.types.assign(n_vocab, 5);  // unused
    for (uint32_t i = 0; i < n_vocab; ++i) v.tokens[i] = fmt::format("[PAD{}]", i);
}

// The tokens at their ids with get_vocab_base's types: 1 normal; an added token 3 (control) when special or
// special-looking, else 4 (user-defined, U+2581 turned back into a space). Throws for an id at or past n_vocab.
void place_tokens(HfVocab& v, const TokensById& by_id, const std::map<uint32_t, bool>& added_special,
                  const std::string& source) {
    if (!by_id.empty() && by_id.rbegin()->first >= v.tokens.size())
        throw Error(ErrorKind::invalid_input, fmt::format("{}: token id {} is past config.json's vocab_size {}", source,
                                                          by_id.rbegin()->first, v.tokens.size()));
    for (const auto& [id, entry] : by_id) {
        const auto& [text, is_added] = entry;
        v.tokens[id] = text;
        const auto special = added_special.find(id);
        if (!is_added) {
            v.types[id] = 1;
        } else if ((special != added_special.end() && special->second) || looks_special(text)) {
            v.types[id] = 3;
        } else {
            v.tokens[id] = replace_all(text, "\xe2\x96\x81", " ");
            v.types[id] = 4;
        }
    }
}

}  // namespace

static HfVocab read_vocab(const fs::path& dir, uint32_t n_vocab, const std::string& config_text) {
    HfVocab v;
    const json config = parse_json(config_text, (dir / "config.json").string(), false);
    const fs::path tc_path = dir / "tokenizer_config.json";
    const fs::path tj_path = dir / "tokenizer.json";
    const fs::path spm_path = dir / "tokenizer.model";
    json tc = json::object();
    if (fs::exists(tc_path)) tc = parse_json(read_text(tc_path), tc_path.string(), false);
    json tj;
    if (fs::exists(tj_path)) tj = parse_json(read_text(tj_path), tj_path.string(), false);
    const json added = tj.is_object() && tj.contains("added_tokens") ? tj["added_tokens"] : json::array();

    pad_vocab(v, n_vocab);

    if (fs::exists(spm_path)) {
        // _create_vocab_sentencepiece: the pieces, then tokenizer_config's added_tokens_decoder over them
        const auto pieces = read_sentencepiece(spm_path).pieces;
        if (pieces.size() > n_vocab)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: {} pieces, but config.json's vocab_size is {}",
                                                              spm_path.string(), pieces.size(), n_vocab));
        v.model = "llama";
        v.pre = "default";
        v.scores.assign(n_vocab, -10000.0f);
        for (size_t i = 0; i < pieces.size(); ++i) {
            v.tokens[i] = pieces[i].text;
            v.scores[i] = pieces[i].score;
            v.types[i] = pieces[i].type;
        }
        if (tc.contains("added_tokens_decoder") && tc["added_tokens_decoder"].is_object()) {
            for (const auto& [key, data] : tc["added_tokens_decoder"].items()) {
                const unsigned long id = std::stoul(key);
                if (id >= n_vocab) continue;
                std::string text = data.value("content", "");
                if (data.value("special", false) || looks_special(text)) {
                    v.types[id] = 3;
                } else {
                    text = replace_all(text, "\xe2\x96\x81", " ");
                    v.types[id] = 4;
                }
                v.scores[id] = -1000.0f;
                v.tokens[id] = text;
            }
        }
        if (tc.contains("add_prefix_space") && tc["add_prefix_space"].is_boolean())
            v.add_space_prefix = tc["add_prefix_space"].get<bool>();
    } else if (tj.is_object() && tj.contains("model") && tj["model"].value("type", "") == "BPE") {
        const auto& model = tj["model"];
        const char* pre = known_pre(tj.value("pre_tokenizer", json()));
        if (pre == nullptr)
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: a BPE pre-tokenizer llama.cpp does not know (accel converts qwen2, llama-bpe "
                                    "and gpt-2)", tj_path.string()));
        v.model = "gpt2";
        v.pre = pre;
        TokensById by_id;
        for (const auto& [text, id] : model["vocab"].items()) by_id[id.get<uint32_t>()] = {text, false};
        std::map<uint32_t, bool> added_special;
        for (const auto& a : added) {
            const auto id = a["id"].get<uint32_t>();
            by_id[id] = {a.value("content", ""), true};
            added_special[id] = a.value("special", false);
        }
        place_tokens(v, by_id, added_special, tj_path.string());
        for (const auto& m : model["merges"]) {
            if (m.is_string()) v.merges.push_back(m.get<std::string>());
            else if (m.is_array() && m.size() == 2) v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
            else throw Error(ErrorKind::invalid_input, tj_path.string() + ": a merge is neither \"a b\" nor [a, b]");
        }
    } else {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: no tokenizer accel can convert (tokenizer.model, or tokenizer.json with a BPE model)",
                                dir.string()));
    }
    read_specials(v, tc, added, config);
    if (v.chat_template.empty() && fs::exists(dir / "chat_template.jinja")) v.chat_template = read_text(dir / "chat_template.jinja");
    return v;
}

namespace {

// Runs a reader, turning nlohmann's and std::stoul's exceptions (values of the wrong JSON type, an
// added_tokens_decoder key that is not a number) into Error{invalid_input} naming the folder.
template <class Read>
HfVocab guarded(const fs::path& dir, Read&& read) {
    try {
        return read();
    } catch (const nlohmann::json::exception& e) {  // a value of the wrong JSON type
        throw Error(ErrorKind::invalid_input, fmt::format("{}: malformed tokenizer files: {}", dir.string(), e.what()));
    } catch (const std::logic_error& e) {  // std::stoul on an added_tokens_decoder key that is not a number
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: malformed tokenizer_config.json: {}", dir.string(), e.what()));
    }
}

// ---- WordPiece (BERT)

json read_json_if_exists(const fs::path& p) {
    return fs::exists(p) ? parse_json(read_text(p), p.string(), false) : json::object();
}

// id -> (text, is added) from tokenizer.json's WordPiece model, else vocab.txt (line i is token i); `added` gets
// the added tokens as tokenizer.json lists them ({"id", "content", "special"}).
TokensById wordpiece_tokens(const fs::path& dir, const json& tj, const json& tc, json& added) {
    TokensById by_id;
    if (tj.contains("model") && tj["model"].value("type", "") == "WordPiece") {
        for (const auto& [text, id] : tj["model"]["vocab"].items()) by_id[id.get<uint32_t>()] = {text, false};
        added = tj.value("added_tokens", json::array());
    } else if (fs::exists(dir / "vocab.txt")) {
        std::istringstream in(read_text(dir / "vocab.txt"));
        uint32_t id = 0;
        for (std::string line; std::getline(in, line); ++id) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            by_id[id] = {line, false};
        }
        added = json::array();
        if (tc.contains("added_tokens_decoder") && tc["added_tokens_decoder"].is_object())
            for (const auto& [key, data] : tc["added_tokens_decoder"].items())
                added.push_back({{"id", std::stoul(key)}, {"content", data.value("content", "")},
                                 {"special", data.value("special", false)}});
    } else {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: no WordPiece tokenizer (tokenizer.json with a WordPiece model, or vocab.txt)",
                                dir.string()));
    }
    for (const auto& a : added) by_id[a["id"].get<uint32_t>()] = {a.value("content", ""), true};
    return by_id;
}

// gguf-py's SpecialVocab on a BERT tokenizer: [CLS] stands in for a missing bos_token and [SEP] for a missing
// eos_token; the post-processor's single-sequence template decides add_bos/add_eos (a trailing token other than
// EOS becomes EOS). Returns tokenizer_config.json with those fallbacks filled in.
json wordpiece_specials(HfVocab& v, json tc, const json& tj) {
    if (!tc.contains("bos_token") && tc.contains("cls_token")) tc["bos_token"] = tc["cls_token"];
    if (!tc.contains("eos_token") && tc.contains("sep_token")) tc["eos_token"] = tc["sep_token"];
    const json pp = tj.value("post_processor", json());
    if (!pp.is_object()) return tc;
    const json procs = pp.contains("processors") ? pp["processors"] : json::array({pp});
    for (const auto& proc : procs) {
        if (proc.value("type", "") == "RobertaProcessing") {
            v.add_bos = v.add_eos = true;
            continue;
        }
        if (proc.value("type", "") != "TemplateProcessing" || !proc.contains("single") || proc["single"].size() < 2)
            continue;
        auto special = [](const json& step) {
            return step.contains("SpecialToken") ? step["SpecialToken"].value("id", "") : std::string();
        };
        const std::string first = special(proc["single"].front()), last = special(proc["single"].back());
        if (!first.empty())
            v.add_bos = first == token_text(tc.value("bos_token", json())) || first == token_text(tc.value("cls_token", json()));
        if (!last.empty()) {
            tc["eos_token"] = last;
            v.add_eos = true;
        }
    }
    return tc;
}

void read_normalizer(HfVocab& v, const json& n) {
    if (!n.is_object()) return;
    const std::string type = n.value("type", "");
    if (type == "Lowercase") v.lowercase = true;
    if (type == "StripAccents") v.strip_accents = true;
    if (type == "BertNormalizer") {
        if (n.contains("lowercase") && n["lowercase"].is_boolean()) v.lowercase = n["lowercase"].get<bool>();
        if (n.contains("strip_accents") && n["strip_accents"].is_boolean()) v.strip_accents = n["strip_accents"].get<bool>();
    }
    if (type == "Sequence" && n.contains("normalizers"))
        for (const auto& step : n["normalizers"]) read_normalizer(v, step);
}

HfVocab read_wordpiece(const fs::path& dir, uint32_t n_vocab, const std::string& config_text) {
    HfVocab v;
    v.model = "bert";
    v.pre = "default";  // llama.cpp's WPM tokenizer has no pre-tokenizer variants
    const json config = parse_json(config_text, (dir / "config.json").string(), false);
    const json tc = read_json_if_exists(dir / "tokenizer_config.json");
    const json tj = read_json_if_exists(dir / "tokenizer.json");
    json added;
    const auto by_id = wordpiece_tokens(dir, tj, tc, added);
    pad_vocab(v, n_vocab);
    std::map<uint32_t, bool> added_special;
    for (const auto& a : added) added_special[a["id"].get<uint32_t>()] = a.value("special", false);
    place_tokens(v, by_id, added_special, dir.string());
    read_specials(v, wordpiece_specials(v, tc, tj), added, config);
    for (uint32_t i = 0; i < n_vocab; ++i) {  // the phantom space: how llama.cpp's WPM tokenizer stores words
        if (v.types[i] == 3) continue;
        v.tokens[i] = v.tokens[i].starts_with("##") ? v.tokens[i].substr(2) : "\xe2\x96\x81" + v.tokens[i];
    }
    read_normalizer(v, tj.value("normalizer", json()));
    if (!tj.contains("normalizer")) {  // vocab.txt alone: BertTokenizer's own settings (the Python converter has none)
        if (tc.contains("do_lower_case") && tc["do_lower_case"].is_boolean()) v.lowercase = tc["do_lower_case"].get<bool>();
        if (tc.contains("strip_accents") && tc["strip_accents"].is_boolean()) v.strip_accents = tc["strip_accents"].get<bool>();
    }
    return v;
}

// ---- T5 (SentencePiece unigram)

HfVocab read_t5(const fs::path& dir, uint32_t n_vocab, const std::string& config_text) {
    fs::path spm_path = dir / "tokenizer.model";
    if (!fs::exists(spm_path)) spm_path = dir / "spiece.model";
    if (!fs::exists(spm_path))
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: no SentencePiece model (spiece.model or tokenizer.model)", dir.string()));
    const SentencePieceModel spm = read_sentencepiece(spm_path);
    if (spm.model_type != 1)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: a SentencePiece model of type {}; accel converts T5's "
                                                          "unigram models (type 1) only", spm_path.string(),
                                                          spm.model_type));
    if (spm.pieces.size() > n_vocab)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} pieces, but config.json's vocab_size is {}",
                                                          spm_path.string(), spm.pieces.size(), n_vocab));
    HfVocab v;
    v.model = "t5";
    v.pre = "default";
    pad_vocab(v, n_vocab);
    v.scores.assign(n_vocab, -10000.0f);
    for (size_t i = 0; i < spm.pieces.size(); ++i) {
        const Piece& p = spm.pieces[i];
        v.tokens[i] = p.text;
        v.scores[i] = p.score;
        v.types[i] = p.type == 4 ? 1 : p.type;  // SentencePieceProcessor has no IsUserDefined: the converter says normal
    }
    const json added_tokens = read_json_if_exists(dir / "added_tokens.json");
    for (const auto& [text, id] : added_tokens.items()) {
        const auto i = id.get<uint64_t>();
        if (i >= n_vocab) continue;  // the converter ignores these too
        v.tokens[i] = text;
        v.scores[i] = -1000.0f;
        v.types[i] = 4;
    }
    v.add_space_prefix = spm.add_dummy_prefix;
    v.remove_extra_whitespaces = spm.remove_extra_whitespaces;
    v.precompiled_charsmap = spm.precompiled_charsmap;
    const json config = parse_json(config_text, (dir / "config.json").string(), false);
    const json tj = read_json_if_exists(dir / "tokenizer.json");
    const json added = tj.contains("added_tokens") ? tj["added_tokens"] : json::array();
    // T5's post-processor template "$A </s>": add_eos, no BOS (the same template reading as BERT's)
    read_specials(v, wordpiece_specials(v, read_json_if_exists(dir / "tokenizer_config.json"), tj), added, config);
    return v;
}

}  // namespace

HfVocab read_hf_vocab(const fs::path& dir, uint32_t n_vocab, const std::string& config_text) {
    return guarded(dir, [&] { return read_vocab(dir, n_vocab, config_text); });
}

HfVocab read_wordpiece_vocab(const fs::path& dir, uint32_t n_vocab, const std::string& config_text) {
    return guarded(dir, [&] { return read_wordpiece(dir, n_vocab, config_text); });
}

HfVocab read_t5_vocab(const fs::path& dir, uint32_t n_vocab, const std::string& config_text) {
    return guarded(dir, [&] { return read_t5(dir, n_vocab, config_text); });
}

void add_vocab(const HfVocab& v, GgufWriter& w) {
    w.add_string("tokenizer.ggml.model", v.model);
    w.add_string("tokenizer.ggml.pre", v.pre);
    w.add_strings("tokenizer.ggml.tokens", v.tokens);
    if (!v.scores.empty()) w.add_f32s("tokenizer.ggml.scores", v.scores);
    w.add_i32s("tokenizer.ggml.token_type", v.types);
    if (!v.merges.empty()) w.add_strings("tokenizer.ggml.merges", v.merges);
    // No cls_token_id: gguf-py has no writer for it (convert_hf_to_gguf.py skips it) and llama.cpp no reader.
    static const std::pair<const char*, const char*> keys[] = {
        {"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"}, {"sep", "seperator_token_id"},
        {"pad", "padding_token_id"}, {"mask", "mask_token_id"}};
    for (const auto& [kind, key] : keys) {
        const auto it = v.special_ids.find(kind);
        if (it != v.special_ids.end()) w.add_u32(std::string("tokenizer.ggml.") + key, it->second);
    }
    if (v.add_bos) w.add_bool("tokenizer.ggml.add_bos_token", *v.add_bos);
    if (v.add_eos) w.add_bool("tokenizer.ggml.add_eos_token", *v.add_eos);
    if (v.add_space_prefix) w.add_bool("tokenizer.ggml.add_space_prefix", *v.add_space_prefix);
    if (v.lowercase) w.add_bool("tokenizer.ggml.normalizer.lowercase", *v.lowercase);
    if (v.strip_accents) w.add_bool("tokenizer.ggml.normalizer.strip_accents", *v.strip_accents);
    if (v.remove_extra_whitespaces) w.add_bool("tokenizer.ggml.remove_extra_whitespaces", *v.remove_extra_whitespaces);
    if (!v.precompiled_charsmap.empty()) w.add_u8s("tokenizer.ggml.precompiled_charsmap", v.precompiled_charsmap);
    if (!v.chat_template.empty()) w.add_string("tokenizer.chat_template", v.chat_template);
}

}  // namespace accel::model::detail
