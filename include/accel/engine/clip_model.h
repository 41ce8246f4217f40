#pragma once
// CLIP with accel's own ggml graphs (engine/graphs/clip.cpp): a GGUF of architecture "clip_model" (written by
// `accel convert` from a CLIPModel checkpoint; keys in docs/convert.md), both towers on any ggml backend through
// ggml_backend_sched. Texts go in as token ids; tokenize() turns text into them with the GGUF's own vocabulary
// (model::ClipTokenizer over clip_model.tokenizer.*).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/image_classifier.h"
#include "accel/media/image_processor.h"

namespace accel::engine {

struct ClipOutput {
    uint32_t n_images = 0, n_texts = 0, dim = 0;
    std::vector<float> image_embeds;      // [image][dim], L2-normalized
    std::vector<float> text_embeds;       // [text][dim], L2-normalized
    std::vector<float> logits_per_image;  // [image][text]: exp(logit_scale) * cosine
};

class ClipModel {
public:
    // Loads the GGUF onto params.device. Throws Error{invalid_input} naming the file when it is not a readable
    // GGUF or not a "clip_model", Error{out_of_memory}/Error{backend} when the device cannot hold or run it.
    static ClipModel load(const std::filesystem::path& gguf, const VisionParams& params = {});
    ClipModel(ClipModel&&) noexcept;
    ClipModel& operator=(ClipModel&&) noexcept;
    ~ClipModel();

    const media::ImageProcessorConfig& processor() const;  // clip_model.preprocessor_config, else CLIP's defaults
    uint32_t image_size() const;
    uint32_t eos_token_id() const;
    uint32_t context_length() const;
    VisionMemory memory() const;  // the most tokens a text may have, BOS and EOS included
    bool has_tokenizer() const;       // false for a GGUF converted from a folder without CLIP's tokenizer files
    // CLIPTokenizer's ids of `text` (BOS ... EOS). Throws Error{invalid_input} naming the model when it has no
    // tokenizer, or when the text is not UTF-8. Thread-safe.
    std::vector<int32_t> tokenize(std::string_view text) const;

    // Embeds the images (preprocessed to image_size() squared) and the texts (token ids, each with the EOS id where
    // the text ends; its state there is the text's embedding, as transformers pools it) and scores every pair.
    // Throws Error{invalid_input} for an empty input, a wrong image size, a text longer than the model's context,
    // without an EOS, or with an id outside the vocabulary. Not thread-safe.
    ClipOutput run(std::span<const media::PixelValues> images, const std::vector<std::vector<int32_t>>& texts);
    // The image tower alone: each image's L2-normalized embedding, [image][dim]. Throws as run. Not thread-safe.
    std::vector<float> embed_images(std::span<const media::PixelValues> images);

private:
    struct Impl;
    explicit ClipModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace accel::engine

namespace accel::engine {

struct ClipMatches {
    std::vector<std::filesystem::path> images;
    std::vector<std::string> texts;
    std::vector<std::vector<int32_t>> input_ids;  // each text's tokens, BOS and EOS included
    ClipOutput output;                            // embeddings and logits_per_image [image][text]
    std::vector<float> probabilities;             // [image][text]: softmax of each image's row, as CLIPModel's users do
    std::vector<uint32_t> best_text;              // per image, the text of highest probability (the first on a tie)
};

// Loads the model, tokenizes the texts with its tokenizer, decodes and preprocesses each image with its processor,
// runs both towers once and scores every pair. Throws as ClipModel::load (another architecture included), and
// Error{invalid_input} naming the model when there is no image or no text, when it has no tokenizer or a text is
// longer than its context, and naming an image that cannot be read.
ClipMatches match_images_texts(const std::filesystem::path& model, const std::vector<std::filesystem::path>& images,
                               const std::vector<std::string>& texts, const VisionParams& params = {});

}  // namespace accel::engine
