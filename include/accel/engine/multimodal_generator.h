#pragma once
// Vision-language generation (LLaVA-1.5, LLaVA-Next): a text model GGUF and its multimodal projector GGUF (both from
// `accel convert --out M --mmproj-out P`, or llama.cpp's own files); the text model prefills the image embeddings
// between the prompt's tokens. A LLaVA projector ("clip", projector type "mlp") runs on accel's own graph with
// transformers' preprocessing (CLIPImageProcessor; LlavaNextImageProcessor's anyres views, unpadding and
// image_newline): the pinned libmtmd's clip.cpp misplaces LLaVA's CLS token and has no LLaVA-Next unpadding
// (docs/llava.md). Any other projector runs on libmtmd as llama-mtmd-cli does.
// The steps are separate (prepare, encode_images, prefill, next) so that a caller can time each of them: the engine
// itself measures nothing.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/engine/token_logits.h"
#include "accel/media/image.h"
#include "accel/media/image_processor.h"

namespace accel::engine {

struct MultimodalParams {
    std::string device;     // ggml device name ("cuda0"); "" or "cpu": the CPU
    int32_t n_threads = 0;  // CPU threads; 0: every core
    uint32_t n_ctx = 4096;  // context (prompt, image embeddings and generated tokens); capped at the model's training context
    bool reference = false; // a reference comparison: f32 KV cache and no flash attention (both round through f16)
    // A LLaVA projector's image side runs on accel's own graph (engine/graphs/llava_vision.h), which matches
    // transformers; true runs it on libmtmd's clip.cpp instead, which at the pin does not (docs/llava.md). Only the
    // test that watches the pin sets it.
    bool libmtmd_vision = false;
};

// An image as transformers' processor left it (its pixel_values): LLaVA one view, LLaVA-Next the whole image and
// then the tiles in row order; and the original image's size (LLaVA-Next unpads to it).
struct ProcessedImage {
    std::vector<media::PixelValues> views;
    uint32_t height = 0, width = 0;
};

struct MultimodalPrompt {
    int32_t n_text_tokens = 0;
    int32_t n_image_tokens = 0;  // embeddings the images became
    int32_t n_images = 0;
};

// One generator holds one llama.cpp context and one libmtmd context: use it from one thread at a time.
class MultimodalGenerator {
public:
    // Loads the text model and the projector onto params.device. Throws Error{invalid_input} in one line when
    // either file is missing or not a GGUF, when `mmproj` is not a vision projector ("clip" GGUF with a vision
    // encoder), or when it does not belong to the model (its output width differs from the model's embedding width);
    // Error{backend} when llama.cpp or libmtmd cannot load them.
    static MultimodalGenerator load(const std::filesystem::path& model, const std::filesystem::path& mmproj,
                                    const MultimodalParams& params = {});
    MultimodalGenerator(MultimodalGenerator&&) noexcept;
    MultimodalGenerator& operator=(MultimodalGenerator&&) noexcept;
    ~MultimodalGenerator();

    // The text that stands for an image in a prompt (libmtmd's media marker, "<__media__>").
    static std::string image_marker();
    // A LLaVA prompt around the user's text: "USER: <marker>\n<text> ASSISTANT:" with one marker per image
    // (the format of llava-hf's chat template); a text that already holds the markers keeps them where they are.
    static std::string llava_prompt(const std::string& text, size_t n_images);

    // Step 1: tokenizes `prompt` (one image_marker() per image) with the images, and clears the context. Throws
    // Error{invalid_input} when the markers and images disagree or an image cannot be preprocessed, or when the
    // prompt does not fit the context.
    MultimodalPrompt prepare(const std::string& prompt, std::span<const media::Image> images);
    // Step 2: runs the vision tower and projector over every image. Error{backend} when libmtmd fails.
    void encode_images();
    // Step 3: decodes the prompt: text tokens and image embeddings (encoding the images first if step 2 was skipped).
    // Error{invalid_input} when the prompt ends with an image, Error{backend} when llama_decode fails.
    void prefill();
    // Step 4: the next token (greedy), decoded into the context; its text, or nullopt at end of generation or when
    // the context is full. Error{backend} when llama_decode fails.
    std::optional<std::string> next();

    // Teacher forcing for a reference comparison: every position's logits over `ids`, where each maximal run of
    // `image_token_id` stands for the next of `images` (its embeddings; the run must be as long as the
    // embeddings). Row i predicts the token after position i. Error{invalid_input} when a run's length or the number
    // of runs disagrees with the images. Resets the context.
    TokenLogits forced_logits(const std::vector<int32_t>& ids, int32_t image_token_id,
                              std::span<const media::Image> images);

    // The same over images already preprocessed (a reference's pixel values). Needs accel's own image side (a LLaVA
    // projector, libmtmd_vision false): Error{invalid_input} otherwise, or when the views do not fit the projector.
    TokenLogits forced_logits(const std::vector<int32_t>& ids, int32_t image_token_id,
                              std::span<const ProcessedImage> images);

    int32_t n_embd() const;  // the text model's embedding width (the projector's output width)
    // What runs the images: "accel" (a LLaVA projector on accel's graph) or "libmtmd".
    std::string vision_runtime() const;

private:
    struct Impl;
    explicit MultimodalGenerator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace accel::engine
