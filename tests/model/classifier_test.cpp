// Classifier accuracy against the shared table of Hugging Face model types, plus the key types and edge cases.
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/model/classifier.h"
#include "test_support.h"

namespace {

using accel::model::classify;
using accel::model::evidence_from_config_json;

struct Row {
    std::string model_type, family, subfamily, first_arch;
    std::vector<std::string> signals;
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, sep))
        if (!item.empty()) out.push_back(item);
    return out;
}

std::vector<Row> load_rows(const std::filesystem::path& tsv) {
    std::ifstream in(tsv);
    std::vector<Row> rows;
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (header) {
            header = false;
            continue;
        }
        std::vector<std::string> cells;
        std::stringstream ls(line);
        std::string cell;
        while (std::getline(ls, cell, '\t')) cells.push_back(cell);
        cells.resize(7);
        const auto archs = split(cells[4], ';');
        rows.push_back({cells[0], cells[1], cells[2], archs.empty() ? "" : archs[0], split(cells[5], ';')});
    }
    return rows;
}

// A plausible value for each config signal the table lists.
nlohmann::json signal_value(const std::string& key) {
    static const std::map<std::string, nlohmann::json> values = {
        {"is_encoder_decoder", true}, {"vocab_size", 32000},     {"max_position_embeddings", 2048},
        {"image_size", 224},          {"patch_size", 16},        {"num_channels", 3},
        {"num_mel_bins", 80},         {"sampling_rate", 16000},  {"num_frames", 8},
        {"context_length", 512},      {"prediction_length", 24}, {"image_token_index", 32000},
        {"image_token_id", 32000},    {"audio_token_id", 32001}, {"conv_dim", nlohmann::json::array({512, 512})},
    };
    if (auto it = values.find(key); it != values.end()) return it->second;
    if (key.size() > 7 && key.substr(key.size() - 7) == "_config") return {{"hidden_size", 64}};
    return 1;
}

std::string make_config(const Row& r, bool with_model_type) {
    nlohmann::json j = nlohmann::json::object();
    if (with_model_type) j["model_type"] = r.model_type;
    if (!r.first_arch.empty()) j["architectures"] = {r.first_arch};
    for (const auto& s : r.signals) j[s] = signal_value(s);
    return j.dump();
}

struct Score {
    int n = 0, family = 0, subfamily = 0;
    std::string misses;
};

Score score(const std::vector<Row>& rows, bool with_model_type) {
    Score s;
    for (const auto& r : rows) {
        const auto c = classify(evidence_from_config_json(make_config(r, with_model_type), r.model_type));
        ++s.n;
        const bool fam = c.family == r.family;
        const bool sub = fam && c.subfamily == r.subfamily;
        s.family += fam;
        s.subfamily += sub;
        if (!sub)
            s.misses += "  " + r.model_type + ": expected " + r.family + "/" + r.subfamily + ", got " + c.family + "/" +
                        c.subfamily + "\n";
    }
    return s;
}

TEST(ClassifierTable, AccuracyWithModelType) {
    ACCEL_REQUIRE_TEST_FILE(tsv, "data/hf_model_types.tsv");
    const auto rows = load_rows(tsv);
    ASSERT_GT(rows.size(), 300u);
    const auto s = score(rows, true);
    const double fam = 100.0 * s.family / s.n, sub = 100.0 * s.subfamily / s.n;
    std::printf("classifier with model_type: %d rows, family %.1f%%, subfamily %.1f%%\n", s.n, fam, sub);
    EXPECT_GE(fam, 97.0) << s.misses;
    EXPECT_GE(sub, 90.0) << s.misses;
}

TEST(ClassifierTable, AccuracyWithoutModelType) {
    ACCEL_REQUIRE_TEST_FILE(tsv, "data/hf_model_types.tsv");
    const auto rows = load_rows(tsv);
    const auto s = score(rows, false);
    const double fam = 100.0 * s.family / s.n, sub = 100.0 * s.subfamily / s.n;
    std::printf("classifier without model_type: %d rows, family %.1f%%, subfamily %.1f%%\n", s.n, fam, sub);
    EXPECT_GE(fam, 85.0) << s.misses;
}

TEST(ClassifierTable, KeyTypesFromSharedTable) {
    ACCEL_REQUIRE_TEST_FILE(tsv, "data/hf_model_types.tsv");
    const std::map<std::string, std::string> key = {
        {"clap", "multimodal/audio_text"},        {"clip", "multimodal/image_text_encoder"},
        {"detr", "vision/object_detector"},       {"llama", "text_generation/causal_lm"},
        {"llava", "multimodal/vision_language"},  {"llava_next", "multimodal/vision_language"},
        {"qwen2", "text_generation/causal_lm"},   {"t5", "text_generation/seq2seq"},
        {"wav2vec2", "audio/speech_recognition"}, {"whisper", "audio/speech_recognition"},
        {"xclip", "multimodal/video_text"},
    };
    int found = 0;
    for (const auto& r : load_rows(tsv)) {
        const auto it = key.find(r.model_type);
        if (it == key.end()) continue;
        ++found;
        EXPECT_EQ(r.family + "/" + r.subfamily, it->second) << "shared table changed for " << r.model_type;
        for (bool with_type : {true, false}) {
            const auto c = classify(evidence_from_config_json(make_config(r, with_type), r.model_type));
            if (with_type)
                EXPECT_EQ(c.family + "/" + c.subfamily, it->second) << r.model_type;
            else
                EXPECT_EQ(c.family, it->second.substr(0, it->second.find('/'))) << r.model_type << " without type";
        }
    }
    EXPECT_EQ(found, static_cast<int>(key.size()));
}

// bert and vit are not in the shared table: real-looking configs written for this test.
TEST(ClassifierKeyTypes, Bert) {
    const auto c = classify(evidence_from_config_json(
        R"({"architectures":["BertForMaskedLM"],"model_type":"bert","hidden_size":768,"num_hidden_layers":12,
            "num_attention_heads":12,"intermediate_size":3072,"max_position_embeddings":512,"vocab_size":30522,
            "type_vocab_size":2})",
        "bert"));
    EXPECT_EQ(c.family, "embedding");
    EXPECT_EQ(c.subfamily, "masked_lm");
    EXPECT_GT(c.confidence, 0.5);
    EXPECT_LT(c.confidence, 1.0);
    EXPECT_EQ(c.tasks.front(), "fill-mask");
}

TEST(ClassifierKeyTypes, Vit) {
    const auto c = classify(evidence_from_config_json(
        R"({"architectures":["ViTForImageClassification"],"model_type":"vit","hidden_size":768,"image_size":224,
            "patch_size":16,"num_channels":3,"num_hidden_layers":12,"id2label":{"0":"tench"}})",
        "vit"));
    EXPECT_EQ(c.family, "vision");
    EXPECT_EQ(c.subfamily, "image_classifier");
    EXPECT_GT(c.confidence, 0.5);
}

TEST(ClassifierKeyTypes, BertAndVitWithoutModelType) {
    auto c = classify(evidence_from_config_json(R"({"architectures":["BertForMaskedLM"],"vocab_size":30522})", "b"));
    EXPECT_EQ(c.family + "/" + c.subfamily, "embedding/masked_lm");
    c = classify(evidence_from_config_json(R"({"architectures":["ViTForImageClassification"],"image_size":224})", "v"));
    EXPECT_EQ(c.family + "/" + c.subfamily, "vision/image_classifier");
}

TEST(Classifier, UnknownIsOtherWithLowConfidence) {
    const auto c = classify(evidence_from_config_json(R"({"foo": 1})", "x"));
    EXPECT_EQ(c.family, "other");
    EXPECT_EQ(c.subfamily, "other");
    EXPECT_LT(c.confidence, 0.2);
    ASSERT_FALSE(c.reasons.empty());
}

TEST(Classifier, GuessFromOneWeakSignalIsNotConfident) {
    const auto c = classify(evidence_from_config_json(R"({"_name_or_path":"acme/whisper-tiny-copy"})", "x"));
    EXPECT_EQ(c.family, "audio");
    EXPECT_LT(c.confidence, 0.2);
}

TEST(Classifier, ConflictingEvidenceLowersConfidence) {
    const auto agree = classify(evidence_from_config_json(
        R"({"model_type":"llama","architectures":["LlamaForCausalLM"],"vocab_size":32000})", "a"));
    const auto conflict = classify(evidence_from_config_json(
        R"({"model_type":"llama","architectures":["LlamaForCausalLM"],"pipeline_tag":"image-classification"})", "c"));
    EXPECT_EQ(conflict.family, "text_generation");
    EXPECT_LT(conflict.confidence, agree.confidence);
    bool outvoted = false;
    for (const auto& r : conflict.reasons) outvoted = outvoted || r.find("outvoted") != std::string::npos;
    EXPECT_TRUE(outvoted);
}

TEST(Classifier, EveryResultIsInTheTaxonomy) {
    for (const auto& k : accel::model::known_model_types())
        EXPECT_TRUE(accel::model::valid_classification(k.family, k.subfamily)) << k.model_type;
}

TEST(Classifier, KnowledgeTableHasLlamaCppColumn) {
    const auto* llama = accel::model::find_known_model_type("llama");
    ASSERT_NE(llama, nullptr);
    EXPECT_EQ(llama->llama_cpp_arch, "llama");
    const auto* whisper = accel::model::find_known_model_type("whisper");
    ASSERT_NE(whisper, nullptr);
    EXPECT_EQ(whisper->llama_cpp_arch, "");
}

TEST(Classifier, SubConfigSuffixRule) {
    const auto c = classify(evidence_from_config_json(R"({"model_type":"foo_vision_model"})", "x"));
    EXPECT_EQ(c.family + "/" + c.subfamily, "vision/backbone");
}

TEST(Classifier, BadJsonNamesTheSource) {
    try {
        (void)evidence_from_config_json("{not json", "my/config.json");
        FAIL() << "no error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("my/config.json"), std::string::npos);
    }
    EXPECT_THROW((void)evidence_from_config_json("[1,2]", "a.json"), accel::Error);
}

}  // namespace
