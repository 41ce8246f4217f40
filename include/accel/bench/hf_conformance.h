#pragma once

// `accel conform` against transformers: the registry of the 13 key Hugging Face classes, and how each is checked
// against the reference outputs committed with its fixture (tests/fixtures/hf/<class>, made by scripts/oracle).
// Limits: model::hf_limits() (docs/conform.md, "Against transformers").

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace accel::bench {

// What accel runs for a class, and so what it compares.
enum class HfRun : uint8_t {
    none,                // no case yet: HfClass::not_yet says why
    decoder_logits,      // logits over the reference's ids (prompt + its greedy ids: teacher forcing) and top-1
    encoder_embeddings,  // tokenization, the mean-pooled normalised embedding, the [CLS] and last token states,
                         // and the classification logits of head_fixture
    seq2seq_logits,      // T5 through llama_encode + the decoder: encoder states, teacher-forced decoder logits, top-1
    image_classes,       // ViT (accel's ggml graph) on transformers' pixel values: logits, hidden states, top label
    image_text,          // CLIP (accel's ggml graphs): image and text embeddings, logits_per_image, best text
    speech_logits,       // Whisper (whisper.cpp) on transformers' log-mel features: teacher-forced logits, top-1
    object_detection,    // DETR (accel's ggml graph) on transformers' padded batch and pixel mask: logits and boxes
    ctc_logits,          // Wav2Vec2 (accel's ggml graph) on transformers' input values: CTC logits, encoder output,
                         // each frame's best id, the greedy CTC transcription
    vision_language,     // LLaVA (libmtmd) on transformers' pixel values: teacher-forced logits over the ids, top-1
    audio_text,          // CLAP (accel's ggml graphs) on transformers' input features and ids: audio and text
                         // embeddings, logits_per_audio, best text
    video_text,          // X-CLIP (accel's ggml graph) on transformers' frames: video and text embeddings,
                         // logits_per_video, best text
};

struct HfClass {
    std::string model_type;  // Hugging Face config.json "model_type"
    std::string fixture;     // folder under the fixtures root; "" when there is none yet
    HfRun run = HfRun::none;
    std::string not_yet;     // why there is no case yet ("" when there is one)
    // A second fixture with a classification head (bert_cls: BertForSequenceClassification) whose logits the case
    // compares too, through llama.cpp's pooling "rank"; for detr, detr_timm (timm's backbone), run as the first and
    // each figure the worse of the two; "" when none.
    std::string head_fixture;
};

// The 13 key classes (bert, clap, clip, detr, llama, llava, llava_next, qwen2, t5, vit, wav2vec2, whisper, xclip),
// sorted by model_type. Thread-safe (static data).
const std::vector<HfClass>& hf_classes();
const HfClass* find_hf_class(std::string_view model_type);  // nullptr when it is none of them

// The reference a fixture's outputs came from: reference.json's "reference" ("transformers 4.57.6"), else the
// transformers line of <fixtures root>/VERSIONS. Throws Error{invalid_input} when neither names one.
std::string hf_fixture_reference(const std::filesystem::path& fixture_dir);

}  // namespace accel::bench
