#pragma once
// X-CLIP (transformers' XCLIPModel, video-text) with accel's own ggml graphs (engine/graphs/xclip.cpp): a GGUF of
// architecture "xclip" (written by `accel convert` from an XCLIPModel checkpoint; keys in docs/convert.md), on any
// ggml backend through ggml_backend_sched. A video goes in as its frames' pixel values (num_frames of them, each
// preprocessed by the model's processor), texts as token ids; tokenize() makes them with the GGUF's vocabulary.
// docs/xclip.md.

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

struct XclipOutput {
    uint32_t n_texts = 0, dim = 0;
    std::vector<float> video_embeds;      // [dim], L2-normalized
    std::vector<float> text_embeds;       // [text][dim]: after the video-specific prompt, L2-normalized
    std::vector<float> logits_per_video;  // [text]: exp(logit_scale) * cosine
};

class XclipModel {
public:
    // Loads the GGUF onto params.device. Throws Error{invalid_input} naming the file when it is not a readable
    // GGUF or not an "xclip", Error{out_of_memory}/Error{backend} when the device cannot hold or run it.
    static XclipModel load(const std::filesystem::path& gguf, const VisionParams& params = {});
    XclipModel(XclipModel&&) noexcept;
    XclipModel& operator=(XclipModel&&) noexcept;
    ~XclipModel();

    const media::ImageProcessorConfig& processor() const;  // xclip.preprocessor_config, else VideoMAE's defaults
    uint32_t image_size() const;
    uint32_t n_frames() const;        // the frames a video is sampled to (vision_config.num_frames)
    uint32_t context_length() const;  // the most tokens a text may have, BOS and EOS included
    uint32_t eos_token_id() const;
    VisionMemory memory() const;
    bool has_tokenizer() const;
    // CLIPTokenizer's ids of `text` (BOS ... EOS). Throws Error{invalid_input} naming the model when it has no
    // tokenizer or the text is not UTF-8. Thread-safe.
    std::vector<int32_t> tokenize(std::string_view text) const;

    // Embeds one video (n_frames() frames, each image_size() squared) and the texts (token ids ending where the
    // first EOS is), runs the prompt generator over each text with the video's patch features, and scores each
    // text. Throws Error{invalid_input} for no text, another number of frames, a wrong frame size, a text longer
    // than the context, without an EOS, or with an id outside the vocabulary. Not thread-safe.
    XclipOutput run(std::span<const media::PixelValues> frames, const std::vector<std::vector<int32_t>>& texts);
    // The video tower alone (frames, message tokens, integration transformer): the L2-normalized video embedding,
    // [dim]. Throws as run. Not thread-safe.
    std::vector<float> embed_video(std::span<const media::PixelValues> frames);

private:
    struct Impl;
    explicit XclipModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct XclipMatches {
    std::filesystem::path video;
    uint32_t n_frames_total = 0;          // frames in the file or folder
    std::vector<uint32_t> frame_indices;  // the sampled ones (media::sample_frame_indices)
    std::vector<std::string> texts;
    std::vector<std::vector<int32_t>> input_ids;  // each text's tokens, BOS and EOS included
    XclipOutput output;
    std::vector<float> probabilities;  // softmax of logits_per_video over the texts
    uint32_t best_text = 0;            // the text of highest probability (the first on a tie)
};

// Loads the model, tokenizes the texts, reads the video (a file through FFmpeg, or a folder of PNG/JPEG frames;
// media::read_video samples n_frames() of them), preprocesses each frame and scores every text. Throws as
// XclipModel::load, and Error{invalid_input} naming the model when there is no text, no tokenizer or a text is too
// long, and naming the video when it cannot be read.
XclipMatches match_video_texts(const std::filesystem::path& model, const std::filesystem::path& video,
                               const std::vector<std::string>& texts, const VisionParams& params = {});

}  // namespace accel::engine
