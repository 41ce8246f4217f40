#include "accel/model/hf_limits.h"

namespace accel::model {

std::string_view to_string(HfMetric metric) {
    switch (metric) {
        case HfMetric::logits_rel: return "logits_rel";
        case HfMetric::top1: return "top1";
        case HfMetric::embedding_max_abs: return "embedding_max_abs";
        case HfMetric::embedding_cosine: return "embedding_cosine";
        case HfMetric::state_rel: return "state_rel";
        case HfMetric::class_logits_rel: return "class_logits_rel";
        case HfMetric::box_max_abs: return "box_max_abs";
    }
    return "?";
}

bool higher_is_better(HfMetric metric) { return metric == HfMetric::top1 || metric == HfMetric::embedding_cosine; }

// docs/conform.md, "Against transformers": the measured values and why each limit is where it is.
const std::vector<HfLimit>& hf_limits() {
    using T = ConvertType;
    using M = HfMetric;
    static const std::vector<HfLimit> table = {
        // decoders: logits over prompt + the reference's greedy ids (teacher forcing), and top-1 with the margin rule
        {"llama", T::f32, M::logits_rel, 1e-5},  {"llama", T::f32, M::top1, 1.0},
        {"llama", T::f16, M::logits_rel, 2e-3},  {"llama", T::f16, M::top1, 1.0},
        {"llama", T::q8_0, M::logits_rel, 5e-2}, {"llama", T::q8_0, M::top1, 0.9},
        {"qwen2", T::f32, M::logits_rel, 1e-5},  {"qwen2", T::f32, M::top1, 1.0},
        {"qwen2", T::f16, M::logits_rel, 2e-3},  {"qwen2", T::f16, M::top1, 1.0},
        {"qwen2", T::q8_0, M::logits_rel, 5e-2}, {"qwen2", T::q8_0, M::top1, 0.9},
        // encoder: the mean-pooled normalised embedding, and the [CLS] and last token states
        // (the fixture's LayerNorm gains are 1 + N(0, 0.1) since Dec 2026: states of range 6.6, not 0.63, so ggml's
        // f16-table GELU shows more; limits about 2x the measured figures, docs/conform.md)
        {"bert", T::f32, M::embedding_max_abs, 1e-4},   {"bert", T::f32, M::embedding_cosine, 1 - 3e-8},
        {"bert", T::f32, M::state_rel, 3e-4},
        {"bert", T::f16, M::embedding_max_abs, 3e-4},   {"bert", T::f16, M::embedding_cosine, 1 - 1.5e-7},
        {"bert", T::f16, M::state_rel, 4e-4},
        {"bert", T::bf16, M::embedding_max_abs, 2e-3},  {"bert", T::bf16, M::embedding_cosine, 1 - 2e-5},
        {"bert", T::bf16, M::state_rel, 3e-3},
        {"bert", T::q8_0, M::embedding_max_abs, 7e-3},  {"bert", T::q8_0, M::embedding_cosine, 1 - 1.5e-4},
        {"bert", T::q8_0, M::state_rel, 1.2e-2},
        // BertForSequenceClassification (fixture bert_cls): classifier(tanh(dense(CLS state))), llama.cpp's rank
        {"bert", T::f32, M::class_logits_rel, 1e-3},  {"bert", T::f16, M::class_logits_rel, 3e-3},
        {"bert", T::bf16, M::class_logits_rel, 3e-2}, {"bert", T::q8_0, M::class_logits_rel, 6e-2},
        // encoder-decoder: teacher-forced decoder logits and the encoder's output (ggml's f16-table GELU again)
        {"t5", T::f32, M::logits_rel, 1e-3},  {"t5", T::f32, M::state_rel, 1e-3},  {"t5", T::f32, M::top1, 1.0},
        {"t5", T::f16, M::logits_rel, 4e-3},  {"t5", T::f16, M::state_rel, 3e-3},  {"t5", T::f16, M::top1, 1.0},
        {"t5", T::q8_0, M::logits_rel, 0.15}, {"t5", T::q8_0, M::state_rel, 0.1},  {"t5", T::q8_0, M::top1, 0.75},
        {"t5", T::bf16, M::state_rel, 1.5e-2},  // T5EncoderModel's bf16 fixture (t5_encoder)
        // images: ViT's logits and final hidden states; CLIP's embeddings and logits_per_image (a small range)
        {"vit", T::f32, M::logits_rel, 1e-5},  {"vit", T::f32, M::state_rel, 1e-5},  {"vit", T::f32, M::top1, 1.0},
        {"vit", T::f16, M::logits_rel, 2e-3},  {"vit", T::f16, M::state_rel, 2e-3},  {"vit", T::f16, M::top1, 1.0},
        {"vit", T::q8_0, M::logits_rel, 3e-2}, {"vit", T::q8_0, M::state_rel, 3e-2}, {"vit", T::q8_0, M::top1, 1.0},
        {"clip", T::f32, M::embedding_max_abs, 1e-5},  {"clip", T::f32, M::logits_rel, 1e-5},
        {"clip", T::f32, M::top1, 1.0},
        {"clip", T::f16, M::embedding_max_abs, 1e-3},  {"clip", T::f16, M::logits_rel, 1e-2},
        {"clip", T::f16, M::top1, 1.0},
        {"clip", T::q8_0, M::embedding_max_abs, 3e-2}, {"clip", T::q8_0, M::logits_rel, 1e-1},
        {"clip", T::q8_0, M::top1, 1.0},
        // video-text: X-CLIP's video and text embeddings and logits_per_video (docs/xclip.md)
        {"xclip", T::f32, M::embedding_max_abs, 1e-5},  {"xclip", T::f32, M::logits_rel, 1e-5},
        {"xclip", T::f32, M::top1, 1.0},
        {"xclip", T::f16, M::embedding_max_abs, 1e-3},  {"xclip", T::f16, M::logits_rel, 1e-2},
        {"xclip", T::f16, M::top1, 1.0},
        {"xclip", T::q8_0, M::embedding_max_abs, 3e-2}, {"xclip", T::q8_0, M::logits_rel, 1e-1},
        {"xclip", T::q8_0, M::top1, 1.0},
        // detection: DETR's class logits and boxes (docs/detr.md)
        {"detr", T::f32, M::logits_rel, 1e-5},  {"detr", T::f32, M::box_max_abs, 1e-5},
        {"detr", T::f16, M::logits_rel, 2e-3},  {"detr", T::f16, M::box_max_abs, 1e-3},
        {"detr", T::q8_0, M::logits_rel, 3e-2}, {"detr", T::q8_0, M::box_max_abs, 1.5e-2},
        // vision-language: LLaVA and LLaVA-Next (accel's graph for the vision tower and projector, then llama.cpp),
        // teacher-forced. The limits are the decoders' (docs/llava.md)
        {"llava", T::f32, M::logits_rel, 1e-4},  {"llava", T::f32, M::top1, 1.0},
        {"llava", T::f16, M::logits_rel, 2e-3},  {"llava", T::f16, M::top1, 1.0},
        {"llava", T::q8_0, M::logits_rel, 5e-2}, {"llava", T::q8_0, M::top1, 0.9},
        {"llava_next", T::f32, M::logits_rel, 1e-4},  {"llava_next", T::f32, M::top1, 1.0},
        {"llava_next", T::f16, M::logits_rel, 2e-3},  {"llava_next", T::f16, M::top1, 1.0},
        {"llava_next", T::q8_0, M::logits_rel, 5e-2}, {"llava_next", T::q8_0, M::top1, 0.9},
        // speech: whisper.cpp's teacher-forced decoder logits (f32 and f16 files only; its KV caches are f16)
        {"whisper", T::f32, M::logits_rel, 5e-4}, {"whisper", T::f32, M::top1, 1.0},
        {"whisper", T::f16, M::logits_rel, 1e-3}, {"whisper", T::f16, M::top1, 1.0},
        // speech: Wav2Vec2's CTC logits and encoder output per frame (accel's ggml graph) on transformers' input
        // values, and the greedy id of each frame; limits about 2x the measured figures (docs/conform.md)
        {"wav2vec2", T::f32, M::logits_rel, 1e-5},  {"wav2vec2", T::f32, M::state_rel, 1e-5},
        {"wav2vec2", T::f32, M::top1, 1.0},
        {"wav2vec2", T::f16, M::logits_rel, 2e-3},  {"wav2vec2", T::f16, M::state_rel, 2e-3},
        {"wav2vec2", T::f16, M::top1, 1.0},
        {"wav2vec2", T::q8_0, M::logits_rel, 3e-2}, {"wav2vec2", T::q8_0, M::state_rel, 2e-2},
        {"wav2vec2", T::q8_0, M::top1, 0.9},
        // audio-text: CLAP's audio and text embeddings (L2-normalized) and logits_per_audio, accel's ggml graphs on
        // transformers' input features and input ids (docs/clap.md)
        {"clap", T::f32, M::embedding_max_abs, 1e-5},  {"clap", T::f32, M::logits_rel, 1e-5},
        {"clap", T::f32, M::top1, 1.0},
        {"clap", T::f16, M::embedding_max_abs, 1e-3},  {"clap", T::f16, M::logits_rel, 1e-2},
        {"clap", T::f16, M::top1, 1.0},
        {"clap", T::q8_0, M::embedding_max_abs, 3e-2}, {"clap", T::q8_0, M::logits_rel, 1e-1},
        {"clap", T::q8_0, M::top1, 1.0},
    };
    return table;
}

std::optional<double> hf_limit(std::string_view model_type, ConvertType type, HfMetric metric) {
    for (const auto& l : hf_limits()) {
        if (l.model_type == model_type && l.type == type && l.metric == metric) return l.limit;
    }
    return std::nullopt;
}

std::vector<HfLimit> hf_limits_for(std::string_view model_type, ConvertType type) {
    std::vector<HfLimit> out;
    for (const auto& l : hf_limits()) {
        if (l.model_type == model_type && l.type == type) out.push_back(l);
    }
    return out;
}

}  // namespace accel::model
