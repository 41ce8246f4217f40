// whisper.cpp's model file: the tensor layout its loader (whisper_model_load in whisper.cpp 1.9.3) builds from the
// hyperparameters, a validator over the whole file, and WhisperFeatureExtractor's mel filter bank.
#include "accel/model/whisper_file.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::model {

namespace fs = std::filesystem;

namespace {

constexpr int32_t max_dim = 1 << 20;      // any hyperparameter; real models stay below 52k
constexpr int32_t min_vocab = 51864;      // whisper.cpp's special tokens sit at fixed ids up to 51863 (English-only)
constexpr uint32_t max_token_bytes = 1024;
constexpr int32_t max_name_bytes = 256;

struct LayerNames {
    const char* whisper;
    const char* hf;
};

// Per-layer tensors: whisper.cpp name, transformers name, kind (w: a matrix of the weight type, b: an f32 vector)
struct LayerTensor {
    const char* whisper;
    const char* hf;
    bool matrix;
};

constexpr LayerTensor attn_tensors[] = {
    {"attn_ln.weight", "self_attn_layer_norm.weight", false}, {"attn_ln.bias", "self_attn_layer_norm.bias", false},
    {"attn.query.weight", "self_attn.q_proj.weight", true},   {"attn.query.bias", "self_attn.q_proj.bias", false},
    {"attn.key.weight", "self_attn.k_proj.weight", true},     {"attn.value.weight", "self_attn.v_proj.weight", true},
    {"attn.value.bias", "self_attn.v_proj.bias", false},      {"attn.out.weight", "self_attn.out_proj.weight", true},
    {"attn.out.bias", "self_attn.out_proj.bias", false},
};
constexpr LayerTensor cross_tensors[] = {
    {"cross_attn_ln.weight", "encoder_attn_layer_norm.weight", false},
    {"cross_attn_ln.bias", "encoder_attn_layer_norm.bias", false},
    {"cross_attn.query.weight", "encoder_attn.q_proj.weight", true},
    {"cross_attn.query.bias", "encoder_attn.q_proj.bias", false},
    {"cross_attn.key.weight", "encoder_attn.k_proj.weight", true},
    {"cross_attn.value.weight", "encoder_attn.v_proj.weight", true},
    {"cross_attn.value.bias", "encoder_attn.v_proj.bias", false},
    {"cross_attn.out.weight", "encoder_attn.out_proj.weight", true},
    {"cross_attn.out.bias", "encoder_attn.out_proj.bias", false},
};
constexpr LayerTensor mlp_tensors[] = {
    {"mlp_ln.weight", "final_layer_norm.weight", false}, {"mlp_ln.bias", "final_layer_norm.bias", false},
    {"mlp.0.weight", "fc1.weight", true},                 {"mlp.0.bias", "fc1.bias", false},
    {"mlp.2.weight", "fc2.weight", true},                 {"mlp.2.bias", "fc2.bias", false},
};

std::vector<int64_t> layer_shape(const std::string& name, int64_t n) {
    if (name.starts_with("mlp.0.weight")) return {n, 4 * n};
    if (name.starts_with("mlp.0.bias")) return {4 * n};
    if (name.starts_with("mlp.2.weight")) return {4 * n, n};
    if (name.ends_with(".weight") && name.find("ln") == std::string::npos) return {n, n};
    return {n};
}

void add_layer(std::vector<WhisperTensorSpec>& out, const char* sys, const char* hf_sys, int layer, int64_t n,
               uint32_t wtype, bool cross) {
    auto add = [&](const LayerTensor& t) {
        out.push_back({fmt::format("{}.blocks.{}.{}", sys, layer, t.whisper),
                       fmt::format("model.{}.layers.{}.{}", hf_sys, layer, t.hf), layer_shape(t.whisper, n),
                       t.matrix ? wtype : 0u});
    };
    for (const auto& t : attn_tensors) add(t);
    if (cross)
        for (const auto& t : cross_tensors) add(t);
    for (const auto& t : mlp_tensors) add(t);
}

struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// Bounded reads over the file, each failure one line naming the file and the offset.
class Reader {
public:
    Reader(const fs::path& path) : path_(path.string()), f_(std::fopen(path.c_str(), "rb")) {
        if (!f_) throw Error(ErrorKind::io, fmt::format("{}: cannot open ({})", path_, std::strerror(errno)));
        std::error_code ec;
        size_ = fs::file_size(path, ec);
        if (ec) throw Error(ErrorKind::io, fmt::format("{}: cannot read its size ({})", path_, ec.message()));
    }
    uint64_t size() const { return size_; }
    uint64_t pos() const { return pos_; }
    uint64_t left() const { return size_ - pos_; }
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: not a valid whisper.cpp model: {} (at byte {} of {})",
                                                          path_, what, pos_, size_));
    }
    void need(uint64_t n, const char* what) const {
        if (n > left()) fail(fmt::format("{} needs {} bytes, {} left (truncated?)", what, n, left()));
    }
    void read(void* dst, uint64_t n, const char* what) {
        need(n, what);
        if (std::fread(dst, 1, n, f_.get()) != n) fail(fmt::format("cannot read {}", what));
        pos_ += n;
    }
    int32_t i32(const char* what) {
        int32_t v;
        read(&v, 4, what);
        return v;
    }
    void skip(uint64_t n, const char* what) {
        need(n, what);
        if (std::fseek(f_.get(), static_cast<long>(pos_ + n), SEEK_SET) != 0) fail(fmt::format("cannot seek past {}", what));
        pos_ += n;
    }

private:
    std::string path_;
    std::unique_ptr<std::FILE, FileClose> f_;
    uint64_t size_ = 0, pos_ = 0;
};

double hz_to_mel_slaney(double hz) {
    const double logstep = 27.0 / std::log(6.4);
    return hz >= 1000.0 ? 15.0 + std::log(hz / 1000.0) * logstep : 3.0 * hz / 200.0;
}

double mel_to_hz_slaney(double mel) {
    const double logstep = std::log(6.4) / 27.0;
    return mel >= 15.0 ? 1000.0 * std::exp(logstep * (mel - 15.0)) : 200.0 * mel / 3.0;
}

std::vector<double> linspace(double a, double b, int32_t n) {  // as numpy: a + i * step, the last exactly b
    std::vector<double> v(static_cast<size_t>(n));
    const double step = n > 1 ? (b - a) / (n - 1) : 0.0;
    for (int32_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = a + i * step;
    if (n > 1) v.back() = b;
    return v;
}

}  // namespace

std::vector<WhisperTensorSpec> whisper_tensor_layout(const WhisperHparams& h) {
    const int64_t n = h.n_audio_state;
    const uint32_t wtype = h.ftype == 0 ? 0u : 1u;  // conv weights follow it too (whisper.cpp's vtype)
    std::vector<WhisperTensorSpec> out;
    out.push_back({"encoder.positional_embedding", "model.encoder.embed_positions.weight", {n, h.n_audio_ctx}, 0});
    out.push_back({"encoder.conv1.weight", "model.encoder.conv1.weight", {3, h.n_mels, n}, wtype});
    out.push_back({"encoder.conv1.bias", "model.encoder.conv1.bias", {1, n}, 0});
    out.push_back({"encoder.conv2.weight", "model.encoder.conv2.weight", {3, n, n}, wtype});
    out.push_back({"encoder.conv2.bias", "model.encoder.conv2.bias", {1, n}, 0});
    for (int i = 0; i < h.n_audio_layer; ++i) add_layer(out, "encoder", "encoder", i, n, wtype, false);
    out.push_back({"encoder.ln_post.weight", "model.encoder.layer_norm.weight", {n}, 0});
    out.push_back({"encoder.ln_post.bias", "model.encoder.layer_norm.bias", {n}, 0});
    out.push_back({"decoder.positional_embedding", "model.decoder.embed_positions.weight", {n, h.n_text_ctx}, 0});
    out.push_back({"decoder.token_embedding.weight", "model.decoder.embed_tokens.weight", {n, h.n_vocab}, wtype});
    for (int i = 0; i < h.n_text_layer; ++i) add_layer(out, "decoder", "decoder", i, n, wtype, true);
    out.push_back({"decoder.ln.weight", "model.decoder.layer_norm.weight", {n}, 0});
    out.push_back({"decoder.ln.bias", "model.decoder.layer_norm.bias", {n}, 0});
    return out;
}

void check_whisper_hparams(const WhisperHparams& h, const std::string& source) {
    const std::pair<const char*, int32_t> dims[] = {
        {"n_vocab", h.n_vocab},           {"n_audio_ctx", h.n_audio_ctx},   {"n_audio_state", h.n_audio_state},
        {"n_audio_head", h.n_audio_head}, {"n_audio_layer", h.n_audio_layer}, {"n_text_ctx", h.n_text_ctx},
        {"n_text_state", h.n_text_state}, {"n_text_head", h.n_text_head}, {"n_text_layer", h.n_text_layer},
        {"n_mels", h.n_mels}};
    for (const auto& [name, v] : dims)
        if (v <= 0 || v > max_dim)
            throw Error(ErrorKind::invalid_input, fmt::format("{}: {} = {} is out of range (1..{})", source, name, v, max_dim));
    if (h.n_text_state != h.n_audio_state)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: n_text_state {} differs from n_audio_state {} (whisper.cpp "
                                                          "needs one width)", source, h.n_text_state, h.n_audio_state));
    if (h.n_audio_state % h.n_audio_head != 0 || h.n_text_state % h.n_text_head != 0)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: the heads ({}, {}) do not divide the width {}", source,
                                                          h.n_audio_head, h.n_text_head, h.n_audio_state));
    if (h.n_vocab < min_vocab)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: n_vocab {} is below {}: whisper.cpp's special tokens sit "
                                                          "at fixed ids up to {}", source, h.n_vocab, min_vocab, min_vocab - 1));
    if (h.ftype != 0 && h.ftype != 1)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: ftype {}: accel reads f32 (0) and f16 (1) whisper.cpp "
                                                          "files only", source, h.ftype));
}

WhisperFileInfo validate_whisper_file(const fs::path& path) {
    Reader r(path);
    WhisperFileInfo info;
    info.file_bytes = r.size();
    if (r.size() < 4) r.fail("shorter than the magic");
    if (static_cast<uint32_t>(r.i32("the magic")) != whisper_file_magic) r.fail("bad magic (expected \"lmgg\")");
    WhisperHparams& h = info.hparams;
    for (int32_t* v : {&h.n_vocab, &h.n_audio_ctx, &h.n_audio_state, &h.n_audio_head, &h.n_audio_layer, &h.n_text_ctx,
                       &h.n_text_state, &h.n_text_head, &h.n_text_layer, &h.n_mels, &h.ftype})
        *v = r.i32("the hyperparameters");
    try {
        check_whisper_hparams(h, "hyperparameters");
    } catch (const Error& e) {
        r.fail(e.what());
    }
    info.n_filter_mels = r.i32("the mel filter bank's shape");
    info.n_filter_bins = r.i32("the mel filter bank's shape");
    if (info.n_filter_mels != h.n_mels) r.fail(fmt::format("the filter bank has {} mel bands, n_mels is {}",
                                                           info.n_filter_mels, h.n_mels));
    if (info.n_filter_bins <= 0 || info.n_filter_bins > 8193) r.fail(fmt::format("filter bank width {}", info.n_filter_bins));
    r.skip(4ull * static_cast<uint64_t>(info.n_filter_mels) * static_cast<uint64_t>(info.n_filter_bins), "the mel filter bank");
    info.n_tokens = r.i32("the token count");
    if (info.n_tokens < 0 || info.n_tokens > h.n_vocab)
        r.fail(fmt::format("{} tokens stored for n_vocab {}", info.n_tokens, h.n_vocab));
    for (int32_t i = 0; i < info.n_tokens; ++i) {
        const auto len = static_cast<uint32_t>(r.i32("a token's length"));
        if (len > max_token_bytes) r.fail(fmt::format("token {} is {} bytes long", i, len));
        r.skip(len, "a token");
    }
    std::map<std::string, WhisperTensorSpec> expected;
    for (auto& t : whisper_tensor_layout(h)) {
        const std::string name = t.name;
        expected.emplace(name, std::move(t));
    }
    std::map<std::string, bool> seen;
    while (r.left() > 0) {
        const int32_t n_dims = r.i32("a tensor header");
        const int32_t name_len = r.i32("a tensor header");
        const int32_t ttype = r.i32("a tensor header");
        if (n_dims < 1 || n_dims > 4) r.fail(fmt::format("a tensor with {} dimensions", n_dims));
        if (name_len < 1 || name_len > max_name_bytes) r.fail(fmt::format("a tensor name of {} bytes", name_len));
        if (ttype != 0 && ttype != 1) r.fail(fmt::format("tensor type {} (accel reads f32 and f16)", ttype));
        std::vector<int64_t> ne(static_cast<size_t>(n_dims));
        uint64_t n_elements = 1;
        for (auto& d : ne) {
            d = r.i32("a tensor's shape");
            if (d <= 0 || d > (1 << 28)) r.fail(fmt::format("a tensor dimension of {}", d));
            n_elements *= static_cast<uint64_t>(d);
        }
        std::string name(static_cast<size_t>(name_len), '\0');
        r.read(name.data(), name.size(), "a tensor name");
        const auto it = expected.find(name);
        if (it == expected.end()) r.fail(fmt::format("unknown tensor '{}'", name));
        if (seen[name]) r.fail(fmt::format("tensor '{}' appears twice", name));
        seen[name] = true;
        const WhisperTensorSpec& spec = it->second;
        std::vector<int64_t> want = spec.ne;
        while (want.size() > ne.size() && want.back() == 1) want.pop_back();
        while (ne.size() < want.size()) ne.push_back(1);
        if (ne != want) r.fail(fmt::format("tensor '{}' has the wrong shape for these hyperparameters", name));
        if (static_cast<uint32_t>(ttype) != spec.ggml_type)
            r.fail(fmt::format("tensor '{}' is {}, whisper.cpp expects {} for ftype {}", name, ttype ? "f16" : "f32",
                               spec.ggml_type ? "f16" : "f32", h.ftype));
        r.skip(n_elements * (ttype == 0 ? 4u : 2u), fmt::format("tensor '{}'", name).c_str());
        ++info.n_tensors;
    }
    if (info.n_tensors != expected.size())
        for (const auto& [name, spec] : expected)
            if (!seen[name]) r.fail(fmt::format("tensor '{}' is missing ({} of {} present)", name, info.n_tensors, expected.size()));
    return info;
}

std::vector<float> whisper_mel_filters(int32_t n_mels, int32_t n_fft, int32_t sample_rate) {
    const int32_t n_bins = 1 + n_fft / 2;
    const std::vector<double> fft_freqs = linspace(0.0, static_cast<double>(sample_rate / 2), n_bins);
    const std::vector<double> mels = linspace(hz_to_mel_slaney(0.0), hz_to_mel_slaney(sample_rate / 2.0), n_mels + 2);
    std::vector<double> f(mels.size());
    std::transform(mels.begin(), mels.end(), f.begin(), mel_to_hz_slaney);
    std::vector<float> out(static_cast<size_t>(n_mels) * static_cast<size_t>(n_bins));
    for (int32_t m = 0; m < n_mels; ++m) {
        const double enorm = 2.0 / (f[m + 2] - f[m]);
        for (int32_t k = 0; k < n_bins; ++k) {
            const double down = -(f[m] - fft_freqs[k]) / (f[m + 1] - f[m]);
            const double up = (f[m + 2] - fft_freqs[k]) / (f[m + 2] - f[m + 1]);
            out[static_cast<size_t>(m) * n_bins + k] = static_cast<float>(std::max(0.0, std::min(down, up)) * enorm);
        }
    }
    return out;
}

namespace {

void put_bytes(std::vector<uint8_t>& b, const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
}
void put_i32(std::vector<uint8_t>& b, int32_t v) { put_bytes(b, &v, 4); }

}  // namespace

std::vector<uint8_t> whisper_file_header(const WhisperHparams& h, const std::vector<std::string>& tokens) {
    constexpr int32_t n_fft = 400, sample_rate = 16000;
    std::vector<uint8_t> b;
    put_i32(b, static_cast<int32_t>(whisper_file_magic));
    for (int32_t v : {h.n_vocab, h.n_audio_ctx, h.n_audio_state, h.n_audio_head, h.n_audio_layer, h.n_text_ctx,
                      h.n_text_state, h.n_text_head, h.n_text_layer, h.n_mels, h.ftype})
        put_i32(b, v);
    const auto filters = whisper_mel_filters(h.n_mels, n_fft, sample_rate);
    put_i32(b, h.n_mels);
    put_i32(b, 1 + n_fft / 2);
    put_bytes(b, filters.data(), filters.size() * sizeof(float));
    put_i32(b, static_cast<int32_t>(tokens.size()));
    for (const auto& t : tokens) {
        put_i32(b, static_cast<int32_t>(t.size()));
        put_bytes(b, t.data(), t.size());
    }
    return b;
}

std::vector<uint8_t> whisper_tensor_header(const WhisperTensorSpec& t) {
    std::vector<uint8_t> b;
    put_i32(b, static_cast<int32_t>(t.ne.size()));
    put_i32(b, static_cast<int32_t>(t.name.size()));
    put_i32(b, static_cast<int32_t>(t.ggml_type));
    for (int64_t d : t.ne) put_i32(b, static_cast<int32_t>(d));
    put_bytes(b, t.name.data(), t.name.size());
    return b;
}

}  // namespace accel::model
