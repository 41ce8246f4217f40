// accel against transformers for Whisper: the committed fixture tests/fixtures/hf/whisper
// (WhisperForConditionalGeneration) converted by accel into whisper.cpp's model file, run by whisper.cpp on the CPU
// with the fixture's own input_features (whisper_set_mel, whisper_encode), and the decoder's teacher-forced logits
// over the reference's forced and greedy ids compared with transformers'. whisper.h has no getter for the encoder's
// output, so the encoder is checked through the logits only. The limits are docs/conform.md's table ("Against
// transformers"). Also: the mel filter bank against WhisperFeatureExtractor's, a checkpoint accel must refuse, and
// whisper.cpp files that lie or are cut short, refused before whisper.cpp reads them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/whisper_model.h"
#include "accel/model/hf_convert.h"
#include "accel/model/whisper_file.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::model::ConvertType;

constexpr double top1_epsilon = 0.01;  // top-1 must agree where the reference's margin exceeds this (logit units)

using accel::test::rel_diff;

struct WhisperCase {
    ConvertType type;
    double max_rel_logits;  // max |diff| / range of the reference logits
};

class HfWhisperReference : public testing::TestWithParam<WhisperCase> {};

TEST_P(HfWhisperReference, TeacherForcedLogitsMatchTransformers) {
    const WhisperCase c = GetParam();
    const auto dir = accel::test::hf_fixture("whisper");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    auto tokens = ref["input_ids"].get<std::vector<int32_t>>();
    const auto generated = ref["generated_ids"].get<std::vector<int32_t>>();
    const auto margins = ref["top1_margins"].get<std::vector<double>>();
    const size_t n_forced = tokens.size();
    tokens.insert(tokens.end(), generated.begin(), generated.end());
    const auto st = dir / "reference.safetensors";
    const auto mel = accel::test::read_st_tensor(st, "input_features");
    const auto expected = accel::test::read_st_tensor(st, "logits");

    accel::test::TempDir tmp;
    const auto bin = tmp / "whisper.bin";
    const auto r = accel::model::convert_hf(dir, bin, {.type = c.type});
    EXPECT_EQ(r.format, "whisper");
    auto m = accel::engine::WhisperModel::load(bin, {.n_threads = 2});
    const size_t n_vocab = static_cast<size_t>(m.n_vocab());
    ASSERT_EQ(n_vocab, 51864u);
    const int32_t n_frames = static_cast<int32_t>(mel.size() / static_cast<size_t>(m.hparams().n_mels));
    m.encode(mel, n_frames);
    const auto got = m.decode_teacher_forced(tokens);
    ASSERT_EQ(got.size(), expected.size());

    const double rel = rel_diff(got, expected);
    auto argmax = [&](const float* row) { return static_cast<size_t>(std::max_element(row, row + n_vocab) - row); };
    size_t n_checked = 0, n_agree = 0;
    for (size_t row = 0; row < tokens.size(); ++row) {
        const float* e = expected.data() + row * n_vocab;
        std::vector<float> sorted(e, e + n_vocab);
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
        if (sorted[0] - sorted[1] <= top1_epsilon) continue;
        ++n_checked;
        n_agree += argmax(got.data() + row * n_vocab) == argmax(e);
    }
    // the greedy steps: row n_forced - 1 + k predicted generated[k] in transformers
    for (size_t k = 0; k < generated.size(); ++k) {
        if (margins[k] <= top1_epsilon) continue;
        EXPECT_EQ(argmax(got.data() + (n_forced - 1 + k) * n_vocab), static_cast<size_t>(generated[k]))
            << "greedy step " << k << " (reference margin " << margins[k] << ")";
    }
    std::printf("whisper %s: decoder logits max |diff| / range %.3g (limit %.3g); top-1 %zu/%zu rows with margin > %.2g\n",
                accel::model::to_string(c.type), rel, c.max_rel_logits, n_agree, n_checked, top1_epsilon);
    EXPECT_LE(rel, c.max_rel_logits);
    EXPECT_EQ(n_agree, n_checked);
}

// Limits: docs/conform.md, "Against transformers".
INSTANTIATE_TEST_SUITE_P(Fixtures, HfWhisperReference,
                         testing::Values(WhisperCase{ConvertType::f32, accel::test::table_limit("whisper", ConvertType::f32,
                                                                                                accel::model::HfMetric::logits_rel)},
                                         WhisperCase{ConvertType::f16, accel::test::table_limit("whisper", ConvertType::f16,
                                                                                                accel::model::HfMetric::logits_rel)}),
                         [](const testing::TestParamInfo<WhisperCase>& p) {
                             return std::string("whisper_") + accel::model::to_string(p.param.type);
                         });

// WhisperModel::decode, whisper-bench's unit of work (benchmarks/whisper_parity.cpp times it): one whisper_decode of
// a batch at n_past, its last token's logits read in place. Checked against transformers' rows (the same limit as
// teacher forcing), as whisper_full uses it (the forced tokens as one batch, then single tokens), and exactly
// against decode_teacher_forced, which is built on it; then its refusals and whisper.cpp's timers.
TEST(HfWhisperReference, DecodeStepsMatchTransformersAndTeacherForcing) {
    const auto dir = accel::test::hf_fixture("whisper");
    const auto ref = nlohmann::json::parse(accel::test::read_file(dir / "reference.json"));
    auto tokens = ref["input_ids"].get<std::vector<int32_t>>();
    const auto generated = ref["generated_ids"].get<std::vector<int32_t>>();
    const size_t n_forced = tokens.size();
    tokens.insert(tokens.end(), generated.begin(), generated.end());
    const auto st = dir / "reference.safetensors";
    const auto mel = accel::test::read_st_tensor(st, "input_features");
    const auto expected = accel::test::read_st_tensor(st, "logits");
    const double limit = accel::test::table_limit("whisper", ConvertType::f32, accel::model::HfMetric::logits_rel);

    accel::test::TempDir tmp;
    const auto bin = tmp / "whisper.bin";
    accel::model::convert_hf(dir, bin, {.type = ConvertType::f32});
    auto m = accel::engine::WhisperModel::load(bin, {.n_threads = 2});
    const size_t nv = static_cast<size_t>(m.n_vocab());
    const int32_t n_frames = static_cast<int32_t>(mel.size() / static_cast<size_t>(m.hparams().n_mels));
    auto expect_refused = [](auto&& call, const std::string& needle) {
        try {
            call();
            ADD_FAILURE() << "no refusal (expected one mentioning '" << needle << "')";
        } catch (const accel::Error& e) {
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << e.what();
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    const std::span<const int32_t> all(tokens);
    expect_refused([&] { m.decode(all.first(1), 0); }, "decode before encode");
    m.encode(mel, n_frames);
    expect_refused([&] { (void)m.last_logits(); }, "no decode");
    auto row = [&](size_t i) { return std::vector<float>(expected.begin() + i * nv, expected.begin() + (i + 1) * nv); };
    auto last = [&] { return std::vector<float>(m.last_logits().begin(), m.last_logits().end()); };

    // the forced tokens as one batch: its last row predicts the first generated token
    m.decode(all.first(n_forced), 0);
    ASSERT_EQ(m.last_logits().size(), nv);
    EXPECT_LE(rel_diff(last(), row(n_forced - 1)), limit);
    // then one token at a time, as whisper_full's greedy steps
    for (size_t i = n_forced; i < tokens.size(); ++i) {
        m.decode(all.subspan(i, 1), static_cast<int32_t>(i));
        EXPECT_LE(rel_diff(last(), row(i)), limit) << "step " << i;
    }
    // the whole sequence as one batch, after a shorter one: the cache from n_past 0 on is replaced
    m.decode(all, 0);
    EXPECT_LE(rel_diff(last(), row(tokens.size() - 1)), limit);

    // decode_teacher_forced is decode() of one token at n_past i with each row copied: the same numbers exactly
    const auto forced = m.decode_teacher_forced(tokens);
    for (size_t i = 0; i < tokens.size(); ++i) {
        m.decode(all.subspan(i, 1), static_cast<int32_t>(i));
        ASSERT_TRUE(std::equal(m.last_logits().begin(), m.last_logits().end(), forced.begin() + i * nv)) << i;
    }

    const int32_t n_ctx = m.hparams().n_text_ctx;
    const std::vector<int32_t> zeros(static_cast<size_t>(n_ctx) + 1, 0);
    const std::span<const int32_t> z(zeros);
    expect_refused([&] { m.decode(z.first(0), 0); }, "no tokens");
    expect_refused([&] { m.decode(z.first(1), -1); }, "at position -1");
    expect_refused([&] { m.decode(z.first(2), n_ctx - 1); }, "decoder holds " + std::to_string(n_ctx));
    expect_refused([&] { m.decode(z, 0); }, "decoder holds " + std::to_string(n_ctx));
    const std::vector<int32_t> outside{0, static_cast<int32_t>(nv)};
    expect_refused([&] { m.decode(outside, 0); }, "token " + std::to_string(nv) + " is outside the vocabulary");
    m.decode(z.first(static_cast<size_t>(n_ctx)), 0);  // the whole context is allowed

    // whisper.cpp's timers: zero after a reset, then one mean per kind of call (1, 2-15 and 16+ tokens)
    m.reset_timings();
    const auto zero = m.timings();
    EXPECT_EQ(zero.encode_ms + zero.decode_ms + zero.batchd_ms + zero.prompt_ms, 0.0);
    m.encode(mel, n_frames);
    EXPECT_THROW((void)m.last_logits(), accel::Error);  // a new encode drops the last decode's logits
    m.decode(z.first(1), 0);
    m.decode(z.first(5), 0);
    m.decode(z.first(16), 0);
    const auto t = m.timings();
    EXPECT_GT(t.encode_ms, 0.0);
    EXPECT_GT(t.decode_ms, 0.0);
    EXPECT_GT(t.batchd_ms, 0.0);
    EXPECT_GT(t.prompt_ms, 0.0);
}

TEST(HfWhisperReference, MelFilterBankMatchesTheFeatureExtractor) {
    const auto expected = accel::test::read_st_tensor(accel::test::hf_fixture("whisper") / "reference.safetensors",
                                                      "mel_filters");
    const auto got = accel::model::whisper_mel_filters(80, 400, 16000);
    ASSERT_EQ(got.size(), expected.size());
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        max_diff = std::max(max_diff, std::fabs(double(got[i]) - expected[i]));
        max_ref = std::max(max_ref, std::fabs(double(expected[i])));
    }
    EXPECT_LE(max_diff, 1e-6 * max_ref);  // both computed in double, rounded to f32 once
}

void expect_refused(const fs::path& hf_dir, const fs::path& out, ConvertType type, const std::string& needle) {
    try {
        accel::model::convert_hf(hf_dir, out, {.type = type});
        ADD_FAILURE() << "converted " << hf_dir << " (expected a refusal mentioning '" << needle << "')";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << e.what();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(out)) << out;
}

TEST(HfWhisperConvert, RefusesWhatWhisperCppWouldRunDifferentlyBeforeWriting) {
    const auto dir = accel::test::hf_fixture("whisper");
    accel::test::TempDir tmp;
    expect_refused(dir, tmp / "q8.bin", ConvertType::q8_0, "f32 or f16");
    const auto bad = tmp / "bad";
    fs::create_directories(bad);
    for (const auto& e : fs::directory_iterator(dir)) fs::copy_file(e.path(), bad / e.path().filename());
    auto config = nlohmann::json::parse(accel::test::read_file(dir / "config.json"));
    config["encoder_ffn_dim"] = 100;
    std::ofstream(bad / "config.json") << config.dump();
    expect_refused(bad, tmp / "ffn.bin", ConvertType::f16, "encoder_ffn_dim");
    config = nlohmann::json::parse(accel::test::read_file(dir / "config.json"));
    config["activation_function"] = "relu";
    std::ofstream(bad / "config.json") << config.dump();
    expect_refused(bad, tmp / "act.bin", ConvertType::f16, "activation_function");
}

// A whisper.cpp file cut short, or whose header disagrees with its tensors, is refused by the validator with one
// line that names the file, before whisper.cpp (which trusts its input) sees it.
TEST(HfWhisperFile, TruncatedOrLyingFilesAreRefusedBeforeLoading) {
    accel::test::TempDir tmp;
    const auto good = tmp / "good.bin";
    accel::model::convert_hf(accel::test::hf_fixture("whisper"), good, {.type = ConvertType::f16});
    const auto info = accel::model::validate_whisper_file(good);
    EXPECT_EQ(info.hparams.n_vocab, 51864);
    EXPECT_EQ(info.n_tokens, 50257);
    EXPECT_EQ(info.n_tensors, accel::model::whisper_tensor_layout(info.hparams).size());
    const std::string bytes = accel::test::read_file(good);

    auto refused = [&](const std::string& name, const std::string& content, const std::string& needle) {
        const auto p = tmp / name;
        std::ofstream(p, std::ios::binary) << content;
        try {
            (void)accel::engine::WhisperModel::load(p);
            ADD_FAILURE() << name << " loaded";
        } catch (const accel::Error& e) {
            const std::string msg = e.what();
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << msg;
            EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
            EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        }
    };
    refused("cut_header.bin", bytes.substr(0, 30), "truncated");
    refused("cut_vocab.bin", bytes.substr(0, 100000), "truncated");
    refused("cut_data.bin", bytes.substr(0, bytes.size() - 7), "truncated");
    std::string lying = bytes;
    const int32_t more_positions = 1500;  // n_audio_ctx, the second hyperparameter
    std::memcpy(lying.data() + 8, &more_positions, 4);
    refused("lying_ctx.bin", lying, "wrong shape");
    lying = bytes;
    const int32_t n_tokens = 60000;  // the token count after the filter bank
    std::memcpy(lying.data() + 4 + 44 + 8 + 4 * 80 * 201, &n_tokens, 4);
    refused("lying_tokens.bin", lying, "tokens stored");
    refused("trailing.bin", bytes + std::string(16, '\0'), "");
}

}  // namespace
