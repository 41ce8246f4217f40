// The conformance suite on the CPU: the core architectures in every weight type, a planted defect, a contained
// crash, an unsupported architecture, the stored compatibility rows and the coverage count.
#include <csignal>
#include <fstream>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/conformance.h"
#include "accel/bench/hf_conformance.h"
#include "accel/model/hf_limits.h"
#include "accel/core/error.h"
#include "accel/model/classifier.h"
#include "accel/store/database.h"
#include "test_support.h"

namespace accel::bench {
namespace {

using engine::WeightType;

std::filesystem::path vocab_dir() {
    if (const char* v = std::getenv("ACCEL_VOCAB_DIR")) return v;
    return ACCEL_TEST_VOCAB_DIR;
}

ConformOptions cpu_options(std::vector<std::string> archs, std::vector<WeightType> types) {
    ConformOptions o;
    o.archs = std::move(archs);
    o.devices = {"cpu"};
    o.types = std::move(types);
    o.vocab_dir = vocab_dir();
    // Cached across test runs, keyed by architecture and seed, under the build tree.
    const char* cache = std::getenv("ACCEL_TEST_CACHE");
    o.model_dir = std::filesystem::path(cache != nullptr ? cache : "/tmp") / "conform";
    return o;
}

class EnvVar {
public:
    EnvVar(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
    ~EnvVar() { ::unsetenv(name_); }
    EnvVar(const EnvVar&) = delete;
    EnvVar& operator=(const EnvVar&) = delete;

private:
    const char* name_;
};

TEST(ConformThresholds, Q4IsLooserThanF16AndF16ThanF32) {
    EXPECT_LT(conform_threshold(WeightType::f32).max_nmse, conform_threshold(WeightType::f16).max_nmse);
    EXPECT_LT(conform_threshold(WeightType::f16).max_nmse, conform_threshold(WeightType::q8_0).max_nmse);
    EXPECT_LT(conform_threshold(WeightType::q8_0).max_nmse, conform_threshold(WeightType::q4_0).max_nmse);
    EXPECT_GT(conform_threshold(WeightType::f16).min_top1, conform_threshold(WeightType::q4_0).min_top1);
}

TEST(ConformArchitectures, ListsEveryVariantWithReasons) {
    const auto all = engine::conformance_architectures();
    ASSERT_GT(all.size(), 100u);
    bool llama_dense = false, llama_moe = false, qwen2moe_dense = false;
    for (const auto& a : all) {
        if (a.id() == "llama") llama_dense = true;
        if (a.id() == "llama-moe") llama_moe = true;
        if (a.id() == "qwen2moe") qwen2moe_dense = true;  // MoE is mandatory there: only the -moe variant exists
        if (a.arch == "t5") {
            EXPECT_NE(a.unsupported.find("llama_model_saver_supports_arch"), std::string::npos);
        }
        if (a.arch == "bert") {
            EXPECT_TRUE(a.embeddings);
            EXPECT_EQ(a.vocab, "bert-bge");
        }
    }
    EXPECT_TRUE(llama_dense);
    EXPECT_TRUE(llama_moe);
    EXPECT_FALSE(qwen2moe_dense);
}

TEST(ConformSelect, RejectsUnknownArchitecture) {
    try {
        select_architectures({"llama", "no-such-arch"});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("no-such-arch"), std::string::npos);
    }
    EXPECT_EQ(select_architectures({"llama"}).size(), 2u);  // dense and MoE
    EXPECT_EQ(select_architectures({"llama-moe"}).size(), 1u);
}

TEST(ConformRun, RejectsUnknownDevice) {
    auto o = cpu_options({"llama"}, {WeightType::f32});
    o.devices = {"nosuchdevice0"};
    EXPECT_THROW(run_conformance(o), Error);
}

TEST(ConformRun, CoreArchitecturesPassOnCpuInEveryType) {
    const auto o = cpu_options({"llama", "qwen2", "qwen3", "gpt2", "phi3", "bert"},
                               {WeightType::f32, WeightType::f16, WeightType::q8_0, WeightType::q4_0});
    const auto results = run_conformance(o);
    ASSERT_EQ(results.size(), 7u * 4u);  // llama has a MoE variant too
    for (const auto& r : results) {
        SCOPED_TRACE(r.arch + " " + r.type);
        EXPECT_EQ(r.status, ConformStatus::pass) << r.reason;
        ASSERT_TRUE(r.nmse.has_value());
        ASSERT_TRUE(r.top1.has_value());
        EXPECT_TRUE(r.loaded);
        EXPECT_TRUE(r.load_ms.has_value() && *r.load_ms > 0);
        EXPECT_EQ(r.round_trip_identical, std::optional<bool>(true));
        EXPECT_EQ(r.output_kind, r.arch == "bert" ? "embeddings" : "logits");
        if (r.type == "f32") {
            EXPECT_EQ(*r.nmse, 0.0);  // the same model on the same device: bit-identical
        }
        if (r.type == "q4_0") {
            EXPECT_GT(*r.nmse, 0.0);
        }
        EXPECT_TRUE(std::filesystem::exists(r.model_path));
    }
}

TEST(ConformRun, PlantedDefectFails) {
    EnvVar perturb("ACCEL_CONFORM_PERTURB", "qwen2");
    const auto results = run_conformance(cpu_options({"qwen2", "llama-moe"}, {WeightType::f32}));
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].arch, "qwen2");
    EXPECT_EQ(results[0].status, ConformStatus::fail);
    ASSERT_TRUE(results[0].nmse.has_value());
    EXPECT_NEAR(*results[0].nmse, 4.0, 1e-6);  // the output negated: |a - (-a)|^2 / |a|^2
    EXPECT_NE(results[0].reason.find("nmse"), std::string::npos) << results[0].reason;
    EXPECT_EQ(results[0].round_trip_identical, std::optional<bool>(true));
    EXPECT_EQ(results[1].status, ConformStatus::pass) << results[1].reason;  // the other architecture is untouched
}

TEST(ConformRun, CrashIsContainedAndRecordedWithTheSignal) {
    EnvVar crash("ACCEL_CONFORM_CRASH", "llama");
    const auto results = run_conformance(cpu_options({"llama", "qwen2"}, {WeightType::f32}));
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].arch, "llama");
    EXPECT_EQ(results[0].status, ConformStatus::fail);
    EXPECT_EQ(results[0].signal, SIGABRT);
    EXPECT_EQ(results[0].stage, "run");
    EXPECT_NE(results[0].reason.find("signal 6"), std::string::npos) << results[0].reason;
    EXPECT_EQ(results[2].arch, "qwen2");
    EXPECT_EQ(results[2].status, ConformStatus::pass) << results[2].reason;
}

TEST(ConformRun, UnsavableArchitectureIsUnsupportedWithTheReason) {
    const auto results = run_conformance(cpu_options({"t5"}, {WeightType::f32, WeightType::q4_0}));
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) {
        EXPECT_EQ(r.status, ConformStatus::unsupported);
        EXPECT_NE(r.reason.find("cannot save"), std::string::npos) << r.reason;
        EXPECT_FALSE(r.nmse.has_value());
    }
}

TEST(ConformStore, CompatibilityViewShowsStatusAndEvidence) {
    test::TempDir dir;
    const auto db_path = dir / "results.duckdb";
    EnvVar perturb("ACCEL_CONFORM_PERTURB", "qwen2");
    auto results = run_conformance(cpu_options({"llama-moe", "qwen2", "t5"}, {WeightType::f32}));
    ASSERT_EQ(results.size(), 3u);
    const std::string run_id = store_conformance(results, {.db = db_path}, "accel conform (test)", 1);
    EXPECT_FALSE(run_id.empty());
    auto db = store::Database::open(db_path);
    const auto q = db.query(
        "SELECT architecture, device, type, status, n, len(evidence) FROM compatibility ORDER BY architecture");
    ASSERT_EQ(q.rows.size(), 3u);
    const std::vector<std::vector<std::string>> want = {{"llama-moe", "cpu", "f32", "ok", "1", "1"},
                                                        {"qwen2", "cpu", "f32", "invalid", "1", "1"},
                                                        {"t5", "cpu", "f32", "failed:unsupported", "1", "1"}};
    for (size_t i = 0; i < want.size(); ++i) {
        for (size_t c = 0; c < want[i].size(); ++c) EXPECT_EQ(q.rows[i][c].value_or("NULL"), want[i][c]) << i << "," << c;
    }
    const auto ev = db.query("SELECT extra->>'status', CAST(extra->>'nmse' AS DOUBLE) > 1 FROM results "
                             "WHERE scenario = 'conform' AND NOT valid");
    ASSERT_EQ(ev.rows.size(), 1u);
    EXPECT_EQ(ev.rows[0][0].value_or(""), "fail");
    EXPECT_EQ(ev.rows[0][1].value_or(""), "true");
    const auto f = db.query("SELECT reason FROM failures WHERE stage = 'unsupported'");
    ASSERT_EQ(f.rows.size(), 1u);
    EXPECT_NE(f.rows[0][0].value_or("").find("cannot save"), std::string::npos);
}

TEST(ConformCoverage, CountsOnlyArchitecturesThatPassed) {
    ConformResult llama;
    llama.arch = llama.llama_arch = "llama";
    llama.status = ConformStatus::pass;
    ConformResult bert;
    bert.arch = bert.llama_arch = "bert";
    bert.status = ConformStatus::fail;
    ConformResult t5;
    t5.arch = t5.llama_arch = "t5";
    t5.status = ConformStatus::unsupported;
    // against transformers: llama passes in f32 and f16, bert fails in q8_0, xclip has no case yet
    auto hf = [](const char* cls, const char* type, ConformStatus st) {
        ConformResult r;
        r.arch = cls;
        r.type = type;
        r.reference = st == ConformStatus::not_yet ? "none" : "transformers 4.57.6";
        r.status = st;
        r.reason = st == ConformStatus::pass ? "" : "why";
        return r;
    };
    const Coverage c = compute_coverage({llama, bert, t5, hf("llama", "f32", ConformStatus::pass),
                                         hf("llama", "f16", ConformStatus::pass), hf("bert", "f32", ConformStatus::pass),
                                         hf("bert", "q8_0", ConformStatus::fail), hf("xclip", "-", ConformStatus::not_yet)});
    ASSERT_EQ(c.key_types.size(), 13u);
    std::map<std::string, CoverageType> key;
    for (const auto& k : c.key_types) key[k.model_type] = k;
    EXPECT_EQ(key["llama"].transformers, "pass");
    EXPECT_EQ(key["bert"].transformers, "fail");
    EXPECT_EQ(key["bert"].transformers_reason, "q8_0: why");
    EXPECT_EQ(key["xclip"].transformers, "not yet");
    EXPECT_EQ(key["llava_next"].transformers, "not run");  // every key class has a case now
    EXPECT_EQ(key["qwen2"].transformers, "not run");  // has a case, not in this run
    EXPECT_EQ(key["vit"].transformers, "not run");
    EXPECT_TRUE(key["qwen2"].convertible);
    EXPECT_TRUE(key["vit"].convertible);
    EXPECT_TRUE(key["detr"].convertible);
    EXPECT_TRUE(key["xclip"].convertible);
    EXPECT_EQ(c.n_transformers_pass, 1);  // llama
    // convertible: every knowledge-table type whose model_type accel convert takes (independently: all thirteen)
    const std::set<std::string> converts = {"llama", "qwen2", "bert", "t5",   "vit",  "clip",
                                            "whisper", "detr", "wav2vec2", "llava", "llava_next", "clap", "xclip"};
    int n_convertible = 0;
    for (const auto& t : model::known_model_types()) n_convertible += converts.count(t.model_type) ? 1 : 0;
    EXPECT_EQ(c.n_convertible, n_convertible);
    int n_group_convertible = 0, n_group_pass = 0;
    for (const auto& g : c.groups) {
        n_group_convertible += g.n_convertible;
        n_group_pass += g.n_transformers_pass;
    }
    EXPECT_EQ(n_group_convertible, n_convertible);
    EXPECT_EQ(n_group_pass, 1);
    std::map<std::string, std::string> status;
    for (const auto& k : c.key_types) status[k.model_type] = k.status;
    EXPECT_EQ(status["llama"], "runnable");
    EXPECT_EQ(status["bert"], "failed");
    EXPECT_EQ(status["t5"], "unsupported");
    EXPECT_EQ(status["qwen2"], "not run");
    EXPECT_EQ(status["whisper"], "no llama.cpp architecture");
    int runnable = 0;
    for (const auto& t : model::known_model_types()) runnable += t.llama_cpp_arch == "llama" ? 1 : 0;
    EXPECT_EQ(c.n_runnable, runnable);
    int sum = 0;
    for (const auto& g : c.groups) sum += g.n_runnable;
    EXPECT_EQ(sum, runnable);
}

TEST(ConformCli, UnknownArchitectureIsInvalidInput) {
    const auto r = test::run_accel({"conform", "--arch", "no-such-arch", "--no-store"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown architecture 'no-such-arch'"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
}

TEST(ConformCli, PlantedDefectExitsWithCheckFailureAndPrintsTheMatrix) {
    const auto r = test::run_accel({"conform", "--arch", "qwen2,llama-moe", "--device", "cpu", "--type", "f32", "--no-store"},
                                   {"ACCEL_CONFORM_PERTURB=qwen2"}, 300);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.out.find("FAIL 4.0e+00"), std::string::npos) << r.out;
    // qwen2 also names the Hugging Face class, whose case against transformers the perturbation leaves alone
    EXPECT_NE(r.out.find("3 cases: 2 pass, 1 fail, 0 unsupported, 0 not yet"), std::string::npos) << r.out;
}

TEST(ConformCli, CoverageListsTheKeyTypes) {
    const auto r = test::run_accel({"conform", "--coverage", "--arch", "llama,t5", "--device", "cpu", "--type", "f32",
                                    "--no-store", "--json"}, {}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("key_types").size(), 13u);
    std::map<std::string, std::string> status;
    for (const auto& k : j.at("key_types")) status[k.at("model_type")] = k.at("status");
    EXPECT_EQ(status["llama"], "runnable");
    EXPECT_EQ(status["t5"], "unsupported");
    EXPECT_EQ(status["qwen2"], "not run");
    EXPECT_EQ(status["clap"], "no llama.cpp architecture");
    std::map<std::string, std::string> hf;
    for (const auto& k : j.at("key_types")) hf[k.at("model_type")] = k.at("transformers");
    EXPECT_EQ(hf["llama"], "pass");      // its case against transformers ran (llama names the class too)
    EXPECT_EQ(hf["t5"], "pass");         // t5's case against transformers (converted from its fixture)
    EXPECT_EQ(hf["qwen2"], "not run");
    EXPECT_EQ(hf["xclip"], "not run");  // has a case, not in this run
    EXPECT_EQ(j.at("transformers_pass"), 2);
    EXPECT_EQ(j.at("convertible").get<int>() >= 3, true);
    EXPECT_GE(j.at("runnable").get<int>(), 1);
    EXPECT_LT(j.at("runnable").get<int>(), j.at("types").get<int>());
}

// ---- against transformers: the committed fixtures (tests/fixtures/hf), no Python

std::filesystem::path hf_fixtures() {
    const char* src = std::getenv("ACCEL_SOURCE_DIR");
    return std::filesystem::path(src != nullptr ? src : ".") / "tests" / "fixtures" / "hf";
}

TEST(ConformHf, RegistryHasOneEntryPerKeyClass) {
    std::vector<std::string> names;
    for (const auto& c : hf_classes()) {
        names.push_back(c.model_type);
        // a class runs a case exactly when it has a fixture, and says why when it does not
        EXPECT_EQ(c.run == HfRun::none, c.fixture.empty()) << c.model_type;
        EXPECT_EQ(c.run == HfRun::none, !c.not_yet.empty()) << c.model_type;
    }
    EXPECT_EQ(names, coverage_key_types());
    EXPECT_EQ(find_hf_class("xclip")->run, HfRun::video_text);
    EXPECT_EQ(find_hf_class("detr")->run, HfRun::object_detection);
    EXPECT_EQ(find_hf_class("llama")->run, HfRun::decoder_logits);
    EXPECT_EQ(find_hf_class("bert")->run, HfRun::encoder_embeddings);
    EXPECT_EQ(find_hf_class("t5")->run, HfRun::seq2seq_logits);
    EXPECT_EQ(find_hf_class("vit")->run, HfRun::image_classes);
    EXPECT_EQ(find_hf_class("clip")->run, HfRun::image_text);
    EXPECT_EQ(find_hf_class("whisper")->run, HfRun::speech_logits);
    EXPECT_EQ(find_hf_class("gpt2"), nullptr);
}

TEST(ConformHf, ReferenceIsTheFixturesTransformersVersion) {
    // VERSIONS, read here independently of the code under test
    std::ifstream in(hf_fixtures() / "VERSIONS");
    std::string line, want;
    while (std::getline(in, line)) {
        if (line.rfind("transformers ", 0) == 0) want = line;
    }
    ASSERT_FALSE(want.empty()) << "no transformers line in " << (hf_fixtures() / "VERSIONS");
    for (const char* cls : {"llama", "qwen2", "bert", "t5", "vit", "clip", "whisper", "detr", "wav2vec2", "clap", "xclip"})
        EXPECT_EQ(hf_fixture_reference(hf_fixtures() / cls), want) << cls;
    test::TempDir tmp;
    EXPECT_THROW(hf_fixture_reference(tmp.path()), Error);
}

// Every key class's case in f32 and q4_0: the eight with a fixture pass in f32 with the one table's limits, q4_0
// and the classes without an engine are `not yet`, which is no failure.
TEST(ConformHf, EveryClassWithAFixturePassesAgainstTransformers) {
    auto o = cpu_options({"llama", "qwen2", "bert", "t5", "vit", "clip", "whisper", "detr", "wav2vec2", "clap", "xclip"},
                         {WeightType::f32, WeightType::q4_0});
    o.hf_fixtures = hf_fixtures();
    o.against_transformers = true;
    std::map<std::string, int> n_pass;
    for (const auto& r : run_conformance(o)) {
        if (r.reference == conform_self_reference) continue;  // the cases against llama.cpp itself
        EXPECT_EQ(r.reference.rfind("transformers ", 0), 0u) << r.reference;
        if (r.type == "q4_0") {
            EXPECT_EQ(r.status, ConformStatus::not_yet) << r.arch;
            continue;
        }
        EXPECT_EQ(r.status, ConformStatus::pass) << r.arch << ": " << r.reason;
        n_pass[r.arch] += r.status == ConformStatus::pass ? 1 : 0;
        // every metric of the table for this class and type, with the table's limit
        const auto limits = model::hf_limits_for(r.arch, model::ConvertType::f32);
        ASSERT_EQ(r.metrics.size(), limits.size()) << r.arch;
        for (size_t i = 0; i < limits.size(); ++i) {
            EXPECT_EQ(r.metrics[i].name, model::to_string(limits[i].metric));
            EXPECT_EQ(r.metrics[i].limit, limits[i].limit);
        }
    }
    EXPECT_EQ(n_pass, (std::map<std::string, int>{{"bert", 1}, {"clip", 1}, {"llama", 1}, {"qwen2", 1}, {"t5", 1},
                                                  {"vit", 1}, {"whisper", 1}, {"detr", 1}, {"wav2vec2", 1},
                                                  {"clap", 1}, {"xclip", 1}}));
}

TEST(ConformHf, PlantedDefectFailsOnlyTheCaseAgainstTransformers) {
    EnvVar perturb("ACCEL_CONFORM_PERTURB", "hf:llama");
    auto o = cpu_options({"llama"}, {WeightType::f32});
    o.hf_fixtures = hf_fixtures();
    o.against_transformers = true;
    const auto results = run_conformance(o);
    ASSERT_EQ(results.size(), 3u);  // llama, llama-moe, and llama against transformers
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(results[i].reference, conform_self_reference);
        EXPECT_EQ(results[i].status, ConformStatus::pass) << results[i].reason;
    }
    EXPECT_EQ(results[2].status, ConformStatus::fail);
    EXPECT_NE(results[2].reason.find("logits_rel"), std::string::npos) << results[2].reason;
    EXPECT_NE(results[2].reason.find("top1"), std::string::npos) << results[2].reason;
}

TEST(ConformHf, CrashIsContainedAndRecorded) {
    EnvVar crash("ACCEL_CONFORM_CRASH", "hf:qwen2");
    auto o = cpu_options({"qwen2"}, {WeightType::f32});
    o.hf_fixtures = hf_fixtures();
    o.against_transformers = true;
    const auto results = run_conformance(o);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[1].status, ConformStatus::fail);
    EXPECT_EQ(results[1].signal, SIGABRT);
    EXPECT_EQ(results[1].stage, "run");
}

TEST(ConformHf, StoredRecordNamesTheReference) {
    test::TempDir tmp;
    auto o = cpu_options({"bert"}, {WeightType::f32});
    o.hf_fixtures = hf_fixtures();
    o.against_transformers = true;
    auto results = run_conformance(o);
    ConformResult vit;  // a class with no case yet is stored too, as a failure row "not yet"
    vit.arch = "vit";
    vit.device = vit.type = "-";
    vit.status = ConformStatus::not_yet;
    vit.reference = "none";
    vit.reason = find_hf_class("vit")->not_yet;
    results.push_back(vit);
    const auto db_path = tmp.path() / "r.duckdb";
    store_conformance(results, {.db = db_path}, "accel conform --arch bert", 1);
    auto db = store::Database::open(db_path);
    const auto q = db.query("SELECT architecture, family, status FROM compatibility ORDER BY family, architecture");
    ASSERT_EQ(q.rows.size(), 3u);
    EXPECT_EQ(q.rows[0][1].value_or(""), "conform: accel cpu f32");
    EXPECT_EQ(q.rows[1][0].value_or(""), "vit");
    EXPECT_EQ(q.rows[1][2].value_or(""), "failed:not yet");
    EXPECT_EQ(q.rows[2][0].value_or(""), "bert");
    EXPECT_EQ(q.rows[2][1].value_or(""), "conform: " + hf_fixture_reference(hf_fixtures() / "bert"));
    EXPECT_EQ(q.rows[2][2].value_or(""), "ok");
}

// What a user of a fresh clone runs: no --hf-fixtures, the source tree's fixtures found by default.
TEST(ConformCli, HfClassesPassAgainstTransformersByDefault) {
    const auto r = test::run_accel({"conform", "--arch", "llama,qwen2,bert,t5,clip,detr,xclip", "--device", "cpu", "--type", "f32",
                                    "--no-store", "--json"}, {"ACCEL_HF_FIXTURES="}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("summary").at("fail"), 0);
    std::map<std::string, std::string> hf;
    for (const auto& x : j.at("results")) {
        if (x.at("reference") == "accel cpu f32") continue;
        hf[x.at("arch")] = x.at("status").get<std::string>() + " " + x.at("reference").get<std::string>();
        if (x.at("status") == "pass") {
            EXPECT_TRUE(x.at("metrics").contains("logits_rel") || x.at("metrics").contains("embedding_cosine")) << x.dump();
        }
    }
    const std::string ref = hf_fixture_reference(hf_fixtures() / "llama");
    EXPECT_EQ(hf, (std::map<std::string, std::string>{
                      {"bert", "pass " + ref}, {"clip", "pass " + ref}, {"detr", "pass " + ref}, {"llama", "pass " + ref},
                      {"qwen2", "pass " + ref}, {"t5", "pass " + ref}, {"xclip", "pass " + ref}}));
}

// Issue #20's done-when: LLaVA-1.5 and LLaVA-Next against transformers on the CPU, every type the table judges
// (docs/llava.md: accel's own graph for the image side; libmtmd's clip.cpp does not match at the pin).
TEST(ConformCli, LlavaAndLlavaNextPassAgainstTransformers) {
    const auto r = test::run_accel({"conform", "--arch", "llava,llava_next", "--device", "cpu", "--type", "f32,f16,q8_0",
                                    "--no-store", "--json"}, {"ACCEL_HF_FIXTURES="}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const auto j = nlohmann::json::parse(r.out);
    std::map<std::string, int> passed;
    for (const auto& x : j.at("results")) {
        if (x.at("reference") == "accel cpu f32") continue;
        EXPECT_EQ(x.at("status"), "pass") << x.dump();
        EXPECT_TRUE(x.at("metrics").contains("logits_rel")) << x.dump();
        ++passed[x.at("arch").get<std::string>()];
    }
    EXPECT_EQ(passed, (std::map<std::string, int>{{"llava", 3}, {"llava_next", 3}}));
}

TEST(ConformCli, HfFixturesFlag) {
    const auto missing = test::run_accel({"conform", "--arch", "llama", "--hf-fixtures", "/no/such/dir", "--no-store"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("--hf-fixtures /no/such/dir"), std::string::npos) << missing.err;
    // a folder without the class: its case is `not yet`, and the table says which reference each row has
    test::TempDir empty;
    const auto r = test::run_accel({"conform", "--arch", "vit,qwen2", "--device", "cpu", "--type", "f32", "--hf-fixtures",
                                    empty.path().string(), "--no-store"}, {}, 300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("accel cpu f32"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no fixture"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("3 cases: 1 pass, 0 fail, 0 unsupported, 2 not yet"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace accel::bench
