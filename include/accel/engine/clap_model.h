#pragma once
// CLAP (Hugging Face's ClapModel) with accel's own ggml graphs (engine/graphs/clap.cpp): a GGUF of architecture
// "clap" (written by `accel convert` from an HTSAT-unfused ClapModel checkpoint; keys in docs/convert.md), the HTSAT
// audio tower and the RoBERTa text tower on any ggml backend through ggml_backend_sched. Audio goes in as
// ClapFeatureExtractor's log-mel features (media::clap_log_mel), texts as token ids. docs/clap.md describes the path.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/image_classifier.h"

namespace accel::engine {

// One clip's input_features as ClapFeatureExtractor gives them: row-major [n_frames][n_mels] (dB).
struct ClapFeatures {
    uint32_t n_frames = 0, n_mels = 0;
    std::vector<float> data;
};

struct ClapOutput {
    uint32_t n_audios = 0, n_texts = 0, dim = 0;
    std::vector<float> audio_embeds;      // [audio][dim], L2-normalized
    std::vector<float> text_embeds;       // [text][dim], L2-normalized
    std::vector<float> logits_per_audio;  // [audio][text]: exp(logit_scale_a) * cosine
};

class ClapModel {
public:
    // Loads the GGUF onto params.device. Throws Error{invalid_input} naming the file when it is not a readable GGUF,
    // not a "clap" model or inconsistent, Error{out_of_memory}/Error{backend} when the device cannot hold or run it.
    static ClapModel load(const std::filesystem::path& gguf, const VisionParams& params = {});
    ClapModel(ClapModel&&) noexcept;
    ClapModel& operator=(ClapModel&&) noexcept;
    ~ClapModel();

    uint32_t n_mels() const;
    uint32_t max_frames() const;       // the most frames a clip may have (spec_size * freq_ratio)
    uint32_t context_length() const;   // the most tokens a text may have, <s> and </s> included
    uint32_t pad_token_id() const;
    const std::string& preprocessor_config() const;  // clap.preprocessor_config, "" when absent
    bool has_tokenizer() const;  // false for a GGUF converted from a folder without tokenizer.json
    // RobertaTokenizer's ids of `text` (<s> ... </s>; model::RobertaTokenizer over clap.tokenizer.*). Throws
    // Error{invalid_input} naming the model when it has no tokenizer, or when the text is not UTF-8. Thread-safe.
    std::vector<int32_t> tokenize(std::string_view text) const;
    VisionMemory memory() const;

    // Embeds the clips and the texts (token ids, <s> ... </s>, no padding: the model pads them) and scores every
    // pair. Throws Error{invalid_input} for an empty input, features of another mel count or more than max_frames()
    // frames, a text longer than context_length() or with an id outside the vocabulary. Not thread-safe.
    ClapOutput run(std::span<const ClapFeatures> audios, const std::vector<std::vector<int32_t>>& texts);
    // Either tower alone: L2-normalized embeddings, [item][dim]. Throw as run. Not thread-safe.
    std::vector<float> embed_audio(std::span<const ClapFeatures> audios);
    std::vector<float> embed_texts(const std::vector<std::vector<int32_t>>& texts);

private:
    struct Impl;
    explicit ClapModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// What accel infer prints for a CLAP model: one clip scored against texts.
struct ClapMatches {
    std::filesystem::path audio;
    double audio_seconds = 0;
    bool truncated = false;  // the clip was longer than the feature extractor's max_length_s: its start was kept
    std::vector<std::string> texts;
    std::vector<std::vector<int32_t>> input_ids;  // each text's tokens, <s> and </s> included
    ClapOutput output;                            // embeddings and logits_per_audio [text]
    std::vector<float> cosine;                    // [text]: the cosine similarity of the two embeddings
    std::vector<float> probabilities;             // [text]: softmax of logits_per_audio, as ClapModel's users do
    uint32_t best_text = 0;                       // the text of highest probability (the first on a tie)
};

// Loads the model, decodes the audio file (media::load_audio, resampled to the feature extractor's rate), computes
// its features (media::clap_log_mel with the GGUF's clap.preprocessor_config, ClapFeatureExtractor's defaults
// without one), tokenizes the texts with the model's tokenizer, runs both towers once and scores every text. Throws
// as ClapModel::load (another architecture included), and Error{invalid_input} naming the model when there is no
// text, no tokenizer or a text longer than its context, naming the audio file when it cannot be read.
ClapMatches match_audio_texts(const std::filesystem::path& model, const std::filesystem::path& audio,
                              const std::vector<std::string>& texts, const VisionParams& params = {});

}  // namespace accel::engine
