// `accel make-model --arch wav2vec2`: a Wav2Vec2ForCTC with RANDOM WEIGHTS in wav2vec2-base's shape, written as a
// Hugging Face folder (config.json, vocab.json, preprocessor_config.json, an f32 model.safetensors) in a temporary
// folder next to the output and converted by accel convert, so that the file is exactly what a converted checkpoint
// is. llama.cpp's saver, which builds the other synthetic models, has no wav2vec2.
#include "synthetic_wav2vec2.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/model/hf_convert.h"
#include "synthetic_hf.h"

namespace accel::engine::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using F = HfTensor::Fill;

// wav2vec2-base: 7 convolutions 512 wide, 768 wide blocks of 12 heads, FFN 3072, 128 positional taps in 16 groups;
// only the number of blocks follows --params.
constexpr uint64_t conv_dim = 512, n_embd = 768, n_ff = 3072, n_head = 12, pos_kernel = 128, pos_groups = 16;
constexpr int conv_kernels[] = {10, 3, 3, 3, 3, 2, 2};
constexpr int conv_strides[] = {5, 2, 2, 2, 2, 2, 2};
constexpr const char* letters = "ETAONIHSRDLUMWCFGYPBVK'XJQZ";

std::vector<HfTensor> tensors(uint32_t n_layer, uint64_t n_vocab) {
    std::vector<HfTensor> t;
    const std::string w = "wav2vec2.";
    for (size_t i = 0; i < std::size(conv_kernels); ++i) {
        const std::string c = fmt::format("{}feature_extractor.conv_layers.{}.", w, i);
        t.push_back({c + "conv.weight", {conv_dim, i == 0 ? 1 : conv_dim, static_cast<uint64_t>(conv_kernels[i])}});
        if (i == 0) {
            t.push_back({c + "layer_norm.weight", {conv_dim}, F::ones});
            t.push_back({c + "layer_norm.bias", {conv_dim}, F::zeros});
        }
    }
    t.push_back({w + "feature_projection.layer_norm.weight", {conv_dim}, F::ones});
    t.push_back({w + "feature_projection.layer_norm.bias", {conv_dim}, F::zeros});
    t.push_back({w + "feature_projection.projection.weight", {n_embd, conv_dim}});
    t.push_back({w + "feature_projection.projection.bias", {n_embd}, F::zeros});
    const std::string pos = w + "encoder.pos_conv_embed.conv.";
    t.push_back({pos + "bias", {n_embd}, F::zeros});
    t.push_back({pos + "parametrizations.weight.original0", {1, 1, pos_kernel}, F::positive});
    t.push_back({pos + "parametrizations.weight.original1", {n_embd, n_embd / pos_groups, pos_kernel}});
    t.push_back({w + "encoder.layer_norm.weight", {n_embd}, F::ones});
    t.push_back({w + "encoder.layer_norm.bias", {n_embd}, F::zeros});
    for (uint32_t l = 0; l < n_layer; ++l) {
        const std::string b = fmt::format("{}encoder.layers.{}.", w, l);
        for (const char* p : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            t.push_back({b + "attention." + p + ".weight", {n_embd, n_embd}});
            t.push_back({b + "attention." + p + ".bias", {n_embd}, F::zeros});
        }
        t.push_back({b + "feed_forward.intermediate_dense.weight", {n_ff, n_embd}});
        t.push_back({b + "feed_forward.intermediate_dense.bias", {n_ff}, F::zeros});
        t.push_back({b + "feed_forward.output_dense.weight", {n_embd, n_ff}});
        t.push_back({b + "feed_forward.output_dense.bias", {n_embd}, F::zeros});
        for (const char* n : {"layer_norm", "final_layer_norm"}) {
            t.push_back({b + n + ".weight", {n_embd}, F::ones});
            t.push_back({b + n + ".bias", {n_embd}, F::zeros});
        }
    }
    t.push_back({"lm_head.weight", {n_vocab, n_embd}});
    t.push_back({"lm_head.bias", {n_vocab}, F::zeros});
    return t;
}

uint64_t count(const std::vector<HfTensor>& ts) {
    uint64_t n = 0;
    for (const auto& t : ts) n += t.n();
    return n;
}

// The blocks whose total comes closest to the target (1 to 48).
uint32_t choose_layers(uint64_t target, uint64_t n_vocab) {
    const auto fixed = static_cast<double>(count(tensors(0, n_vocab)));
    const auto per = static_cast<double>(count(tensors(1, n_vocab))) - fixed;
    const double n = std::round((static_cast<double>(target) - fixed) / per);
    return static_cast<uint32_t>(std::clamp(n, 1.0, 48.0));
}

void write_folder(const fs::path& dir, uint32_t n_layer, uint64_t seed) {
    json vocab = {{"<pad>", 0}, {"<s>", 1}, {"</s>", 2}, {"<unk>", 3}, {"|", 4}};
    for (size_t i = 0; letters[i] != '\0'; ++i) vocab[std::string(1, letters[i])] = 5 + i;
    const json config = {{"architectures", {"Wav2Vec2ForCTC"}}, {"model_type", "wav2vec2"},
                         {"conv_dim", std::vector<uint64_t>(std::size(conv_kernels), conv_dim)},
                         {"conv_kernel", conv_kernels}, {"conv_stride", conv_strides}, {"conv_bias", false},
                         {"feat_extract_norm", "group"}, {"feat_extract_activation", "gelu"}, {"hidden_act", "gelu"},
                         {"hidden_size", n_embd}, {"intermediate_size", n_ff}, {"num_hidden_layers", n_layer},
                         {"num_attention_heads", n_head}, {"num_conv_pos_embeddings", pos_kernel},
                         {"num_conv_pos_embedding_groups", pos_groups}, {"do_stable_layer_norm", false},
                         {"layer_norm_eps", 1e-5}, {"vocab_size", vocab.size()}, {"pad_token_id", 0}};
    write_text(dir / "config.json", config.dump(1));
    write_text(dir / "vocab.json", vocab.dump());
    write_text(dir / "preprocessor_config.json",
               json{{"do_normalize", true}, {"feature_size", 1}, {"sampling_rate", 16000}}.dump(1));
    write_hf_safetensors(dir / "model.safetensors", tensors(n_layer, vocab.size()), seed);
}

}  // namespace

SyntheticModel make_synthetic_wav2vec2(const SyntheticSpec& spec) {
    if (spec.out.empty()) throw Error(ErrorKind::invalid_input, "make-model needs --out FILE.gguf");
    model::ConvertType type = model::ConvertType::f32;
    switch (spec.type) {
        case WeightType::f32: break;
        case WeightType::f16: type = model::ConvertType::f16; break;
        case WeightType::q8_0: type = model::ConvertType::q8_0; break;
        case WeightType::q4_0:
            throw Error(ErrorKind::invalid_input, "make-model builds wav2vec2 through accel convert, which writes f32, "
                                                  "f16 and q8_0 (llama.cpp's quantizer does not know wav2vec2)");
    }
    const uint64_t n_vocab = 5 + std::strlen(letters);
    const uint32_t n_layer = choose_layers(spec.n_params_target, n_vocab);
    SyntheticModel out;
    out.name = fmt::format("accel synthetic wav2vec2 {} blocks {} seed {} (RANDOM WEIGHTS: for performance tests only, "
                           "output is meaningless)", n_layer, to_string(spec.type), spec.seed);
    const fs::path parent = spec.out.has_parent_path() ? spec.out.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) throw Error(ErrorKind::invalid_input, "output folder does not exist: " + parent.string());
    const RemoveAllOnExit tmp{parent / fmt::format(".accel-make-model-{}", ::getpid())};
    const fs::path dir = tmp.dir / out.name;  // accel convert names the model after its folder
    fs::create_directories(dir, ec);
    if (ec) throw Error(ErrorKind::io, fmt::format("{}: cannot create ({})", dir.string(), ec.message()));
    write_folder(dir, n_layer, spec.seed);
    const auto r = model::convert_hf(dir, spec.out, {.type = type});
    out.path = spec.out;
    out.shape = {.n_vocab = static_cast<uint32_t>(n_vocab), .n_embd = n_embd, .n_layer = n_layer, .n_head = n_head,
                 .n_head_kv = n_head, .n_ff = n_ff, .n_ctx_train = 0};
    out.n_params = r.n_params;
    out.file_bytes = fs::file_size(spec.out);
    out.sha256 = sha256_file(spec.out);
    return out;
}

}  // namespace accel::engine::detail
