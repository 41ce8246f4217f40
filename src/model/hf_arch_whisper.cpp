// WhisperForConditionalGeneration -> whisper.cpp's model file (not GGUF), with the content whisper.cpp's
// models/convert-h5-to-ggml.py writes from a Hugging Face checkpoint: the eleven hyperparameters, the mel filter bank
// (here computed as WhisperFeatureExtractor computes it, not read from OpenAI's mel_filters.npz), the BPE tokens up to
// <|endoftext|> as raw bytes (whisper.cpp numbers the specials itself), and the tensors under whisper.cpp's names
// (model/whisper_file.h has the layout). docs/convert.md (Whisper) lists what is refused.
#include <cstring>
#include <map>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/model/whisper_file.h"
#include "hf_arch.h"
#include "json_strict.h"

namespace accel::model::detail {
namespace {

using nlohmann::json;

constexpr int32_t sample_rate = 16000, n_fft = 400, hop_length = 160;  // whisper.cpp's WHISPER_SAMPLE_RATE, _N_FFT, _HOP_LENGTH

WhisperHparams read_hparams(const HfInput& in) {
    const json& c = in.config;
    const std::string& src = in.config_source;
    auto i = [&](const char* key) { return static_cast<int32_t>(get_u32(c, key, src)); };
    WhisperHparams h;
    h.n_vocab = i("vocab_size");
    h.n_audio_ctx = i("max_source_positions");
    h.n_audio_state = i("d_model");
    h.n_audio_head = i("encoder_attention_heads");
    h.n_audio_layer = i("encoder_layers");
    h.n_text_ctx = i("max_target_positions");
    h.n_text_state = h.n_audio_state;
    h.n_text_head = i("decoder_attention_heads");
    h.n_text_layer = i("decoder_layers");
    h.n_mels = i("num_mel_bins");
    check_whisper_hparams(h, src);
    // whisper.cpp's graphs: an MLP of 4 * d_model with GELU, unscaled embeddings, the output tied to the embedding
    for (const char* key : {"encoder_ffn_dim", "decoder_ffn_dim"})
        if (i(key) != 4 * h.n_audio_state)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: {} {} is not 4 * d_model ({}): whisper.cpp's MLP is "
                                                              "4 * d_model wide", src, key, i(key), 4 * h.n_audio_state));
    const std::string act = c.value("activation_function", "gelu");
    if (act != "gelu")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: activation_function '{}': whisper.cpp runs 'gelu'", src, act));
    if (c.value("scale_embedding", false))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: scale_embedding is true; whisper.cpp does not scale", src));
    if (!c.value("tie_word_embeddings", true))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: tie_word_embeddings is false; whisper.cpp's output is the "
                                                          "token embedding", src));
    return h;
}

// preprocessor_config.json, when present, must describe the features whisper.cpp computes.
void check_preprocessor(const HfInput& in, const WhisperHparams& h) {
    const auto path = in.dir / "preprocessor_config.json";
    if (!std::filesystem::exists(path)) return;
    const json p = parse_json(read_text_file(path, 1u << 20), path.string(), true);
    if (!p.is_object()) throw Error(ErrorKind::invalid_input, path.string() + ": not a JSON object");
    const std::pair<const char*, int32_t> want[] = {
        {"feature_size", h.n_mels}, {"sampling_rate", sample_rate}, {"n_fft", n_fft}, {"hop_length", hop_length}};
    for (const auto& [key, value] : want)
        if (p.contains(key) && (!p[key].is_number_integer() || p[key].get<int64_t>() != value))
            throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is {}, whisper.cpp computes features with {}",
                                                              path.string(), key, p[key].dump(), value));
}

// GPT-2's byte-level alphabet: the character that stands for each byte.
std::map<uint32_t, uint8_t> byte_decoder() {
    std::map<uint32_t, uint8_t> dec;
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        dec[printable ? b : 256 + extra++] = static_cast<uint8_t>(b);
    }
    return dec;
}

// A token's text (UTF-8 of byte-level characters) back to its bytes; nullopt for a character outside the alphabet.
std::optional<std::string> token_bytes(const std::string& text, const std::map<uint32_t, uint8_t>& dec) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<uint8_t>(text[i]);
        uint32_t cp = 0;
        size_t n = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size()) {
            cp = ((c & 0x1Fu) << 6) | (static_cast<uint8_t>(text[i + 1]) & 0x3Fu);
            n = 2;
        } else {
            return std::nullopt;  // the alphabet stops at U+0143: two bytes at most
        }
        const auto it = dec.find(cp);
        if (it == dec.end()) return std::nullopt;
        out.push_back(static_cast<char>(it->second));
        i += n;
    }
    return out;
}

class WhisperWriter final : public ModelFileWriter {
public:
    WhisperWriter(const WhisperHparams& h, std::vector<std::string> tokens) : h_(h), tokens_(std::move(tokens)) {
        for (auto& t : whisper_tensor_layout(h)) layout_.emplace(t.name, t);
    }

    void add_tensor(const TensorPlan& p, GgmlType type) override {
        const auto it = layout_.find(p.name);
        if (it == layout_.end() || static_cast<uint32_t>(type) != it->second.ggml_type)
            throw Error(ErrorKind::internal, fmt::format("whisper writer: tensor {} is not in whisper.cpp's layout as {}",
                                                         p.name, ggml_type_name(type)));
        order_.push_back(&it->second);
    }

    void write_header(std::FILE* f, const std::string& path) const override {
        write(f, path, whisper_file_header(h_, tokens_));
    }

    void write_tensor(std::FILE* f, const std::string& path, const std::vector<uint8_t>& bytes) override {
        if (next_ >= order_.size()) throw Error(ErrorKind::internal, "whisper writer: more tensors than described");
        write(f, path, whisper_tensor_header(*order_[next_++]));
        write(f, path, bytes);
    }

private:
    static void write(std::FILE* f, const std::string& path, const std::vector<uint8_t>& b) {
        if (std::fwrite(b.data(), 1, b.size(), f) != b.size())
            throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", path));
    }

    WhisperHparams h_;
    std::vector<std::string> tokens_;
    std::map<std::string, WhisperTensorSpec> layout_;
    std::vector<const WhisperTensorSpec*> order_;
    size_t next_ = 0;
};

class WhisperArchitecture final : public HfArchitecture {
public:
    explicit WhisperArchitecture(const HfInput& in) : h_(read_hparams(in)), dir_(in.dir) { check_preprocessor(in, h_); }

    const std::string& arch() const override { return arch_; }
    uint32_t n_vocab() const override { return static_cast<uint32_t>(h_.n_vocab); }

    std::vector<TensorPlan> plan() const override {
        std::vector<TensorPlan> out;
        for (const auto& t : whisper_tensor_layout(h_)) {
            TensorPlan p{.name = t.name, .source = t.hf_name};
            p.hf_shape.assign(t.ne.rbegin(), t.ne.rend());
            if (t.name.ends_with("conv1.bias") || t.name.ends_with("conv2.bias")) p.hf_shape = {p.hf_shape.front()};
            p.keep_f32 = t.name.ends_with("positional_embedding");
            out.push_back(std::move(p));
        }
        return out;
    }

    bool dropped(const std::string& source) const override { return source == "proj_out.weight"; }  // tied

    void add_metadata(GgufWriter& /*w*/) const override {}  // not GGUF: own_format() writes the header

    // The BPE tokens 0..<|endoftext|> (tokenizer.json's model.vocab and added_tokens, else vocab.json and
    // added_tokens.json), as raw bytes; an id without a token is stored empty. <|endoftext|> must sit where whisper.cpp puts it (50256 for an English-only
    // vocabulary of 51,864, 50257 for a multilingual one) and <|startoftranscript|>, when listed, right after it.
    HfVocab read_vocab() const override {
        std::map<std::string, int64_t> ids;
        std::string source;
        const auto tj_path = dir_ / "tokenizer.json";
        if (std::filesystem::exists(tj_path)) {
            source = tj_path.string();
            const json tj = parse_json(read_text_file(tj_path, 64u << 20), source, false);
            if (!tj.contains("model") || !tj["model"].is_object() || tj["model"].value("type", "") != "BPE" ||
                !tj["model"].contains("vocab") || !tj["model"]["vocab"].is_object())
                throw Error(ErrorKind::invalid_input, source + ": not a BPE tokenizer with a vocab object");
            const json& vocab = tj["model"]["vocab"];
            for (const auto& [text, id] : vocab.items()) ids[text] = id.get<int64_t>();
            if (tj.contains("added_tokens") && tj["added_tokens"].is_array())
                for (const json& a : tj["added_tokens"]) ids[a.at("content").get<std::string>()] = a.at("id").get<int64_t>();
        } else {
            const auto vj = dir_ / "vocab.json";
            if (!std::filesystem::exists(vj))
                throw Error(ErrorKind::invalid_input, fmt::format("{}: no tokenizer.json or vocab.json", dir_.string()));
            source = vj.string();
            const json vocab = parse_json(read_text_file(vj, 64u << 20), source, false);
            for (const auto& [text, id] : vocab.items()) ids[text] = id.get<int64_t>();
            const auto added = dir_ / "added_tokens.json";
            if (std::filesystem::exists(added)) {
                const json extra = parse_json(read_text_file(added, 16u << 20), added.string(), false);
                for (const auto& [text, id] : extra.items()) ids[text] = id.get<int64_t>();
            }
        }
        const int64_t eot = h_.n_vocab >= 51865 ? 50257 : 50256;
        const auto at = [&](const char* t) { const auto it = ids.find(t); return it == ids.end() ? -1 : it->second; };
        if (at("<|endoftext|>") != eot)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: <|endoftext|> is {}, whisper.cpp expects {} for a "
                                                              "vocabulary of {}", source, at("<|endoftext|>"), eot, h_.n_vocab));
        if (at("<|startoftranscript|>") != -1 && at("<|startoftranscript|>") != eot + 1)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: <|startoftranscript|> is {}, whisper.cpp expects {}",
                                                              source, at("<|startoftranscript|>"), eot + 1));
        HfVocab v;
        v.model = "gpt2";
        v.pre = "whisper";
        std::vector<std::optional<std::string>> by_id(static_cast<size_t>(eot + 1));
        const auto dec = byte_decoder();
        for (const auto& [text, id] : ids) {
            if (id < 0 || id >= h_.n_vocab)
                throw Error(ErrorKind::invalid_input, fmt::format("{}: token id {} is outside the vocabulary of {}", source,
                                                                  id, h_.n_vocab));
            if (id > eot) continue;
            by_id[static_cast<size_t>(id)] = token_bytes(text, dec);
            if (!by_id[static_cast<size_t>(id)])
                throw Error(ErrorKind::invalid_input, fmt::format("{}: token {} is not byte-level BPE text", source, id));
        }
        // An id no token names is stored empty, as whisper.cpp's loader expects of such gaps.
        for (const auto& t : by_id) v.tokens.push_back(t.value_or(std::string()));
        return v;
    }

    std::unique_ptr<ModelFileWriter> own_format(ConvertType type) const override {
        if (type != ConvertType::f32 && type != ConvertType::f16)
            throw Error(ErrorKind::invalid_input, fmt::format("--type {}: accel writes whisper.cpp files in f32 or f16",
                                                              to_string(type)));
        WhisperHparams h = h_;
        h.ftype = type == ConvertType::f32 ? 0 : 1;
        return std::make_unique<WhisperWriter>(h, read_vocab().tokens);
    }

private:
    WhisperHparams h_;
    std::filesystem::path dir_;
    std::string arch_ = "whisper";
};

}  // namespace

std::unique_ptr<HfArchitecture> make_whisper_architecture(const HfInput& in) {
    return std::make_unique<WhisperArchitecture>(in);
}

}  // namespace accel::model::detail
