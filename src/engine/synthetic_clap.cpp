// `accel make-model --arch clap`: a ClapModel with RANDOM WEIGHTS in laion/clap-htsat-unfused's shape, written as a
// Hugging Face folder (config.json, a byte-level tokenizer.json, preprocessor_config.json, an f32 model.safetensors)
// in a temporary folder next to the output and converted by accel convert, so that the file is exactly what a
// converted checkpoint is.
#include "synthetic_clap.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/model/hf_convert.h"
#include "synthetic_hf.h"
#include "vision_quantize.h"

namespace accel::engine::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using F = HfTensor::Fill;

constexpr uint64_t n_mels = 64, spec_size = 256, patch = 4, window = 8, a_embd = 96, proj_dim = 512;
constexpr int32_t depths[] = {2, 2, 6, 2}, heads[] = {4, 8, 16, 32};
constexpr uint64_t t_embd = 768, t_ff = 3072, t_head = 12, n_vocab = 50265, n_pos = 514;

void linear(std::vector<HfTensor>& t, const std::string& name, uint64_t out, uint64_t in, bool bias = true) {
    t.push_back({name + ".weight", {out, in}});
    if (bias) t.push_back({name + ".bias", {out}, F::zeros});
}

void norm(std::vector<HfTensor>& t, const std::string& name, uint64_t n) {
    t.push_back({name + ".weight", {n}, F::ones});
    t.push_back({name + ".bias", {n}, F::zeros});
}

void audio_tensors(std::vector<HfTensor>& t) {
    const std::string enc = "audio_model.audio_encoder.";
    t.push_back({enc + "batch_norm.weight", {n_mels}, F::ones});
    t.push_back({enc + "batch_norm.bias", {n_mels}, F::zeros});
    t.push_back({enc + "batch_norm.running_mean", {n_mels}, F::zeros});
    t.push_back({enc + "batch_norm.running_var", {n_mels}, F::ones});
    t.push_back({enc + "patch_embed.proj.weight", {a_embd, 1, patch, patch}});
    t.push_back({enc + "patch_embed.proj.bias", {a_embd}, F::zeros});
    norm(t, enc + "patch_embed.norm", a_embd);
    for (size_t s = 0; s < std::size(depths); ++s) {
        const uint64_t dim = a_embd << s;
        for (int32_t b = 0; b < depths[s]; ++b) {
            const std::string blk = fmt::format("{}layers.{}.blocks.{}.", enc, s, b);
            norm(t, blk + "layernorm_before", dim);
            for (const char* p : {"query", "key", "value"}) linear(t, blk + "attention.self." + p, dim, dim);
            t.push_back({blk + "attention.self.relative_position_bias_table",
                         {(2 * window - 1) * (2 * window - 1), static_cast<uint64_t>(heads[s])}});
            linear(t, blk + "attention.output.dense", dim, dim);
            norm(t, blk + "layernorm_after", dim);
            linear(t, blk + "intermediate.dense", 4 * dim, dim);
            linear(t, blk + "output.dense", dim, 4 * dim);
        }
        if (s + 1 < std::size(depths)) {
            norm(t, fmt::format("{}layers.{}.downsample.norm", enc, s), 4 * dim);
            linear(t, fmt::format("{}layers.{}.downsample.reduction", enc, s), 2 * dim, 4 * dim, false);
        }
    }
    const uint64_t n_features = a_embd << (std::size(depths) - 1);
    norm(t, enc + "norm", n_features);
    linear(t, "audio_projection.linear1", proj_dim, n_features);
    linear(t, "audio_projection.linear2", proj_dim, proj_dim);
}

std::vector<HfTensor> tensors(uint32_t n_text_layer) {
    std::vector<HfTensor> t;
    audio_tensors(t);
    const std::string e = "text_model.embeddings.";
    t.push_back({e + "word_embeddings.weight", {n_vocab, t_embd}});
    t.push_back({e + "position_embeddings.weight", {n_pos, t_embd}});
    t.push_back({e + "token_type_embeddings.weight", {1, t_embd}});
    norm(t, e + "LayerNorm", t_embd);
    for (uint32_t l = 0; l < n_text_layer; ++l) {
        const std::string b = fmt::format("text_model.encoder.layer.{}.", l);
        for (const char* p : {"query", "key", "value"}) linear(t, b + "attention.self." + p, t_embd, t_embd);
        linear(t, b + "attention.output.dense", t_embd, t_embd);
        norm(t, b + "attention.output.LayerNorm", t_embd);
        linear(t, b + "intermediate.dense", t_ff, t_embd);
        linear(t, b + "output.dense", t_embd, t_ff);
        norm(t, b + "output.LayerNorm", t_embd);
    }
    linear(t, "text_model.pooler.dense", t_embd, t_embd);
    linear(t, "text_projection.linear1", proj_dim, t_embd);
    linear(t, "text_projection.linear2", proj_dim, proj_dim);
    t.push_back({"logit_scale_a", {}, F::zeros});
    t.push_back({"logit_scale_t", {}, F::zeros});
    return t;
}

uint64_t count(const std::vector<HfTensor>& ts) {
    uint64_t n = 0;
    for (const auto& t : ts) n += t.n();
    return n;
}

uint32_t choose_text_layers(uint64_t target) {
    const auto fixed = static_cast<double>(count(tensors(0)));
    const auto per = static_cast<double>(count(tensors(1))) - fixed;
    return static_cast<uint32_t>(std::clamp(std::round((static_cast<double>(target) - fixed) / per), 1.0, 24.0));
}

// RoBERTa's specials and the 256 byte characters (GPT-2's bytes_to_unicode), no merges: every byte its own token.
json byte_tokenizer() {
    json vocab = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}};
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        const uint32_t c = printable ? b : next++;
        std::string utf8;
        if (c < 0x80) {
            utf8 += static_cast<char>(c);
        } else {
            utf8 += static_cast<char>(0xC0 | (c >> 6));
            utf8 += static_cast<char>(0x80 | (c & 0x3F));
        }
        vocab[utf8] = 4 + b;
    }
    vocab["<mask>"] = 260;
    return {{"version", "1.0"}, {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}}};
}

void write_folder(const fs::path& dir, uint32_t n_text_layer, uint64_t seed) {
    const json audio = {{"depths", depths}, {"num_attention_heads", heads}, {"patch_embeds_hidden_size", a_embd},
                        {"hidden_size", a_embd << (std::size(depths) - 1)}, {"spec_size", spec_size},
                        {"window_size", window}, {"num_mel_bins", n_mels}, {"patch_size", patch},
                        {"patch_stride", {patch, patch}}, {"mlp_ratio", 4.0}, {"enable_fusion", false},
                        {"hidden_act", "gelu"}, {"layer_norm_eps", 1e-5}, {"projection_dim", proj_dim}};
    const json text = {{"vocab_size", n_vocab}, {"hidden_size", t_embd}, {"num_hidden_layers", n_text_layer},
                       {"num_attention_heads", t_head}, {"intermediate_size", t_ff}, {"max_position_embeddings", n_pos},
                       {"type_vocab_size", 1}, {"pad_token_id", 1}, {"hidden_act", "gelu"}, {"layer_norm_eps", 1e-5},
                       {"projection_dim", proj_dim}};
    const json config = {{"architectures", {"ClapModel"}}, {"model_type", "clap"}, {"audio_config", audio},
                         {"text_config", text}, {"projection_dim", proj_dim}, {"projection_hidden_act", "relu"}};
    write_text(dir / "config.json", config.dump(1));
    write_text(dir / "tokenizer.json", byte_tokenizer().dump());
    write_text(dir / "preprocessor_config.json",
               json{{"feature_extractor_type", "ClapFeatureExtractor"}, {"feature_size", n_mels},
                    {"sampling_rate", 48000}, {"hop_length", 480}, {"fft_window_size", 1024}, {"max_length_s", 10},
                    {"frequency_min", 50}, {"frequency_max", 14000}, {"truncation", "rand_trunc"},
                    {"padding", "repeatpad"}}.dump(1));
    write_hf_safetensors(dir / "model.safetensors", tensors(n_text_layer), seed);
}

}  // namespace

SyntheticModel make_synthetic_clap(const SyntheticSpec& spec) {
    if (spec.out.empty()) throw Error(ErrorKind::invalid_input, "make-model needs --out FILE.gguf");
    const uint32_t n_layer = choose_text_layers(spec.n_params_target);
    SyntheticModel out;
    out.name = fmt::format("accel synthetic clap htsat-unfused {} text blocks {} seed {} (RANDOM WEIGHTS: for "
                           "performance tests only, output is meaningless)", n_layer, to_string(spec.type), spec.seed);
    const fs::path parent = spec.out.has_parent_path() ? spec.out.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) throw Error(ErrorKind::invalid_input, "output folder does not exist: " + parent.string());
    const RemoveAllOnExit tmp{parent / fmt::format(".accel-make-model-{}", ::getpid())};
    const fs::path dir = tmp.dir / out.name;  // accel convert names the model after its folder
    fs::create_directories(dir, ec);
    if (ec) throw Error(ErrorKind::io, fmt::format("{}: cannot create ({})", dir.string(), ec.message()));
    write_folder(dir, n_layer, spec.seed);
    model::ConvertType type = model::ConvertType::f32;
    if (spec.type == WeightType::f16) type = model::ConvertType::f16;
    if (spec.type == WeightType::q8_0) type = model::ConvertType::q8_0;
    model::ConvertResult r;
    if (spec.type == WeightType::q4_0) {
        r = model::convert_hf(dir, tmp.dir / "f32.gguf", {.type = type});
        quantize_vision_gguf(tmp.dir / "f32.gguf", spec.out, "Q4_0", spec.n_threads);
    } else {
        r = model::convert_hf(dir, spec.out, {.type = type});
    }
    out.path = spec.out;
    out.shape = {.n_vocab = static_cast<uint32_t>(n_vocab), .n_embd = t_embd, .n_layer = n_layer,
                 .n_head = t_head, .n_head_kv = t_head, .n_ff = t_ff, .n_ctx_train = static_cast<uint32_t>(n_pos - 2)};
    out.n_params = r.n_params;
    out.file_bytes = fs::file_size(spec.out);
    out.sha256 = sha256_file(spec.out);
    return out;
}

}  // namespace accel::engine::detail
