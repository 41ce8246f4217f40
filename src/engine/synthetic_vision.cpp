#include "synthetic_vision.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/model/hf_convert.h"
#include "deterministic_rng.h"
#include "vision_quantize.h"

namespace accel::engine::detail {
namespace {

namespace fs = std::filesystem;

// The shapes of google/vit-base-patch16-224 and openai/clip-vit-base-patch32 (their config.json and
// preprocessor_config.json values that accel reads), written as JSON text.
struct VisionPreset {
    const char* shape_name;
    std::string config, preprocessor;
    uint32_t n_vocab, n_embd, n_layer, n_head, n_ff, n_ctx;  // n_vocab: labels (vit) or text tokens (clip)
};

VisionPreset vit_preset() {
    std::string labels;
    for (int i = 0; i < 1000; ++i) labels += fmt::format("{}\"{}\": \"random label {}\"", i ? ", " : "", i, i);
    return {"ViT-B-16",
            fmt::format(R"({{"architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": 768,
 "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12, "image_size": 224, "patch_size": 16,
 "num_channels": 3, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "qkv_bias": true, "id2label": {{{}}}}})", labels),
            R"({"image_processor_type": "ViTImageProcessor", "do_resize": true, "size": {"height": 224, "width": 224},
 "resample": 2, "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_normalize": true,
 "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]})",
            1000, 768, 12, 12, 3072, 197};
}

VisionPreset clip_preset() {
    return {"CLIP-ViT-B-32",
            R"({"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 512,
 "logit_scale_init_value": 2.6592,
 "text_config": {"vocab_size": 49408, "hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12,
  "num_attention_heads": 8, "max_position_embeddings": 77, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
  "bos_token_id": 49406, "eos_token_id": 49407},
 "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
  "image_size": 224, "patch_size": 32, "num_channels": 3, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}})",
            R"({"image_processor_type": "CLIPImageProcessor", "do_resize": true, "size": {"shortest_edge": 224},
 "resample": 3, "do_center_crop": true, "crop_size": {"height": 224, "width": 224}, "do_rescale": true,
 "rescale_factor": 0.00392156862745098, "do_normalize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073],
 "image_std": [0.26862954, 0.26130258, 0.27577711]})",
            49408, 768, 12, 12, 3072, 77};
}

// microsoft/xclip-base-patch32's shape: CLIP ViT-B/32's towers, 8 frames, a one-block integration transformer
// 512 wide, a two-layer prompt generator; VideoMAEImageProcessor per frame.
VisionPreset xclip_preset() {
    return {"X-CLIP-B-32-8f",
            R"({"architectures": ["XCLIPModel"], "model_type": "xclip", "projection_dim": 512,
 "logit_scale_init_value": 2.6592, "prompt_layers": 2, "prompt_alpha": 0.1, "prompt_hidden_act": "quick_gelu",
 "prompt_num_attention_heads": 8,
 "text_config": {"vocab_size": 49408, "hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12,
  "num_attention_heads": 8, "max_position_embeddings": 77, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
  "bos_token_id": 49406, "eos_token_id": 49407},
 "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
  "image_size": 224, "patch_size": 32, "num_channels": 3, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
  "num_frames": 8, "mit_hidden_size": 512, "mit_intermediate_size": 2048, "mit_num_hidden_layers": 1,
  "mit_num_attention_heads": 8}})",
            R"({"image_processor_type": "VideoMAEImageProcessor", "do_resize": true, "size": {"shortest_edge": 224},
 "resample": 2, "do_center_crop": true, "crop_size": {"height": 224, "width": 224}, "do_rescale": true,
 "rescale_factor": 0.00392156862745098, "do_normalize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073],
 "image_std": [0.26862954, 0.26130258, 0.27577711]})",
            49408, 768, 12, 12, 3072, 77};
}

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
    if (!f) throw Error(ErrorKind::io, fmt::format("{}: cannot write (disk full?)", p.string()));
}

// CLIP's byte-level alphabet without merges: each byte's character at ids 0-255, with "</w>" at 256-511, the two
// specials at the top; every text then tokenizes to one token per byte.
void write_clip_vocab(const fs::path& dir, uint32_t n_vocab) {
    std::string vocab = "{";
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        const uint32_t c = printable ? b : next++;
        std::string s;
        if (c < 0x80) {
            s += static_cast<char>(c);
        } else {
            s += static_cast<char>(0xC0 | (c >> 6));
            s += static_cast<char>(0x80 | (c & 0x3F));
        }
        if (s == "\"" || s == "\\") s.insert(0, "\\");  // JSON escapes; the other characters are printable
        vocab += fmt::format("\"{}\": {}, \"{}</w>\": {}, ", s, b, s, b + 256);
    }
    vocab += fmt::format("\"<|startoftext|>\": {}, \"<|endoftext|>\": {}}}", n_vocab - 2, n_vocab - 1);
    write_text(dir / "vocab.json", vocab);
    write_text(dir / "merges.txt", "#version: 0.2\n");
}

bool is_norm_weight(const std::string& name, size_t n_dims) {
    return n_dims == 1 && name.ends_with(".weight") &&
           (name.find("norm") != std::string::npos || name.find("layrnorm") != std::string::npos ||
            name.find("message_ln") != std::string::npos);
}

uint16_t to_f16_bits(float f) {  // round to nearest even; the values here are small and finite
    uint32_t x = 0;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const int32_t exp = static_cast<int32_t>((x >> 23) & 0xFF) - 127 + 15;
    uint32_t mant = x & 0x7FFFFFu;
    if (exp <= 0) return static_cast<uint16_t>(sign);  // tiny: zero
    if (exp >= 31) return static_cast<uint16_t>(sign | 0x7C00u);
    uint32_t h = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(h);
}

// model.safetensors of random f16 values for every tensor convert_hf reads: N(0, 0.02) (transformers'
// initializer_range), layer-norm gains 1 + N(0, 0.02), CLIP's logit scale ln(1/0.07). Returns the element count.
uint64_t write_random_safetensors(const fs::path& dir, uint64_t seed) {
    const auto plan = model::plan_hf(dir);
    uint64_t at = 0, n_params = 0;
    std::string h = "{";
    for (const auto& t : plan) {
        uint64_t n = 1;
        std::string shape;
        for (auto d = t.ne.rbegin(); d != t.ne.rend(); ++d) {
            n *= *d;
            shape += fmt::format("{}{}", shape.empty() ? "" : ", ", *d);
        }
        if (t.source == "logit_scale") shape.clear();
        h += fmt::format("{}\"{}\": {{\"dtype\": \"F16\", \"shape\": [{}], \"data_offsets\": [{}, {}]}}",
                         h.size() > 1 ? ", " : "", t.source, shape, at, at + 2 * n);
        at += 2 * n;
        n_params += n;
    }
    h += "}";
    h.append((8 - h.size() % 8) % 8, ' ');
    const fs::path path = dir / "model.safetensors";
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!f) throw Error(ErrorKind::io, fmt::format("{}: cannot create", path.string()));
    const uint64_t len = h.size();
    std::fwrite(&len, 8, 1, f.get());
    std::fwrite(h.data(), 1, h.size(), f.get());
    std::vector<uint16_t> buf;
    for (const auto& t : plan) {
        uint64_t n = 1;
        for (const uint64_t d : t.ne) n *= d;
        Rng rng{seed ^ fnv1a(t.source.c_str())};
        const bool gain = is_norm_weight(t.source, t.ne.size());
        buf.resize(n);
        for (auto& v : buf) {
            const float x = t.source == "logit_scale" ? 2.6592f
                                                      : static_cast<float>((gain ? 1.0 : 0.0) + 0.02 * rng.normal());
            v = to_f16_bits(x);
        }
        if (std::fwrite(buf.data(), 2, n, f.get()) != n)
            throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", path.string()));
    }
    if (std::fflush(f.get()) != 0) throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", path.string()));
    return n_params;
}

struct RemoveDir {
    fs::path dir;
    ~RemoveDir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

}  // namespace

bool is_synthetic_vision_arch(const std::string& arch) { return arch == "vit" || arch == "clip" || arch == "xclip"; }

SyntheticModel make_synthetic_vision_model(const SyntheticSpec& spec) {
    if (spec.out.empty()) throw Error(ErrorKind::invalid_input, "make-model needs --out FILE.gguf");
    const VisionPreset p = spec.arch == "vit" ? vit_preset() : spec.arch == "xclip" ? xclip_preset() : clip_preset();
    std::error_code ec;
    const fs::path parent = spec.out.has_parent_path() ? spec.out.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec))
        throw Error(ErrorKind::invalid_input, "output folder does not exist: " + parent.string());
    SyntheticModel out;
    out.name = fmt::format("accel synthetic {} {} {} seed {} (RANDOM WEIGHTS: for performance tests only, output is "
                           "meaningless)", spec.arch, p.shape_name, to_string(spec.type), spec.seed);
    // the folder's name becomes general.name (convert_hf); a hidden work folder holds it, removed on every path
    const RemoveDir work{parent / fmt::format(".{}.synthetic", spec.out.filename().string())};
    fs::remove_all(work.dir, ec);
    const fs::path dir = work.dir / out.name;
    fs::create_directories(dir);
    write_text(dir / "config.json", p.config);
    write_text(dir / "preprocessor_config.json", p.preprocessor);
    if (spec.arch == "clip" || spec.arch == "xclip") write_clip_vocab(dir, p.n_vocab);
    out.n_params = write_random_safetensors(dir, spec.seed);
    const bool quantized = spec.type == WeightType::q8_0 || spec.type == WeightType::q4_0;
    const fs::path converted = quantized ? work.dir / "f16.gguf" : spec.out;
    model::convert_hf(dir, converted, {.type = spec.type == WeightType::f32 ? model::ConvertType::f32
                                                                              : model::ConvertType::f16});
    if (quantized)
        quantize_vision_gguf(converted, spec.out, spec.type == WeightType::q8_0 ? "Q8_0" : "Q4_0", spec.n_threads);
    out.shape = {.n_vocab = p.n_vocab, .n_embd = p.n_embd, .n_layer = p.n_layer, .n_head = p.n_head,
                 .n_head_kv = p.n_head, .n_ff = p.n_ff, .n_ctx_train = p.n_ctx};
    out.path = spec.out;
    out.file_bytes = fs::file_size(spec.out);
    out.sha256 = sha256_file(spec.out);
    return out;
}

}  // namespace accel::engine::detail
