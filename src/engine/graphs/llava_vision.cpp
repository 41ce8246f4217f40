// LLaVA's image side on accel's ggml graph (llava_vision.h). The tower reuses vit_encoder's blocks; the layout of the
// tokens is transformers' (CLS at 0, position row i for token i), which the pinned clip.cpp's llava graph breaks.
#include "llava_vision.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/media/resample.h"
#include "ggml_runtime.h"
#include "vit_encoder.h"

namespace accel::engine::graphs {
namespace {

namespace fs = std::filesystem;

void check_llava(const GgufWeights& w) {
    const std::string arch = w.architecture();
    const std::string proj = w.find_string("clip.projector_type").value_or("");
    if (arch != "clip" || proj != "mlp")
        throw Error(ErrorKind::invalid_input, fmt::format("{}: not a LLaVA projector (general.architecture '{}', "
                                                          "clip.projector_type '{}'; expected 'clip' and 'mlp')",
                                                          w.file().string(), arch, proj));
}

// How many blocks clip.cpp's llava graph runs for this file: up to clip.vision.feature_layer (one layer; accel
// convert writes it), else all but the last (block_count then counts the tower's layers).
uint32_t blocks_to_run(const GgufWeights& w, uint32_t n_layer) {
    if (!w.has("clip.vision.feature_layer")) return n_layer - 1;
    const auto fl = w.get_i32s("clip.vision.feature_layer");
    if (fl.size() != 1 || fl[0] < 1 || static_cast<uint32_t>(fl[0]) > n_layer)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: clip.vision.feature_layer must be one layer in 1..{} "
                                                          "(accel runs LLaVA's one-layer MLP projector)",
                                                          w.file().string(), n_layer));
    return static_cast<uint32_t>(fl[0]);
}

std::array<float, 3> three(const GgufWeights& w, const std::string& key, std::array<float, 3> fallback) {
    if (!w.has(key)) return fallback;
    const auto v = w.get_f32s(key);
    if (v.size() != 3)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is not three numbers", w.file().string(), key));
    return {v[0], v[1], v[2]};
}

// transformers' select_best_resolution over (height, width) pinpoints for an image of (height, width).
using Pinpoints = std::vector<std::array<uint32_t, 2>>;  // (height, width), transformers' order

std::pair<uint32_t, uint32_t> best_resolution(uint32_t h, uint32_t w, const Pinpoints& pins) {
    std::pair<uint32_t, uint32_t> best{0, 0};
    int64_t best_effective = 0, best_wasted = std::numeric_limits<int64_t>::max();
    for (const auto& [ph, pw] : pins) {
        const double scale = std::min(double(pw) / w, double(ph) / h);
        const auto dw = static_cast<int64_t>(w * scale), dh = static_cast<int64_t>(h * scale);
        const int64_t effective = std::min(dw * dh, int64_t{w} * h);
        const int64_t wasted = int64_t{pw} * ph - effective;
        if (effective > best_effective || (effective == best_effective && wasted < best_wasted)) {
            best_effective = effective;
            best_wasted = wasted;
            best = {ph, pw};
        }
    }
    return best;
}

// transformers' unpad_image on a grid of rows x cols features of an image of (height, width): the rows (or columns)
// to keep, [first, last).
struct Unpadded {
    uint32_t row0, row1, col0, col1;
};
Unpadded unpad(uint32_t rows, uint32_t cols, uint32_t height, uint32_t width) {
    const double original_aspect = double(width) / height, current_aspect = double(cols) / rows;
    // int(round(x, 7)), as transformers rounds before truncating
    const auto r7 = [](double x) { return static_cast<uint32_t>(std::round(x * 1e7) / 1e7); };
    if (original_aspect > current_aspect) {
        const uint32_t new_rows = r7(height * (double(cols) / width));
        const uint32_t pad = (rows - std::min(rows, new_rows)) / 2;
        return {pad, rows - pad, 0, cols};
    }
    const uint32_t new_cols = r7(width * (double(rows) / height));
    const uint32_t pad = (cols - std::min(cols, new_cols)) / 2;
    return {0, rows, pad, cols - pad};
}

}  // namespace

struct LlavaVision::Impl {
    GraphRunner runner;
    GgufWeights weights;
    VitHparams hp;
    uint32_t n_out = 0;
    Pinpoints pinpoints;
    media::ImageProcessorConfig processor;
    ggml_tensor *patch_w = nullptr, *patch_b = nullptr, *cls = nullptr, *position = nullptr;
    ggml_tensor *pre_w = nullptr, *pre_b = nullptr;
    std::vector<VitBlock> blocks;
    ggml_tensor *mm0_w = nullptr, *mm0_b = nullptr, *mm2_w = nullptr, *mm2_b = nullptr;
    std::vector<float> newline;  // LLaVA-Next's image_newline, [n_out]

    Impl(const fs::path& file, const std::string& device, int32_t n_threads)
        : runner(device, n_threads), weights(file, runner.device(), check_llava) {}

    void read_hparams();
    void read_tensors();
    std::vector<float> features(std::span<const media::PixelValues> views);
    uint32_t side() const { return hp.image_size / hp.patch_size; }
};

void LlavaVision::Impl::read_hparams() {
    const GgufWeights& w = weights;
    hp = read_block_hparams(w, "clip.vision");
    hp.image_size = w.get_u32("clip.vision.image_size");
    hp.patch_size = w.get_u32("clip.vision.patch_size");
    if (hp.patch_size == 0 || hp.image_size % hp.patch_size != 0 || hp.image_size > 8192)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: image_size {} is not a multiple of patch_size {}",
                                                          w.file().string(), hp.image_size, hp.patch_size));
    hp.act = w.has("clip.use_gelu") && w.get_bool("clip.use_gelu") ? Activation::gelu_erf : Activation::quick_gelu;
    hp.n_layer = blocks_to_run(w, hp.n_layer);
    hp.pre_norm = true;
    // the CPU's flash attention takes f32 K/V (as fast as clip.cpp's f16 casts, without their rounding); another
    // device's may not, and the scheduler would then run it on the CPU
    hp.flash_attn = ggml_backend_dev_type(runner.device()) == GGML_BACKEND_DEVICE_TYPE_CPU;
    if (w.has("clip.vision.image_grid_pinpoints")) {
        const auto p = w.get_i32s("clip.vision.image_grid_pinpoints");  // (width, height) pairs, clip.cpp's order
        for (size_t i = 0; i + 1 < p.size(); i += 2) {
            const auto tile = static_cast<int32_t>(hp.image_size);
            if (p[i] <= 0 || p[i + 1] <= 0 || p[i] % tile != 0 || p[i + 1] % tile != 0)
                throw Error(ErrorKind::invalid_input, fmt::format("{}: image_grid_pinpoints {}x{} is not a grid of "
                                                                  "{}-pixel tiles", w.file().string(), p[i], p[i + 1],
                                                                  hp.image_size));
            pinpoints.push_back({uint32_t(p[i + 1]), uint32_t(p[i])});
        }
    }
    processor = {.type = "CLIPImageProcessor", .height = hp.image_size, .width = hp.image_size,
                 .shortest_edge = hp.image_size, .resample = media::Resample::bicubic, .do_center_crop = true,
                 .crop_height = hp.image_size, .crop_width = hp.image_size,
                 .mean = three(w, "clip.vision.image_mean", {0.48145466f, 0.4578275f, 0.40821073f}),
                 .std = three(w, "clip.vision.image_std", {0.26862954f, 0.26130258f, 0.27577711f})};
}

void LlavaVision::Impl::read_tensors() {
    const GgufWeights& w = weights;
    const int64_t e = hp.n_embd, p = hp.patch_size, n_pos = int64_t{side()} * side() + 1;
    patch_w = w.tensor("v.patch_embd.weight", {p, p, 3, e});
    patch_b = w.has_tensor("v.patch_embd.bias") ? w.tensor("v.patch_embd.bias", {e}) : nullptr;
    cls = w.tensor("v.class_embd", {e}, true);
    position = w.tensor("v.position_embd.weight", {e, n_pos}, true);
    pre_w = w.tensor("v.pre_ln.weight", {e});
    pre_b = w.tensor("v.pre_ln.bias", {e});
    for (uint32_t i = 0; i < hp.n_layer; ++i) {
        const std::string b = fmt::format("v.blk.{}.", i);
        auto t = [&](const char* name, std::vector<int64_t> ne) { return w.tensor(b + name, std::move(ne)); };
        const int64_t ff = hp.n_ff;
        blocks.push_back({t("ln1.weight", {e}), t("ln1.bias", {e}), t("attn_q.weight", {e, e}), t("attn_q.bias", {e}),
                          t("attn_k.weight", {e, e}), t("attn_k.bias", {e}), t("attn_v.weight", {e, e}),
                          t("attn_v.bias", {e}), t("attn_out.weight", {e, e}), t("attn_out.bias", {e}),
                          t("ln2.weight", {e}), t("ln2.bias", {e}), t("ffn_up.weight", {e, ff}), t("ffn_up.bias", {ff}),
                          t("ffn_down.weight", {ff, e}), t("ffn_down.bias", {e})});
    }
    n_out = static_cast<uint32_t>(w.tensor_ne0("mm.0.bias"));
    if (n_out == 0) throw Error(ErrorKind::invalid_input, w.file().string() + ": no mm.0.bias (the MLP projector)");
    mm0_w = w.tensor("mm.0.weight", {e, n_out});
    mm0_b = w.tensor("mm.0.bias", {n_out});
    mm2_w = w.tensor("mm.2.weight", {n_out, n_out});
    mm2_b = w.tensor("mm.2.bias", {n_out});
    if (!pinpoints.empty()) {
        newline.resize(n_out);
        ggml_backend_tensor_get(w.tensor("v.image_newline", {n_out}, true), newline.data(), 0, sizeof(float) * n_out);
    }
}

// Each view's projected patch features, [view][patch][n_out].
std::vector<float> LlavaVision::Impl::features(std::span<const media::PixelValues> views) {
    PixelInput input(views, hp.image_size);
    const int64_t e = hp.n_embd, n_views = static_cast<int64_t>(views.size()), n_patches = int64_t{side()} * side();
    const int p = static_cast<int>(hp.patch_size);
    ggml_tensor* out = nullptr;
    auto build = [&](ggml_context* ctx, ggml_cgraph* graph) {
        ggml_tensor* cols = ggml_im2col(ctx, patch_w, input.create(ctx), p, p, 0, 0, 1, 1, true, GGML_TYPE_F32);
        const int64_t k = cols->ne[0];
        ggml_tensor* x = ggml_mul_mat(ctx, ggml_reshape_2d(ctx, patch_w, k, e),
                                      ggml_reshape_2d(ctx, cols, k, n_patches * n_views));
        if (patch_b != nullptr) x = ggml_add(ctx, x, patch_b);
        x = ggml_reshape_3d(ctx, x, e, n_patches, n_views);
        ggml_tensor* c = ggml_repeat(ctx, ggml_reshape_3d(ctx, cls, e, 1, 1),
                                     ggml_new_tensor_3d(ctx, GGML_TYPE_F32, e, 1, n_views));
        x = ggml_add(ctx, ggml_concat(ctx, c, x, 1), position);  // CLS first, position row i for token i
        x = build_layer_norm(ctx, x, pre_w, pre_b, hp.norm_eps);
        x = build_encoder_blocks(ctx, x, blocks, hp, false);
        x = ggml_cont(ctx, ggml_view_3d(ctx, x, e, n_patches, n_views, x->nb[1], x->nb[2], x->nb[1]));  // CLS dropped
        out = build_linear(ctx, ggml_gelu_erf(ctx, build_linear(ctx, x, mm0_w, mm0_b)), mm2_w, mm2_b);
        ggml_set_output(out);
        ggml_build_forward_expand(graph, out);
    };
    std::vector<float> f(size_t{n_out} * n_patches * views.size());
    runner.run(build, [&] { input.set(); }, [&] { ggml_backend_tensor_get(out, f.data(), 0, ggml_nbytes(out)); });
    return f;
}

LlavaVision::LlavaVision(const fs::path& mmproj, const std::string& device, int32_t n_threads)
    : impl_(std::make_unique<Impl>(mmproj, device, n_threads)) {
    impl_->read_hparams();
    impl_->read_tensors();
}
LlavaVision::LlavaVision(LlavaVision&&) noexcept = default;
LlavaVision& LlavaVision::operator=(LlavaVision&&) noexcept = default;
LlavaVision::~LlavaVision() = default;

bool LlavaVision::anyres() const { return !impl_->pinpoints.empty(); }
uint32_t LlavaVision::n_out() const { return impl_->n_out; }

uint32_t LlavaVision::n_embeddings(uint32_t height, uint32_t width) const {
    const uint32_t s = impl_->side();
    if (!anyres()) return s * s;
    const auto [bh, bw] = best_resolution(height, width, impl_->pinpoints);
    const Unpadded u = unpad(bh / impl_->hp.image_size * s, bw / impl_->hp.image_size * s, height, width);
    return s * s + (u.row1 - u.row0) * (u.col1 - u.col0 + 1);
}

LlavaImage LlavaVision::preprocess(const media::Image& image) const {
    const media::ImageProcessorConfig& pc = impl_->processor;
    LlavaImage out{.views = {}, .height = image.height, .width = image.width};
    if (!anyres()) {
        out.views.push_back(media::preprocess(image, pc));
        return out;
    }
    // LlavaNextImageProcessor.get_image_patches: the whole image squashed to the tower's size, then the image
    // resized into the best pinpoint (aspect kept, ceil), centered on black, cut into tiles in row order
    const uint32_t s = impl_->hp.image_size;
    out.views.push_back(media::preprocess(media::resize(image, s, s, pc.resample), pc));
    const auto [th, tw] = best_resolution(image.height, image.width, impl_->pinpoints);
    const double sw = double(tw) / image.width, sh = double(th) / image.height;
    const uint32_t nw = sw < sh ? tw : std::min<uint32_t>(static_cast<uint32_t>(std::ceil(image.width * sh)), tw);
    const uint32_t nh = sw < sh ? std::min<uint32_t>(static_cast<uint32_t>(std::ceil(image.height * sw)), th) : th;
    const media::Image resized = media::resize(image, nw, nh, pc.resample);
    media::Image padded{.width = tw, .height = th, .rgb = std::vector<uint8_t>(size_t{3} * tw * th, 0)};
    const uint32_t x0 = (tw - nw) / 2, y0 = (th - nh) / 2;
    for (uint32_t y = 0; y < nh; ++y)
        std::copy_n(resized.rgb.begin() + ptrdiff_t(size_t{3} * y * nw), size_t{3} * nw,
                    padded.rgb.begin() + ptrdiff_t(size_t{3} * ((y0 + y) * tw + x0)));
    for (uint32_t ty = 0; ty < th; ty += s)
        for (uint32_t tx = 0; tx < tw; tx += s) {
            media::Image tile{.width = s, .height = s, .rgb = std::vector<uint8_t>(size_t{3} * s * s)};
            for (uint32_t y = 0; y < s; ++y)
                std::copy_n(padded.rgb.begin() + ptrdiff_t(size_t{3} * ((ty + y) * tw + tx)), size_t{3} * s,
                            tile.rgb.begin() + ptrdiff_t(size_t{3} * y * s));
            out.views.push_back(media::preprocess(tile, pc));
        }
    return out;
}

std::vector<float> LlavaVision::embed(const LlavaImage& image) {
    Impl& m = *impl_;
    if (image.views.empty()) throw Error(ErrorKind::invalid_input, "an image without views");
    std::vector<float> f = m.features(image.views);
    if (!anyres()) {
        if (image.views.size() != 1) throw Error(ErrorKind::invalid_input, "LLaVA takes one view of an image");
        return f;
    }
    // LlavaNextForConditionalGeneration.pack_image_features: the overview's features, then the tiles' as one grid
    // (rows of tiles, each tile side x side), unpadded, each row ended by image_newline
    const uint32_t s = m.side(), n = m.n_out;
    const size_t per_view = size_t{s} * s * n;
    std::vector<float> out(f.begin(), f.begin() + ptrdiff_t(per_view));
    if (image.views.size() == 1) {  // no tiles: the view, then one newline
        out.insert(out.end(), m.newline.begin(), m.newline.end());
        return out;
    }
    const auto [bh, bw] = best_resolution(image.height, image.width, m.pinpoints);
    const uint32_t grid_h = bh / m.hp.image_size, grid_w = bw / m.hp.image_size;
    if (image.views.size() != size_t{1} + grid_h * grid_w)
        throw Error(ErrorKind::invalid_input, fmt::format("an image of {}x{} (height x width) has {} tiles and the "
                                                          "overview; {} views given", image.height, image.width,
                                                          grid_h * grid_w, image.views.size()));
    const Unpadded u = unpad(grid_h * s, grid_w * s, image.height, image.width);
    for (uint32_t r = u.row0; r < u.row1; ++r) {
        for (uint32_t c = u.col0; c < u.col1; ++c) {
            const size_t view = 1 + size_t{r / s} * grid_w + c / s;
            const float* row = f.data() + view * per_view + (size_t{r % s} * s + c % s) * n;
            out.insert(out.end(), row, row + n);
        }
        out.insert(out.end(), m.newline.begin(), m.newline.end());
    }
    return out;
}

}  // namespace accel::engine::graphs
