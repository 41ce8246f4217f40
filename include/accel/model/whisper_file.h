#pragma once
// whisper.cpp's model file (the ggml "lmgg" format that its models/convert-h5-to-ggml.py writes): the layout, a
// validator that checks a file whole before whisper.cpp (which trusts its input) reads it, and the mel filter bank
// as Hugging Face's WhisperFeatureExtractor computes it. docs/whisper.md describes the format.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::model {

inline constexpr uint32_t whisper_file_magic = 0x67676d6c;  // "ggml" as a little-endian uint32 (bytes "lmgg")

// The eleven int32 hyperparameters in file order.
struct WhisperHparams {
    int32_t n_vocab = 0;
    int32_t n_audio_ctx = 0;    // encoder positions (mel frames / 2)
    int32_t n_audio_state = 0;  // d_model
    int32_t n_audio_head = 0;
    int32_t n_audio_layer = 0;
    int32_t n_text_ctx = 0;     // decoder positions
    int32_t n_text_state = 0;
    int32_t n_text_head = 0;
    int32_t n_text_layer = 0;
    int32_t n_mels = 0;
    int32_t ftype = 0;          // 0: f32 weights, 1: f16 weights (the only two accel writes and reads)
};

// One tensor of the layout whisper.cpp's loader builds from the hyperparameters.
struct WhisperTensorSpec {
    std::string name;            // whisper.cpp's ("encoder.blocks.0.attn.query.weight")
    std::string hf_name;         // transformers' WhisperForConditionalGeneration ("model.encoder.layers.0.self_attn.q_proj.weight")
    std::vector<int64_t> ne;     // ggml order, as the file stores it
    uint32_t ggml_type = 0;      // 0 f32, 1 f16: what the loader expects for this ftype
};

// Every tensor whisper.cpp's loader expects, in the order accel writes them. Each must appear exactly once.
std::vector<WhisperTensorSpec> whisper_tensor_layout(const WhisperHparams& h);

// Checks the hyperparameters as accel's converter and whisper.cpp's graphs need them (positive and bounded,
// n_text_state == n_audio_state, heads dividing the width, the vocabulary at least whisper.cpp's fixed special ids,
// ftype 0 or 1). Throws Error{invalid_input} "<source>: ..." on the first violation.
void check_whisper_hparams(const WhisperHparams& h, const std::string& source);

struct WhisperFileInfo {
    WhisperHparams hparams;
    int32_t n_filter_mels = 0, n_filter_bins = 0;  // the mel filter bank's shape
    int32_t n_tokens = 0;                          // tokens stored (whisper.cpp adds the specials past them)
    uint64_t n_tensors = 0;
    uint64_t file_bytes = 0;
};

// Reads the whole file and checks it against its size and against whisper_tensor_layout(): the magic, the
// hyperparameters, the filter bank's shape, every token's length, every tensor's header (dimensions, name, type,
// shape) and data, each expected tensor exactly once, nothing after the last. Throws Error{invalid_input} with one
// line naming the file and the first problem (Error{io} when it cannot be opened). Memory: the token and tensor
// tables, not the data. Thread-safe.
WhisperFileInfo validate_whisper_file(const std::filesystem::path& path);

// The bytes of a whisper.cpp file before its first tensor: the magic, the hyperparameters, the mel filter bank
// (whisper_mel_filters(h.n_mels, 400, 16000)) and each token as (int32 length, bytes). For every writer (accel
// convert, accel make-model whisper).
std::vector<uint8_t> whisper_file_header(const WhisperHparams& h, const std::vector<std::string>& tokens);

// One tensor's header, which its data follows: n_dims, name length, ggml type, ne[] (int32 each), then the name.
std::vector<uint8_t> whisper_tensor_header(const WhisperTensorSpec& t);

// The mel filter bank of WhisperFeatureExtractor (transformers' audio_utils.mel_filter_bank with
// num_frequency_bins = 1 + n_fft/2, min 0 Hz, max sample_rate/2, norm "slaney", mel_scale "slaney"), computed in
// double and returned as float, row-major [n_mels][1 + n_fft/2] (the layout whisper.cpp's file stores).
std::vector<float> whisper_mel_filters(int32_t n_mels, int32_t n_fft, int32_t sample_rate);

}  // namespace accel::model
