#pragma once
// Speech recognition by CTC with accel's own ggml graphs (engine/graphs/wav2vec2.cpp): a GGUF of architecture
// "wav2vec2" (written by `accel convert` from a Wav2Vec2ForCTC checkpoint; keys in docs/convert.md), on any ggml
// backend through ggml_backend_sched. docs/wav2vec2.md describes the whole path.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace accel::engine {

struct CtcParams {
    std::string device;     // ggml device name ("cuda0"); "" or "cpu": the CPU
    int32_t n_threads = 0;  // CPU threads; 0: every core
};

// Wav2Vec2CTCTokenizer's decoding settings, as the GGUF stores them (wav2vec2.ctc.*).
struct CtcVocab {
    std::vector<std::string> tokens;  // id order, one per logit
    int32_t blank_id = 0;             // the pad token, CTC's blank
    std::string word_delimiter = "|";
    std::string replace_word_delimiter = " ";
    bool do_lower_case = false;
};

// What one forward pass over one clip gives.
struct CtcOutput {
    uint32_t n_frames = 0, n_vocab = 0, n_embd = 0;
    std::vector<float> logits;             // [frame][vocab]
    std::vector<float> last_hidden_state;  // [frame][n_embd]: the encoder's output, before the CTC head
};

class CtcModel {
public:
    // Loads the GGUF onto params.device. Throws Error{invalid_input} naming the file when it is not a readable GGUF
    // or not a "wav2vec2" model, Error{invalid_input} for an unknown device, Error{out_of_memory}/Error{backend}
    // when the device cannot hold or run it.
    static CtcModel load(const std::filesystem::path& gguf, const CtcParams& params = {});
    CtcModel(CtcModel&&) noexcept;
    CtcModel& operator=(CtcModel&&) noexcept;
    ~CtcModel();

    const CtcVocab& vocab() const;
    uint32_t sampling_rate() const;  // Hz, the feature extractor's (16000 for every Wav2Vec2 checkpoint)
    bool do_normalize() const;       // whether the feature extractor normalizes the waveform (preprocess())
    // Frames the convolutional feature encoder gives for n_samples samples (one per 320 in wav2vec2-base); 0 when
    // the clip is shorter than its receptive field (400 samples there).
    uint32_t n_frames(size_t n_samples) const;

    // Wav2Vec2FeatureExtractor on one mono clip at sampling_rate(): the samples, zero-mean unit-variance when
    // do_normalize() (media::wav2vec2_normalize).
    std::vector<float> preprocess(std::span<const float> samples) const;
    // One forward pass over preprocessed input values. Throws Error{invalid_input} when n_frames() is 0,
    // Error{backend} when the graph fails. Not thread-safe (one graph at a time).
    CtcOutput run(std::span<const float> input_values);

private:
    struct Impl;
    explicit CtcModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The best id of each frame (logits: [frame][n_vocab]; the first of equal maxima, as torch's argmax).
std::vector<int32_t> ctc_greedy_ids(std::span<const float> logits, uint32_t n_vocab);
// Wav2Vec2CTCTokenizer.decode: repeats collapsed, blanks dropped, the word delimiter replaced, the result stripped of
// spaces at both ends (and lowercased with do_lower_case). Ids outside the vocabulary throw Error{invalid_input}.
std::string ctc_decode(std::span<const int32_t> ids, const CtcVocab& vocab);
// Preprocess, run, greedy decode: the transcript of mono samples at model.sampling_rate(). Throws as run().
std::string transcribe_ctc(CtcModel& model, std::span<const float> samples);

}  // namespace accel::engine
