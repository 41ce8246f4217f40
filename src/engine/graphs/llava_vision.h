#pragma once
// Private to engine: LLaVA's image side as accel's own ggml graph, from transformers' modeling_llava.py and
// modeling_llava_next.py, over a "clip" projector GGUF (accel convert --mmproj-out, or llama.cpp's own LLaVA files:
// clip.cpp's key and tensor names). The CLIP vision tower (CLS first, absolute positions, pre-layernorm, the blocks
// up to vision_feature_layer, no post-layernorm), the patch tokens (CLS dropped: "default" feature select), the MLP
// projector (linear, exact GELU, linear); for LLaVA-Next ("anyres": the GGUF has image_grid_pinpoints), the tiles
// arranged in their grid, unpadded to the image's aspect and ended row by row with image_newline, after the
// overview (LlavaNextForConditionalGeneration.pack_image_features). Why not libmtmd's clip.cpp: docs/llava.md.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "accel/media/image.h"
#include "accel/media/image_processor.h"

namespace accel::engine::graphs {

// One image as the processor leaves it: its views (LLaVA: one; LLaVA-Next: the whole image, then the tiles in row
// order) and the original size, which LLaVA-Next's unpadding needs.
struct LlavaImage {
    std::vector<media::PixelValues> views;
    uint32_t height = 0, width = 0;
};

class LlavaVision {
public:
    // Loads the projector's tensors onto `device` ("" or "cpu": the CPU). Throws Error{invalid_input} naming the
    // file when it is not a LLaVA projector accel runs (is_llava_projector), or a tensor's shape is wrong.
    LlavaVision(const std::filesystem::path& mmproj, const std::string& device, int32_t n_threads);
    LlavaVision(LlavaVision&&) noexcept;
    LlavaVision& operator=(LlavaVision&&) noexcept;
    ~LlavaVision();

    bool anyres() const;    // LLaVA-Next
    uint32_t n_out() const; // the embeddings' width (the text model's)
    // transformers' processor for this projector, from the GGUF's keys: CLIPImageProcessor (shortest edge and
    // center crop to the tower's size, bicubic), or LlavaNextImageProcessor's anyres views.
    LlavaImage preprocess(const media::Image& image) const;
    // How many embeddings an image of this size becomes.
    uint32_t n_embeddings(uint32_t height, uint32_t width) const;
    // The image's embeddings, [n_embeddings][n_out()]. Throws Error{invalid_input} when the views are not of the
    // tower's size, or their number does not fit the image's grid; Error{backend} when the graph fails.
    std::vector<float> embed(const LlavaImage& image);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace accel::engine::graphs
