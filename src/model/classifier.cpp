// The classifier: independent analyses each cast weighted votes for (family, subfamily); the family with the most
// weight wins, then the subfamily with the most weight inside it. Weights are documented in docs/model.md.
#include "accel/model/classifier.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <mutex>
#include <set>

#include <fmt/core.h>

#include "accel/core/text.h"

namespace accel::model {

namespace detail {
extern const std::string_view model_types_tsv;
}

namespace {

constexpr double w_table = 0.60;         // knowledge table, exact model_type
constexpr double w_table_rule = 0.35;    // model_type sub-config suffix rules (_vision_model, _text, ...)
constexpr double w_table_prefix = 0.20;  // nearest known model_type by prefix (qwen3_5 -> qwen3)
constexpr double w_arch_suffix = 0.30;   // architecture class suffix
constexpr double w_arch_stem = 0.15;     // architecture class stem keyword
constexpr double w_config = 0.20;        // config signals
constexpr double w_gguf = 0.35;          // GGUF metadata and tensor names
constexpr double w_task = 0.30;          // pipeline_tag, task_specific_params
constexpr double w_name = 0.05;          // name keywords
constexpr double max_confidence = 0.95;

struct Vote {
    std::string family;
    std::string subfamily;  // may be empty: the analysis says only the family
    double weight;
    std::string reason;
    bool exact_table = false;  // an exact knowledge-table entry
};

struct Taxon {
    std::string_view family;
    std::string_view subfamily;
    std::string_view tasks;  // ';'-separated
};

constexpr std::array<Taxon, 24> taxonomy = {{
    {"embedding", "masked_lm", "fill-mask;feature-extraction"},
    {"embedding", "sentence_transformer", "feature-extraction;sentence-similarity"},
    {"embedding", "token_classifier", "token-classification;question-answering"},
    {"embedding", "sequence_classifier", "text-classification"},
    {"text_generation", "causal_lm", "text-generation"},
    {"text_generation", "seq2seq", "text2text-generation;translation;summarization"},
    {"vision", "image_classifier", "image-classification"},
    {"vision", "object_detector", "object-detection"},
    {"vision", "segmentation", "image-segmentation"},
    {"vision", "depth_estimation", "depth-estimation"},
    {"vision", "backbone", "image-feature-extraction"},
    {"vision", "image_generation", "image-to-image"},
    {"audio", "speech_recognition", "automatic-speech-recognition"},
    {"audio", "audio_classifier", "audio-classification"},
    {"audio", "text_to_speech", "text-to-speech"},
    {"audio", "audio_encoder", "audio-feature-extraction"},
    {"multimodal", "vision_language", "image-text-to-text"},
    {"multimodal", "image_text_encoder", "zero-shot-image-classification;feature-extraction"},
    {"multimodal", "document_qa", "document-question-answering"},
    {"multimodal", "video_text", "video-text-to-text"},
    {"multimodal", "audio_text", "zero-shot-audio-classification;feature-extraction"},
    {"other", "time_series", "time-series-forecasting"},
    {"other", "other", ""},
    {"", "", ""},
}};

// The subfamily an analysis falls back on when votes name the family only.
std::string default_subfamily(std::string_view family) {
    if (family == "embedding") return "masked_lm";
    if (family == "text_generation") return "causal_lm";
    if (family == "vision") return "image_classifier";
    if (family == "audio") return "audio_encoder";
    if (family == "multimodal") return "vision_language";
    return "other";
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != std::string_view::npos;
}

class Signals {
public:
    explicit Signals(const ModelEvidence& e) : keys_(e.config_keys.begin(), e.config_keys.end()) {}
    bool has(std::string_view k) const { return keys_.count(std::string(k)) != 0; }
    bool vision() const {
        return has("vision_config") || has("image_config") || has("image_token_index") || has("image_token_id") ||
               has("vq_config") || has("vision_tower") || has("mm_vision_tower");
    }
    bool audio() const {
        return has("audio_config") || has("num_mel_bins") || has("audio_token_id") || has("audio_token_index");
    }
    bool text() const { return has("text_config") || has("vocab_size") || has("max_position_embeddings"); }

private:
    std::set<std::string> keys_;
};

// Stems of encoder-only towers whose text half is a sentence encoder rather than a decoder.
bool contrastive_stem(std::string_view s) {
    for (std::string_view k : {"clip", "siglip", "align", "clap", "blip", "flava", "owl", "x_clip", "xclip", "aimv2",
                               "metaclip", "groupvit"})
        if (contains(s, k)) return true;
    return false;
}

void table_analysis(const ModelEvidence& e, const Signals& sig, std::vector<Vote>& votes) {
    if (e.model_type.empty()) return;
    const std::string mt = lower(e.model_type);
    if (const auto* k = find_known_model_type(mt)) {
        votes.push_back({k->family, k->subfamily, w_table,
                         fmt::format("knowledge table: model_type '{}' is {}/{}", mt, k->family, k->subfamily), true});
        return;
    }
    // Sub-configs of composite models take the label of their own tower.
    struct Rule {
        std::string_view suffix;
        std::string_view family;
        std::string_view subfamily;
    };
    static constexpr std::array<Rule, 16> rules = {{
        {"_vqmodel", "vision", "image_generation"},
        {"_tokenizer_encoder", "", ""},
        {"_tokenizer_decoder", "", ""},
        {"_tokenizer", "", ""},
        {"_vision_model", "vision", "backbone"},
        {"_vision_encoder", "vision", "backbone"},
        {"_vision_tower", "vision", "backbone"},
        {"_vision", "vision", "backbone"},
        {"_audio_encoder", "audio", "audio_encoder"},
        {"_audio_model", "audio", "audio_encoder"},
        {"_audio", "audio", "audio_encoder"},
        {"_encoder", "", ""},
        {"_text_model", "", ""},
        {"_text", "", ""},
        {"_qformer", "multimodal", "vision_language"},
        {"_prior", "", ""},
    }};
    for (const auto& r : rules) {
        if (!ends_with(mt, r.suffix)) continue;
        std::string fam(r.family), sub(r.subfamily);
        if (fam.empty() && contains(r.suffix, "tokenizer")) {
            // A codec that turns a signal into tokens: only audio codecs are model types of their own today.
            if (sig.audio() || contains(mt, "audio") || contains(mt, "acoustic") || contains(mt, "voice") ||
                contains(mt, "speech"))
                fam = "audio", sub = "audio_encoder";
        } else if (fam.empty() && (r.suffix == "_text_model" || r.suffix == "_text")) {
            fam = contrastive_stem(mt) ? "embedding" : "text_generation";
            sub = contrastive_stem(mt) ? "sentence_transformer" : "causal_lm";
        } else if (fam.empty() && r.suffix == "_encoder") {
            if (sig.audio() || contains(mt, "audio") || contains(mt, "speech")) {
                fam = "audio", sub = "audio_encoder";
            } else if (sig.vision() || sig.has("image_size")) {
                fam = "vision", sub = "backbone";
            } else {
                fam = "embedding", sub = "sentence_transformer";
            }
        }
        if (fam.empty()) continue;
        votes.push_back(
            {fam, sub, w_table_rule,
             fmt::format("model_type '{}' ends in '{}', a sub-config tower: {}/{}", mt, r.suffix, fam, sub)});
        return;
    }
    // The nearest known type that the name extends (qwen3_5_moe -> qwen3), as weaker evidence.
    const KnownModelType* best = nullptr;
    for (const auto& k : known_model_types()) {
        if (k.model_type.size() >= mt.size() || mt.compare(0, k.model_type.size(), k.model_type) != 0) continue;
        const char next = mt[k.model_type.size()];
        if (next != '_' && next != '-' && !std::isdigit(static_cast<unsigned char>(next))) continue;
        if (!best || k.model_type.size() > best->model_type.size()) best = &k;
    }
    if (best)
        votes.push_back({best->family, best->subfamily, w_table_prefix,
                         fmt::format("knowledge table: model_type '{}' extends known type '{}' ({}/{})", mt,
                                     best->model_type, best->family, best->subfamily)});
}

struct SuffixRule {
    std::string_view suffix;
    std::string_view family;
    std::string_view subfamily;
};

// Longest and most specific suffixes first; an empty family means "decided by config signals" below.
constexpr std::array<SuffixRule, 47> suffix_rules = {{
    {"ForImageClassificationWithTeacher", "vision", "image_classifier"},
    {"ForDocumentQuestionAnswering", "multimodal", "document_qa"},
    {"ForVisualQuestionAnswering", "multimodal", "vision_language"},
    {"ForZeroShotObjectDetection", "multimodal", "image_text_encoder"},
    {"ForAudioFrameClassification", "audio", "audio_classifier"},
    {"ForImageSuperResolution", "vision", "image_generation"},
    {"ForSemanticSegmentation", "vision", "segmentation"},
    {"ForInstanceSegmentation", "vision", "segmentation"},
    {"ForUniversalSegmentation", "vision", "segmentation"},
    {"ForPanopticSegmentation", "vision", "segmentation"},
    {"ForImageSegmentation", "vision", "segmentation"},
    {"ForSequenceClassification", "embedding", "sequence_classifier"},
    {"ForTokenClassification", "embedding", "token_classifier"},
    {"ForQuestionAnswering", "embedding", "token_classifier"},
    {"ForMultipleChoice", "embedding", "sequence_classifier"},
    {"ForConditionalGeneration", "", ""},
    {"ForImageClassification", "vision", "image_classifier"},
    {"ForVideoClassification", "vision", "image_classifier"},
    {"ForAudioClassification", "audio", "audio_classifier"},
    {"ForKeypointDetection", "vision", "object_detector"},
    {"ForKeypointMatching", "vision", "object_detector"},
    {"ForPoseEstimation", "vision", "object_detector"},
    {"ForObjectDetection", "vision", "object_detector"},
    {"ForDepthEstimation", "vision", "depth_estimation"},
    {"ForTextRecognition", "vision", "image_classifier"},
    {"ForImageTextToText", "multimodal", "vision_language"},
    {"ForTextToSpectrogram", "audio", "text_to_speech"},
    {"ForTextToWaveform", "audio", "text_to_speech"},
    {"ForTextToSpeech", "audio", "text_to_speech"},
    {"ForSpeechSeq2Seq", "audio", "speech_recognition"},
    {"ForSpeechToText", "audio", "speech_recognition"},
    {"ForMaskGeneration", "vision", "segmentation"},
    {"ForImageMatting", "vision", "segmentation"},
    {"ForImageToImage", "vision", "image_generation"},
    {"ForVision2Seq", "multimodal", "vision_language"},
    {"ForPreTraining", "embedding", "masked_lm"},
    {"ForPrediction", "other", "time_series"},
    {"ForRetrieval", "multimodal", "image_text_encoder"},
    {"WithLMHeadModel", "embedding", "masked_lm"},
    {"WithHifiGan", "audio", "text_to_speech"},
    {"ForMaskedLM", "embedding", "masked_lm"},
    {"ForCausalLM", "", ""},
    {"LMHeadModel", "text_generation", "causal_lm"},
    {"ForXVector", "audio", "audio_classifier"},
    {"Backbone", "vision", "backbone"},
    {"ForCTC", "audio", "speech_recognition"},
    {"Decoder", "text_generation", "causal_lm"},
}};

// Class names that end in a tower name rather than a task head.
constexpr std::array<SuffixRule, 8> tower_rules = {{
    {"VisionTransformer", "vision", "backbone"},
    {"VisionEncoder", "vision", "backbone"},
    {"VisionModel", "vision", "backbone"},
    {"AudioEncoder", "audio", "audio_encoder"},
    {"AudioModel", "audio", "audio_encoder"},
    {"TextModel", "", ""},
    {"Encoder", "", ""},
    {"Model", "", ""},
}};

struct Label {
    std::string family, subfamily;
};

Label conditional_generation(const Signals& sig) {
    if (sig.has("thinker_config")) return {"multimodal", "vision_language"};
    if (sig.has("audio_config") && sig.has("text_config")) return {"multimodal", "audio_text"};
    if (sig.vision()) return {"multimodal", "vision_language"};
    if (sig.has("codec_config")) return {"audio", "text_to_speech"};
    if (sig.audio()) return {"audio", "speech_recognition"};
    return {"text_generation", "seq2seq"};
}

void stem_analysis(std::string_view stem_in, std::vector<Vote>& votes, double weight, std::string_view what) {
    const std::string stem = lower(stem_in);
    struct Key {
        std::string_view key, family, subfamily;
    };
    // Checked in order; the first match votes.
    static constexpr std::array<Key, 35> keys = {{
        {"xclip", "multimodal", "video_text"},
        {"x_clip", "multimodal", "video_text"},
        {"clap", "multimodal", "audio_text"},
        {"clip", "multimodal", "image_text_encoder"},
        {"siglip", "multimodal", "image_text_encoder"},
        {"llava", "multimodal", "vision_language"},
        {"blip", "multimodal", "vision_language"},
        {"idefics", "multimodal", "vision_language"},
        {"vlm", "multimodal", "vision_language"},
        {"layoutlm", "multimodal", "document_qa"},
        {"whisper", "audio", "speech_recognition"},
        {"wav2vec", "audio", "speech_recognition"},
        {"hubert", "audio", "speech_recognition"},
        {"wavlm", "audio", "speech_recognition"},
        {"speech", "audio", "speech_recognition"},
        {"detr", "vision", "object_detector"},
        {"yolo", "vision", "object_detector"},
        {"segformer", "vision", "segmentation"},
        {"depth", "vision", "depth_estimation"},
        {"dino", "vision", "backbone"},
        {"convnext", "vision", "image_classifier"},
        {"resnet", "vision", "image_classifier"},
        {"swin", "vision", "image_classifier"},
        {"deit", "vision", "image_classifier"},
        {"vit", "vision", "image_classifier"},
        {"timeseries", "other", "time_series"},
        {"timesfm", "other", "time_series"},
        {"patchts", "other", "time_series"},
        {"former", "", ""},
        {"roberta", "embedding", "masked_lm"},
        {"bert", "embedding", "masked_lm"},
        {"t5", "text_generation", "seq2seq"},
        {"bart", "text_generation", "seq2seq"},
        {"llama", "text_generation", "causal_lm"},
        {"gpt", "text_generation", "causal_lm"},
    }};
    for (const auto& k : keys) {
        if (!contains(stem, k.key)) continue;
        if (k.family.empty()) return;  // too generic to say anything
        votes.push_back({std::string(k.family), std::string(k.subfamily), weight,
                         fmt::format("{} '{}' contains '{}': {}/{}", what, stem_in, k.key, k.family, k.subfamily)});
        return;
    }
}

void architecture_analysis(const ModelEvidence& e, const Signals& sig, std::vector<Vote>& votes) {
    if (e.architectures.empty()) return;
    const std::string& arch = e.architectures.front();
    std::string_view stem = arch;
    auto vote = [&](std::string fam, std::string sub, std::string_view suffix) {
        votes.push_back({fam, sub, w_arch_suffix,
                         fmt::format("architecture class '{}' ends in '{}': {}/{}", arch, suffix, fam, sub)});
    };
    bool matched = false;
    for (const auto& r : suffix_rules) {
        if (!ends_with(arch, r.suffix)) continue;
        matched = true;
        stem = std::string_view(arch).substr(0, arch.size() - r.suffix.size());
        if (r.suffix == "ForConditionalGeneration") {
            auto l = conditional_generation(sig);
            vote(l.family, l.subfamily, r.suffix);
        } else if (r.suffix == "ForCausalLM") {
            if (sig.vision() || sig.has("image_size"))
                vote("multimodal", "vision_language", "ForCausalLM' plus vision config keys, so '");
            else
                vote("text_generation", "causal_lm", r.suffix);
        } else {
            vote(std::string(r.family), std::string(r.subfamily), r.suffix);
        }
        break;
    }
    if (!matched) {
        for (const auto& r : tower_rules) {
            if (!ends_with(arch, r.suffix)) continue;
            stem = std::string_view(arch).substr(0, arch.size() - r.suffix.size());
            if (!r.family.empty()) {
                vote(std::string(r.family), std::string(r.subfamily), r.suffix);
            } else if (r.suffix == "TextModel") {
                if (contrastive_stem(lower(stem)))
                    vote("embedding", "sentence_transformer", r.suffix);
                else
                    vote("text_generation", "causal_lm", r.suffix);
            } else if (r.suffix == "Encoder") {
                if (sig.audio() || contains(lower(stem), "audio"))
                    vote("audio", "audio_encoder", r.suffix);
                else if (!sig.vision())
                    vote("embedding", "sentence_transformer", r.suffix);
            }
            break;
        }
    }
    stem_analysis(stem, votes, w_arch_stem, "architecture stem");
}

void config_analysis(const ModelEvidence& e, const Signals& sig, std::vector<Vote>& votes) {
    auto vote = [&](std::string fam, std::string sub, std::string why) {
        votes.push_back(
            {fam, sub, w_config, fmt::format("config signals: {}: {}{}{}", why, fam, sub.empty() ? "" : "/", sub)});
    };
    const bool enc_dec = e.is_encoder_decoder.value_or(false) || sig.has("is_encoder_decoder");
    const bool image = sig.has("image_size") || sig.has("patch_size") || sig.has("num_channels");
    const bool text = sig.text();
    if (sig.has("thinker_config")) return vote("multimodal", "vision_language", "thinker_config");
    if (sig.has("vlm_config")) return vote("multimodal", "image_text_encoder", "vlm_config");
    if (sig.has("prompt_encoder_config")) return vote("vision", "segmentation", "prompt_encoder_config");
    if (sig.has("audio_config") && sig.has("text_config"))
        return vote("multimodal", "audio_text", "audio_config with text_config");
    if (sig.has("codec_config") || sig.has("vocoder_config"))
        return vote("audio", "text_to_speech", "codec/vocoder config");
    if (sig.has("qformer_config")) return vote("multimodal", "vision_language", "qformer_config");
    if (sig.has("num_frames") && text) return vote("multimodal", "video_text", "num_frames with text settings");
    if ((sig.has("vision_config") || sig.has("image_config")) && sig.has("text_config")) {
        if (sig.has("image_token_index") || sig.has("image_token_id") || sig.has("vision_feature_layer"))
            return vote("multimodal", "vision_language", "vision_config, text_config and an image token");
        return vote("multimodal", "image_text_encoder", "vision_config with text_config, no image token");
    }
    if (sig.has("vq_config")) return vote("multimodal", "vision_language", "vq_config");
    if (sig.has("image_token_index") || sig.has("image_token_id"))
        return vote("multimodal", "vision_language", "an image token id");
    if (sig.has("vision_config")) {
        if (text) return vote("multimodal", "vision_language", "vision_config with text settings");
        return vote("vision", "", "vision_config without text settings");
    }
    if (sig.has("num_mel_bins")) {
        if (image) return vote("audio", "audio_classifier", "num_mel_bins with patch_size");
        if (enc_dec) return vote("audio", "speech_recognition", "num_mel_bins in an encoder-decoder");
        return vote("audio", "", "num_mel_bins");
    }
    if (sig.has("conv_dim")) return vote("audio", "speech_recognition", "conv_dim (a speech feature encoder)");
    if (sig.has("sampling_rate")) return vote("audio", "", "sampling_rate");
    if (sig.has("prediction_length")) return vote("other", "time_series", "prediction_length");
    if (sig.has("backbone_config")) {
        if (enc_dec) return vote("vision", "object_detector", "backbone_config in an encoder-decoder (DETR-like)");
        return vote("vision", "", "backbone_config");
    }
    if (image) {
        if (text) return vote("multimodal", "", "image_size/patch_size with text settings");
        if (sig.has("num_frames")) return vote("vision", "image_classifier", "num_frames with image settings");
        return vote("vision", "", "image_size/patch_size/num_channels");
    }
    if (sig.has("context_length") && !sig.has("vocab_size"))
        return vote("other", "time_series", "context_length without a vocabulary");
    if (enc_dec && text) return vote("text_generation", "seq2seq", "is_encoder_decoder");
}

void gguf_analysis(const ModelEvidence& e, std::vector<Vote>& votes) {
    if (e.gguf_architecture.empty() && e.tensor_names.empty()) return;
    const std::string a = lower(e.gguf_architecture);
    auto vote = [&](std::string fam, std::string sub, std::string why) {
        votes.push_back({fam, sub, w_gguf, fmt::format("GGUF: {}: {}/{}", why, fam, sub)});
    };
    bool enc = false, dec = false, vis = false, aud = false;
    for (const auto& t : e.tensor_names) {
        enc = enc || t.rfind("enc.", 0) == 0;
        dec = dec || t.rfind("dec.", 0) == 0;
        vis = vis || t.rfind("v.", 0) == 0;
        aud = aud || t.rfind("a.", 0) == 0;
    }
    const bool clip_keys =
        std::find(e.gguf_key_prefixes.begin(), e.gguf_key_prefixes.end(), "clip") != e.gguf_key_prefixes.end();
    if (a == "clip" || clip_keys) {
        if (aud && !vis)
            return vote("multimodal", "audio_text", "a llama.cpp audio projector (clip.* keys, a.* tensors)");
        return vote("multimodal", "vision_language", "a llama.cpp multimodal projector (clip.* keys)");
    }
    if (enc && dec) return vote("text_generation", "seq2seq", "an encoder/decoder tensor split (enc.*, dec.*)");
    if (a == "t5encoder" || (enc && !dec)) return vote("embedding", "sentence_transformer", "encoder-only tensors");
    for (std::string_view emb :
         {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "modern-bert", "neo-bert"})
        if (a == emb) return vote("embedding", "sentence_transformer", fmt::format("general.architecture '{}'", a));
    if (a.empty()) return;
    if (a == "vit") return vote("vision", "image_classifier", "general.architecture 'vit' (accel's own ViT graph)");
    if (a == "clip_model")
        return vote("multimodal", "image_text_encoder", "general.architecture 'clip_model' (accel's own CLIP graphs)");
    for (const auto& k : known_model_types())
        if (k.llama_cpp_arch == a)
            return vote(k.family, k.subfamily,
                        fmt::format("general.architecture '{}' runs HF type '{}'", a, k.model_type));
    // Every other llama.cpp architecture is a decoder-only text model.
    vote("text_generation", "causal_lm", fmt::format("general.architecture '{}' (a llama.cpp decoder)", a));
}

void task_analysis(const ModelEvidence& e, std::vector<Vote>& votes) {
    struct Hint {
        std::string_view tag, family, subfamily;
    };
    static constexpr std::array<Hint, 26> hints = {{
        {"text-generation", "text_generation", "causal_lm"},
        {"text2text-generation", "text_generation", "seq2seq"},
        {"translation", "text_generation", "seq2seq"},
        {"summarization", "text_generation", "seq2seq"},
        {"fill-mask", "embedding", "masked_lm"},
        {"feature-extraction", "embedding", "sentence_transformer"},
        {"sentence-similarity", "embedding", "sentence_transformer"},
        {"text-classification", "embedding", "sequence_classifier"},
        {"token-classification", "embedding", "token_classifier"},
        {"question-answering", "embedding", "token_classifier"},
        {"image-classification", "vision", "image_classifier"},
        {"object-detection", "vision", "object_detector"},
        {"image-segmentation", "vision", "segmentation"},
        {"mask-generation", "vision", "segmentation"},
        {"depth-estimation", "vision", "depth_estimation"},
        {"text-to-image", "vision", "image_generation"},
        {"automatic-speech-recognition", "audio", "speech_recognition"},
        {"audio-classification", "audio", "audio_classifier"},
        {"text-to-speech", "audio", "text_to_speech"},
        {"text-to-audio", "audio", "text_to_speech"},
        {"image-text-to-text", "multimodal", "vision_language"},
        {"visual-question-answering", "multimodal", "vision_language"},
        {"image-to-text", "multimodal", "vision_language"},
        {"zero-shot-image-classification", "multimodal", "image_text_encoder"},
        {"document-question-answering", "multimodal", "document_qa"},
        {"time-series-forecasting", "other", "time_series"},
    }};
    if (!e.pipeline_tag.empty()) {
        for (const auto& h : hints)
            if (e.pipeline_tag == h.tag) {
                votes.push_back({std::string(h.family), std::string(h.subfamily), w_task,
                                 fmt::format("task hint: pipeline_tag '{}': {}/{}", h.tag, h.family, h.subfamily)});
                break;
            }
    }
    for (const auto& k : e.task_specific_params) {
        if (k == "summarization" || k.rfind("translation", 0) == 0) {
            votes.push_back({"text_generation", "seq2seq", w_task,
                             fmt::format("task hint: task_specific_params has '{}': text_generation/seq2seq", k)});
            return;
        }
        if (k == "text-generation") {
            votes.push_back({"text_generation", "causal_lm", w_task,
                             "task hint: task_specific_params has 'text-generation': text_generation/causal_lm"});
            return;
        }
    }
}

void name_analysis(const ModelEvidence& e, std::vector<Vote>& votes) {
    if (e.name.empty()) return;
    const std::string n = lower(e.name);
    struct Key {
        std::string_view key, family, subfamily;
    };
    static constexpr std::array<Key, 14> keys = {{
        {"embed", "embedding", "sentence_transformer"},
        {"bge-", "embedding", "sentence_transformer"},
        {"minilm", "embedding", "sentence_transformer"},
        {"sentence", "embedding", "sentence_transformer"},
        {"rerank", "embedding", "sequence_classifier"},
        {"whisper", "audio", "speech_recognition"},
        {"llava", "multimodal", "vision_language"},
        {"-vl", "multimodal", "vision_language"},
        {"mmproj", "multimodal", "vision_language"},
        {"clip", "multimodal", "image_text_encoder"},
        {"detr", "vision", "object_detector"},
        {"instruct", "text_generation", "causal_lm"},
        {"chat", "text_generation", "causal_lm"},
        {"coder", "text_generation", "causal_lm"},
    }};
    for (const auto& k : keys)
        if (contains(n, k.key)) {
            votes.push_back({std::string(k.family), std::string(k.subfamily), w_name,
                             fmt::format("name '{}' contains '{}': {}/{}", e.name, k.key, k.family, k.subfamily)});
            return;
        }
}

std::vector<std::string> tasks_of(std::string_view family, std::string_view subfamily) {
    std::vector<std::string> out;
    for (const auto& t : taxonomy) {
        if (t.family != family || t.subfamily != subfamily) continue;
        std::string_view rest = t.tasks;
        while (!rest.empty()) {
            const auto cut = rest.find(';');
            out.emplace_back(rest.substr(0, cut));
            if (cut == std::string_view::npos) break;
            rest.remove_prefix(cut + 1);
        }
    }
    return out;
}

}  // namespace

bool valid_classification(std::string_view family, std::string_view subfamily) {
    for (const auto& t : taxonomy)
        if (!t.family.empty() && t.family == family && t.subfamily == subfamily) return true;
    return false;
}

const std::vector<KnownModelType>& known_model_types() {
    static const std::vector<KnownModelType> table = [] {
        std::vector<KnownModelType> rows;
        std::string_view text = detail::model_types_tsv;
        while (!text.empty()) {
            const auto eol = text.find('\n');
            std::string_view line = text.substr(0, eol);
            text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
            if (line.empty() || line.front() == '#') continue;
            std::vector<std::string> cells;
            while (true) {
                const auto tab = line.find('\t');
                cells.emplace_back(line.substr(0, tab));
                if (tab == std::string_view::npos) break;
                line.remove_prefix(tab + 1);
            }
            if (cells.size() < 4) continue;
            rows.push_back({cells[0], cells[1], cells[2], cells[3] == "-" ? std::string() : cells[3]});
        }
        return rows;
    }();
    return table;
}

const KnownModelType* find_known_model_type(std::string_view model_type) {
    for (const auto& k : known_model_types())
        if (k.model_type == model_type) return &k;
    return nullptr;
}

Classification classify(const ModelEvidence& evidence) {
    const Signals sig(evidence);
    std::vector<Vote> votes;
    table_analysis(evidence, sig, votes);
    architecture_analysis(evidence, sig, votes);
    config_analysis(evidence, sig, votes);
    gguf_analysis(evidence, votes);
    task_analysis(evidence, votes);
    name_analysis(evidence, votes);

    Classification c;
    if (votes.empty()) {
        c.family = "other";
        c.subfamily = "other";
        c.confidence = 0.05;
        c.reasons.push_back("no analysis found evidence: unknown model");
        return c;
    }
    std::map<std::string, double> family_score;
    double total = 0;
    for (const auto& v : votes) {
        family_score[v.family] += v.weight;
        total += v.weight;
    }
    const auto best = std::max_element(family_score.begin(), family_score.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    c.family = best->first;
    std::map<std::string, double> sub_score;
    for (const auto& v : votes)
        if (v.family == c.family && !v.subfamily.empty()) sub_score[v.subfamily] += v.weight;
    // An exact knowledge-table entry is the most specific evidence there is: when its family wins, so does its
    // subfamily (llava_next_video is video_text even though its class name says llava).
    const auto table =
        std::find_if(votes.begin(), votes.end(), [&](const Vote& v) { return v.exact_table && v.family == c.family; });
    if (table != votes.end()) {
        c.subfamily = table->subfamily;
    } else if (sub_score.empty()) {
        c.subfamily = default_subfamily(c.family);
    } else {
        c.subfamily = std::max_element(sub_score.begin(), sub_score.end(), [](const auto& a, const auto& b) {
                          return a.second < b.second;
                      })->first;
    }
    // Agreement among the analyses that fired, scaled down when little evidence fired at all.
    const double agreement = best->second / total;
    const double coverage = std::min(1.0, total / 0.6);
    c.confidence = std::min(max_confidence, agreement * coverage);
    c.tasks = tasks_of(c.family, c.subfamily);
    for (const auto& v : votes)
        c.reasons.push_back(
            fmt::format("{} [weight {:.2f}{}]", v.reason, v.weight, v.family == c.family ? "" : ", outvoted"));
    return c;
}

}  // namespace accel::model
