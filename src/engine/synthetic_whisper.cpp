// Random-weight whisper.cpp files of Whisper's real shapes: the layout from model::whisper_tensor_layout, the header
// from model::whisper_file_header, weights from the same deterministic generator as the synthetic GGUF models.
#include "accel/engine/synthetic_whisper.h"

#include <ggml.h>

#include <cstdio>
#include <memory>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/core/sha256.h"
#include "accel/engine/whisper_model.h"
#include "deterministic_rng.h"

namespace accel::engine {
namespace {

struct Size {
    const char* name;
    int32_t width, heads, layers;
};
constexpr Size sizes[] = {{"tiny", 384, 6, 4}, {"base", 512, 8, 6}, {"small", 768, 12, 12}};
constexpr int32_t multilingual_vocab = 51865, multilingual_eot = 50257;

// Token 0 says the weights are random; " " sits at GPT-2's id 220 (whisper.cpp's blank suppression looks it up by
// text); the other BPE slots are " w<id>" (printable, plainly not words); <|endoftext|> sits where whisper.cpp
// expects it in a multilingual vocabulary.
std::vector<std::string> synthetic_tokens() {
    constexpr int32_t space_id = 220;
    std::vector<std::string> tokens{whisper_random_weights_token};
    for (int32_t i = 1; i < multilingual_eot; ++i) tokens.push_back(i == space_id ? " " : fmt::format(" w{}", i));
    tokens.emplace_back("<|endoftext|>");
    return tokens;
}

// Layer-norm scales 1, everything else uniform with standard deviation 0.02.
std::vector<float> tensor_values(const model::WhisperTensorSpec& t, uint64_t seed) {
    size_t n = 1;
    for (int64_t d : t.ne) n *= static_cast<size_t>(d);
    std::vector<float> v(n);
    const bool scale = t.name.ends_with("ln.weight") || t.name.ends_with("ln_post.weight");
    detail::Rng rng{seed ^ detail::fnv1a(t.name.c_str())};
    constexpr double half_width = 0.02 * 1.7320508075688772;  // uniform(-a, a) has std a / sqrt(3)
    for (auto& x : v) x = scale ? 1.0f : static_cast<float>((2.0 * rng.uniform() - 1.0) * half_width);
    return v;
}

void write_bytes(std::FILE* f, const std::filesystem::path& path, const void* p, size_t n) {
    if (std::fwrite(p, 1, n, f) != n) throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", path.string()));
}

uint64_t write_tensors(std::FILE* f, const std::filesystem::path& path, const model::WhisperHparams& h, uint64_t seed) {
    uint64_t n_params = 0;
    for (const auto& t : model::whisper_tensor_layout(h)) {
        const auto header = model::whisper_tensor_header(t);
        write_bytes(f, path, header.data(), header.size());
        const auto v = tensor_values(t, seed);
        n_params += v.size();
        if (t.ggml_type == 0) {
            write_bytes(f, path, v.data(), v.size() * sizeof(float));
        } else {
            std::vector<ggml_fp16_t> half(v.size());
            ggml_fp32_to_fp16_row(v.data(), half.data(), static_cast<int64_t>(v.size()));
            write_bytes(f, path, half.data(), half.size() * sizeof(ggml_fp16_t));
        }
    }
    return n_params;
}

}  // namespace

model::WhisperHparams whisper_size_hparams(const std::string& size) {
    for (const auto& s : sizes)
        if (size == s.name)
            return {.n_vocab = multilingual_vocab, .n_audio_ctx = 1500, .n_audio_state = s.width,
                    .n_audio_head = s.heads, .n_audio_layer = s.layers, .n_text_ctx = 448, .n_text_state = s.width,
                    .n_text_head = s.heads, .n_text_layer = s.layers, .n_mels = 80, .ftype = 1};
    throw Error(ErrorKind::invalid_input, fmt::format("whisper size '{}': make-model knows tiny, base and small", size));
}

SyntheticModel make_synthetic_whisper(const SyntheticWhisperSpec& spec) {
    model::WhisperHparams h = whisper_size_hparams(spec.size);
    if (spec.type != WeightType::f32 && spec.type != WeightType::f16)
        throw Error(ErrorKind::invalid_input, fmt::format("--type {}: whisper.cpp files are f32 or f16", to_string(spec.type)));
    h.ftype = spec.type == WeightType::f32 ? 0 : 1;
    if (spec.out.empty()) throw Error(ErrorKind::invalid_input, "make-model whisper: --out is required");
    PartialFile partial(spec.out);
    uint64_t n_params = 0;
    {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(partial.path().c_str(), "wb"), std::fclose);
        if (!f) throw Error(ErrorKind::io, fmt::format("{}: cannot write", spec.out.string()));
        const auto header = model::whisper_file_header(h, synthetic_tokens());
        write_bytes(f.get(), spec.out, header.data(), header.size());
        n_params = write_tensors(f.get(), spec.out, h, spec.seed);
        if (std::fflush(f.get()) != 0) throw Error(ErrorKind::io, fmt::format("{}: write failed", spec.out.string()));
    }
    model::validate_whisper_file(partial.path());  // what accel writes, accel must read
    partial.commit();
    SyntheticModel m{.path = spec.out,
                     .name = fmt::format("whisper {} {} (RANDOM WEIGHTS, accel make-model)", spec.size, to_string(spec.type)),
                     .shape = {.n_vocab = static_cast<uint32_t>(h.n_vocab), .n_embd = static_cast<uint32_t>(h.n_audio_state),
                               .n_layer = static_cast<uint32_t>(h.n_audio_layer), .n_head = static_cast<uint32_t>(h.n_audio_head),
                               .n_head_kv = static_cast<uint32_t>(h.n_audio_head), .n_ff = static_cast<uint32_t>(4 * h.n_audio_state),
                               .n_ctx_train = static_cast<uint32_t>(h.n_text_ctx)},
                     .n_params = n_params,
                     .file_bytes = std::filesystem::file_size(spec.out),
                     .sha256 = sha256_file(spec.out)};
    return m;
}

}  // namespace accel::engine
