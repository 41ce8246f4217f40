// accel recommend: ranking per objective, constraints, infeasible requests, weights, the evidence read from a fixed
// database, the quick search on an injected measure function, run_recommend without the search, and the CLI's
// bad-input contract.
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/price_table.h"
#include "accel/bench/run_recorder.h"
#include "accel/bench/statistics.h"
#include "accel/core/error.h"
#include "accel/core/sha256_cache.h"
#include "accel/store/result_writer.h"
#include "accel/tune/gain_check.h"
#include "accel/tune/recommend.h"
#include "accel/tune/recommend_data.h"
#include "accel/tune/recommend_run.h"
#include "accel/tune/recommend_search.h"
#include "test_support.h"

namespace {

using accel::model::FlashAttn;
using accel::model::KvType;
using accel::tune::Config;
using accel::tune::Objective;
using accel::tune::Observation;

const std::string sha_a(64, 'a');

Config cfg(int32_t threads = 0, const std::string& kv = "f16", const std::string& sha = sha_a) {
    Config c = accel::tune::default_config(sha);
    c.model_path = "/models/m.gguf";
    c.n_threads = threads;
    c.type_k = kv;
    c.type_v = kv;
    if (kv != "f16") c.flash_attn = "on";
    return c;
}

struct Figures {
    double ts = 100;        // tokens/s of every repetition
    double tpot_ms = 10;    // time per output token of every repetition
    uint64_t rss = 500'000'000;
    int reps = 5;
    std::vector<std::pair<std::string, double>> energy_j{};
};

// A tg128 point with identical repetitions, so every figure is exact.
accel::bench::PointResult point(const Config& c, const Figures& f) {
    accel::bench::PointResult r;
    r.spec = accel::tune::tg_spec(c, 128);
    r.ok = true;
    r.model_sha256 = c.model_sha256;
    r.model_name = "tiny";
    r.model_arch = "llama";
    r.model_n_params = 1000;
    r.model_desc = c.variant.empty() ? "llama 1K F16" : c.variant;
    r.device = c.device;
    r.n_threads = c.n_threads > 0 ? c.n_threads : 8;
    r.n_gpu_layers = 0;
    for (int i = 0; i < f.reps; ++i) {
        r.measurement.samples_ns.push_back(static_cast<int64_t>(128 / f.ts * 1e9));
        r.measurement.samples_ts.push_back(f.ts);
        r.measurement.tpot_ns.push_back(static_cast<int64_t>(f.tpot_ms * 1e6));
    }
    std::vector<double> ns(r.measurement.samples_ns.begin(), r.measurement.samples_ns.end());
    r.measurement.ns = accel::bench::summarize(ns);
    r.measurement.ts = accel::bench::summarize(r.measurement.samples_ts);
    r.peak_rss_bytes = f.rss;
    r.energy_j = f.energy_j;
    if (f.energy_j.empty()) r.energy_unavailable = "no RAPL powercap domains (test)";
    return r;
}

Observation obs(const std::string& id, const Config& c, const Figures& f) {
    return accel::tune::observation_from_point(point(c, f), id, "run1", c.variant);
}

accel::tune::Recommendation run(std::vector<Observation> o, std::vector<accel::tune::ObjectiveWeight> w,
                                  accel::tune::Constraints c = {}) {
    return accel::tune::recommend({.model_sha256 = sha_a, .observations = std::move(o), .weights = std::move(w),
                                     .constraints = c});
}

std::vector<std::string> ids(const std::vector<accel::tune::Candidate>& list) {
    std::vector<std::string> out;
    for (const auto& c : list) out.push_back(c.metrics.evidence.at(0));
    return out;
}

// Three configurations whose order differs per objective.
std::vector<Observation> three() {
    return {obs("def", cfg(0), {.ts = 100, .tpot_ms = 10, .rss = 600'000'000}),
            obs("t4", cfg(4), {.ts = 180, .tpot_ms = 20, .rss = 500'000'000}),
            obs("q8", cfg(0, "q8_0"), {.ts = 150, .tpot_ms = 8, .rss = 400'000'000})};
}

TEST(Recommend, EachObjectivePicksItsBest) {
    EXPECT_EQ(ids(run(three(), {{Objective::throughput, 1}}).ranked), (std::vector<std::string>{"t4", "q8", "def"}));
    EXPECT_EQ(ids(run(three(), {{Objective::latency, 1}}).ranked), (std::vector<std::string>{"q8", "def", "t4"}));
    EXPECT_EQ(ids(run(three(), {{Objective::memory, 1}}).ranked), (std::vector<std::string>{"q8", "t4", "def"}));
}

TEST(Recommend, ComparesWithTheDefault) {
    const auto rec = run(three(), {{Objective::throughput, 1}});
    ASSERT_TRUE(rec.default_config);
    EXPECT_EQ(rec.default_config->metrics.evidence, std::vector<std::string>{"def"});
    const auto& best = rec.ranked.at(0);
    ASSERT_EQ(best.vs_default.size(), 3u);
    EXPECT_EQ(best.vs_default[0], "1.80x the tokens/s of the default (180.0 vs 100.0)");
    EXPECT_EQ(best.vs_default[1], "p99 2.00x the default's (20.00 vs 10.00 ms)");
    EXPECT_EQ(best.vs_default[2], "memory 0.83x the default's (0.500 vs 0.600 GB)");
    EXPECT_DOUBLE_EQ(*best.score, 1.0);
    EXPECT_DOUBLE_EQ(*rec.ranked.at(2).score, 100.0 / 180.0);
    EXPECT_TRUE(rec.ranked.at(2).is_default);
    EXPECT_TRUE(rec.ranked.at(2).vs_default.empty());
    EXPECT_NE(std::find(rec.notes.begin(), rec.notes.end(), "energy per token unavailable: no RAPL powercap domains (test)"),
              rec.notes.end());
}

TEST(Recommend, LargeGapsKeepTwoSignificantDigits) {
    const auto rec = run({obs("def", cfg(0), {.ts = 100}), obs("slow", cfg(1), {.ts = 4.5})}, {{Objective::throughput, 1}});
    EXPECT_EQ(rec.ranked.at(1).vs_default.at(0), "0.045x the tokens/s of the default (4.5 vs 100.0)");
}

TEST(Recommend, NoDefaultStoredSaysSo) {
    auto o = three();
    o.erase(o.begin());
    const auto rec = run(o, {{Objective::throughput, 1}});
    EXPECT_FALSE(rec.default_config);
    EXPECT_TRUE(rec.ranked.at(0).vs_default.empty());
    EXPECT_NE(std::find(rec.notes.begin(), rec.notes.end(),
                        "the default configuration (cpu t=0 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1) has no stored "
                        "result; comparisons with it are unavailable"),
              rec.notes.end());
}

TEST(Recommend, EachConstraintFilters) {
    // p99 at most 15 ms drops t4 (20 ms): q8 is then the fastest.
    auto rec = run(three(), {{Objective::throughput, 1}}, {.max_p99_ms = 15});
    EXPECT_EQ(ids(rec.ranked), (std::vector<std::string>{"q8", "def"}));
    EXPECT_EQ(ids(rec.infeasible), std::vector<std::string>{"t4"});
    EXPECT_EQ(rec.infeasible.at(0).verdicts.at(0).text, "p99 20.00 ms exceeds the 15 ms limit by 5.00 ms (33%)");
    EXPECT_EQ(rec.ranked.at(0).verdicts.at(0).text, "p99 8.00 ms within the 15 ms limit");

    // memory at most 0.55 GB drops def (0.6 GB).
    rec = run(three(), {{Objective::latency, 1}}, {.max_memory_gb = 0.55});
    EXPECT_EQ(ids(rec.ranked), (std::vector<std::string>{"q8", "t4"}));
    EXPECT_EQ(rec.infeasible.at(0).verdicts.at(0).text, "memory 0.600 GB exceeds the 0.55 GB limit by 0.050 GB (9%)");

    // at least 120 tokens/s drops def (100).
    rec = run(three(), {{Objective::memory, 1}}, {.min_tokens_per_s = 120});
    EXPECT_EQ(ids(rec.ranked), (std::vector<std::string>{"q8", "t4"}));
    EXPECT_EQ(rec.infeasible.at(0).verdicts.at(0).text,
              "100.0 tokens/s is 20.0 tokens/s (17%) below the 120 tokens/s minimum");
    EXPECT_EQ(rec.ranked.at(0).verdicts.at(0).text, "150.0 tokens/s meets the 120 tokens/s minimum");
    for (const auto& c : rec.ranked) EXPECT_TRUE(c.feasible);
}

TEST(Recommend, InfeasibleExplainsTheNearestFirst) {
    const auto rec = run(three(), {{Objective::throughput, 1}}, {.max_p99_ms = 5, .min_tokens_per_s = 160});
    EXPECT_FALSE(rec.feasible());
    EXPECT_TRUE(rec.ranked.empty());
    // q8: p99 8 vs 5 (60% over) and 150 vs 160 (6.25% under) = 0.6625; t4: 300%; def: 100% + 37.5%.
    EXPECT_EQ(ids(rec.infeasible), (std::vector<std::string>{"q8", "def", "t4"}));
    const auto& q8 = rec.infeasible.at(0);
    EXPECT_DOUBLE_EQ(q8.violation, 0.6 + 10.0 / 160.0);
    ASSERT_EQ(q8.verdicts.size(), 2u);
    EXPECT_EQ(q8.verdicts[0].name, "max_p99_ms");
    EXPECT_DOUBLE_EQ(q8.verdicts[0].margin, -3.0);
    EXPECT_EQ(q8.verdicts[0].text, "p99 8.00 ms exceeds the 5 ms limit by 3.00 ms (60%)");
    EXPECT_EQ(q8.verdicts[1].text, "150.0 tokens/s is 10.0 tokens/s (6%) below the 160 tokens/s minimum");
    EXPECT_EQ(rec.notes.back(), "no configuration meets the constraints");
}

TEST(Recommend, UnmeasuredFigureFailsItsConstraint) {
    Observation pp = obs("pp", cfg(2), {});
    pp.scenario = "pp";
    pp.tokens_per_s.reset();
    pp.p99_token_ms.reset();
    const auto rec = run({pp}, {{Objective::throughput, 1}}, {.max_p99_ms = 50});
    ASSERT_EQ(rec.infeasible.size(), 1u);
    EXPECT_EQ(rec.infeasible[0].verdicts.at(0).text, "p99 not measured for this configuration (no tg, pg or latency result)");
    EXPECT_DOUBLE_EQ(rec.infeasible[0].violation, 1.0);
}

TEST(Recommend, WeightsCombineRatiosToTheBest) {
    std::vector<Observation> o = {obs("a", cfg(1), {.ts = 100, .tpot_ms = 10}),
                                  obs("b", cfg(2), {.ts = 200, .tpot_ms = 40}),
                                  obs("c", cfg(4), {.ts = 150, .tpot_ms = 15})};
    // Equal weights: a = .5*100/200 + .5*10/10 = .75; b = .5 + .5*10/40 = .625; c = .5*.75 + .5*10/15.
    auto rec = run(o, accel::tune::parse_weights("throughput=1,latency=1"));
    EXPECT_EQ(ids(rec.ranked), (std::vector<std::string>{"a", "c", "b"}));
    EXPECT_DOUBLE_EQ(*rec.ranked[0].score, 0.75);
    EXPECT_DOUBLE_EQ(*rec.ranked[1].score, 0.375 + 0.5 * 10.0 / 15.0);
    EXPECT_DOUBLE_EQ(*rec.ranked[2].score, 0.625);
    ASSERT_EQ(rec.weights.size(), 2u);
    EXPECT_DOUBLE_EQ(rec.weights[0].weight, 0.5);
    // Throughput-heavy: b = .9 + .1*.25 = .925 first.
    rec = run(o, accel::tune::parse_weights("throughput=0.9,latency=0.1"));
    EXPECT_EQ(ids(rec.ranked), (std::vector<std::string>{"b", "c", "a"}));
    EXPECT_DOUBLE_EQ(*rec.ranked[0].score, 0.925);
}

TEST(Recommend, EnergyIsPackageJoulesPerTimedToken) {
    // 5 reps of 128 tokens = 640 tokens; the core sub-domain is inside the package and must not count twice.
    std::vector<Observation> o = {
        obs("hot", cfg(1), {.energy_j = {{"package-0(intel-rapl:0)", 12.8}, {"core(intel-rapl:0:0)", 9.0}}}),
        obs("cool", cfg(2), {.energy_j = {{"package-0(intel-rapl:0)", 6.4}, {"core(intel-rapl:0:0)", 5.0}}})};
    EXPECT_DOUBLE_EQ(*o[1].joules_per_token, 0.01);
    // A counter outside RAPL (a GPU's) is not inside a package: it adds.
    const auto gpu = obs("gpu", cfg(4), {.energy_j = {{"package-0(intel-rapl:0)", 6.4}, {"cuda0(nvml:0)", 6.4}}});
    EXPECT_DOUBLE_EQ(*gpu.joules_per_token, 0.02);
    const auto rec = run(o, {{Objective::energy, 1}});
    EXPECT_EQ(ids(rec.ranked), (std::vector<std::string>{"cool", "hot"}));
    // Printed with what the energy window includes.
    EXPECT_NE(std::find(rec.notes.begin(), rec.notes.end(), accel::bench::energy_upper_bound_note), rec.notes.end());
}

TEST(Recommend, EnergyUnavailableSaysWhyAndNeverEstimates) {
    const auto rec = run(three(), {{Objective::energy, 1}});
    EXPECT_TRUE(rec.ranked.empty());
    EXPECT_EQ(rec.unranked.size(), 3u);
    for (const auto& c : rec.unranked) EXPECT_FALSE(c.metrics.joules_per_token);
    EXPECT_NE(std::find(rec.notes.begin(), rec.notes.end(), "energy unavailable: no RAPL powercap domains (test)"),
              rec.notes.end());
}

TEST(Recommend, ThinEvidenceIsNamed) {
    const auto rec = run({obs("one", cfg(0), {.reps = 1})}, {{Objective::throughput, 1}});
    ASSERT_EQ(rec.ranked.size(), 1u);
    EXPECT_EQ(rec.notes.at(0),
              "thin evidence: only 1 configuration(s) measured for this model; --search quick measures the neighbours");
    EXPECT_EQ(rec.notes.at(1), "thin evidence: 1 configuration(s) rest on single-sample results");
    const auto none = run({}, {{Objective::throughput, 1}});
    EXPECT_FALSE(none.feasible());
    EXPECT_EQ(none.notes.at(0),
              "no stored results for this model or its variants; measure some with accel bench, or use --search quick");
}

TEST(Recommend, NewestResultOfAConfigurationCounts) {
    const auto rec = run({obs("old", cfg(2), {.ts = 300}), obs("new", cfg(2), {.ts = 120})}, {{Objective::throughput, 1}});
    ASSERT_EQ(rec.ranked.size(), 1u);
    EXPECT_DOUBLE_EQ(*rec.ranked[0].metrics.tokens_per_s, 120);
    EXPECT_EQ(rec.ranked[0].metrics.evidence, (std::vector<std::string>{"old", "new"}));
}

TEST(RecommendParse, WeightsAndObjectivesRejectBadInput) {
    const auto message = [](const std::string& text) {
        try {
            accel::tune::parse_weights(text);
        } catch (const accel::Error& e) {
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message("speed=1"), "--weights: unknown objective 'speed' (expected one of: throughput, latency, memory, energy)");
    EXPECT_EQ(message("throughput=abc"), "--weights: weight 'abc' of throughput is not a positive number");
    EXPECT_EQ(message("throughput=-1"), "--weights: weight '-1' of throughput is not a positive number");
    EXPECT_EQ(message("throughput=0"), "--weights: weight '0' of throughput is not a positive number");
    EXPECT_EQ(message("throughput"), "--weights: 'throughput' is not NAME=WEIGHT (e.g. throughput=0.7,latency=0.3)");
    EXPECT_EQ(message("latency=1,latency=2"), "--weights: latency is given twice");
    EXPECT_EQ(message(""), "--weights: empty list (expected e.g. throughput=0.7,latency=0.3)");
    EXPECT_EQ(message("throughput=1,"), "--weights: '' is not NAME=WEIGHT (e.g. throughput=0.7,latency=0.3)");
    const auto w = accel::tune::parse_weights(" throughput = 0.7 , memory=0.3");
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[1].objective, Objective::memory);
    EXPECT_DOUBLE_EQ(w[0].weight, 0.7);
    EXPECT_EQ(accel::tune::parse_objective("latency"), Objective::latency);
    EXPECT_THROW(accel::tune::parse_objective("Latency"), accel::Error);
}

// ---- the evidence from a fixed database ----

struct FixedDb {
    accel::test::TempDir dir;
    std::filesystem::path db = dir / "results.duckdb";
    std::filesystem::path model = dir / "tiny-f16.gguf";
    std::filesystem::path variant = dir / "tiny-q8_0.gguf";
    std::string sha, sha_q8;

    FixedDb() {
        accel::test::write_file(model, "not a real model: only its hash matters here (f16)");
        accel::test::write_file(variant, "not a real model: only its hash matters here (q8_0)");
        sha = accel::sha256_file_cached(model);
        sha_q8 = accel::sha256_file_cached(variant);
    }

    Config at(const std::string& model_sha, int32_t threads, const std::string& kv = "f16") const {
        Config c = cfg(threads, kv, model_sha);
        c.model_path = (model_sha == sha ? model : variant).string();
        c.variant = model_sha == sha ? "llama 1K F16" : "llama 1K Q8_0";
        return c;
    }

    // Stores the points through the same path bench uses (to_result_record), one run, with models.
    void store(const std::vector<std::pair<accel::bench::PointResult, bool>>& points) const {
        accel::store::MachineRecord machine{.id = "00000000test0001", .cpu_model = "Test CPU", .n_logical_cores = 8};
        accel::store::BuildRecord build{.accel_version = "0.0.0-test"};
        auto w = accel::store::ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, {.command = "test"}, machine,
                                                   build);
        std::set<std::string> models;
        std::vector<accel::store::ResultRecord> records;
        int64_t t = 1'700'000'000'000'000'000;
        for (const auto& [p, valid] : points) {
            if (models.insert(p.model_sha256).second) {
                w.add_model({.id = p.model_sha256, .sha256 = p.model_sha256, .path = p.spec.model, .name = p.model_name,
                             .architecture = p.model_arch, .n_params = static_cast<int64_t>(p.model_n_params),
                             .file_type = p.model_desc});
            }
            auto rec = accel::bench::to_result_record(p);
            rec.valid = valid;
            rec.created_at_ns = t += 1'000'000'000;  // stored in order: the newest is the last
            records.push_back(std::move(rec));
        }
        w.add_results(std::move(records));
        w.finish();
    }

    void store_standard() const {
        // Same name and architecture, another size: never a variant.
        accel::bench::PointResult unrelated = point(cfg(2, "f16", std::string(64, 'f')), {.ts = 999});
        unrelated.model_n_params = 2000;
        store({{point(at(sha, 0), {.ts = 100, .tpot_ms = 10, .rss = 600'000'000}), true},
               {point(at(sha, 2), {.ts = 140, .tpot_ms = 9, .rss = 550'000'000}), true},
               {point(at(sha_q8, 2), {.ts = 190, .tpot_ms = 7, .rss = 450'000'000}), true},
               {point(at(sha, 1), {.ts = 500, .tpot_ms = 1}), false},  // failed --verify: left out
               {unrelated, true}});
    }
};

TEST(RecommendData, ReadsTheModelAndItsVariantsFromTheDatabase) {
    FixedDb f;
    f.store_standard();
    const auto ev = accel::tune::load_evidence(f.db, f.model);
    EXPECT_EQ(ev.model.sha256, f.sha);
    EXPECT_EQ(ev.model.file_type, "llama 1K F16");
    ASSERT_EQ(ev.variants.size(), 1u);
    EXPECT_EQ(ev.variants[0].sha256, f.sha_q8);
    EXPECT_EQ(ev.variants[0].file_type, "llama 1K Q8_0");
    EXPECT_EQ(ev.n_invalid, 1);
    ASSERT_EQ(ev.observations.size(), 3u);
    EXPECT_EQ(ev.observations[2].config.model_sha256, f.sha_q8);
    EXPECT_EQ(ev.observations[0].config.model_path, f.model.string());
    EXPECT_DOUBLE_EQ(*ev.observations[1].tokens_per_s, 140);
    EXPECT_DOUBLE_EQ(*ev.observations[1].p99_token_ms, 9);
    EXPECT_EQ(*ev.observations[1].peak_rss_bytes, 550'000'000u);

    const auto rec = accel::tune::recommend(
        {.model_sha256 = ev.model.sha256, .observations = ev.observations, .weights = {{Objective::throughput, 1}}});
    ASSERT_EQ(rec.ranked.size(), 3u);
    EXPECT_EQ(rec.ranked[0].config.model_sha256, f.sha_q8);
    EXPECT_EQ(rec.ranked[0].config.variant, "llama 1K Q8_0");
    EXPECT_EQ(rec.ranked[0].vs_default.at(0), "1.90x the tokens/s of the default (190.0 vs 100.0)");
}

TEST(RecommendData, MissingModelAndMissingDatabase) {
    accel::test::TempDir dir;
    try {
        accel::tune::load_evidence(dir / "db.duckdb", dir / "nope.gguf");
        FAIL() << "no error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_EQ(std::string(e.what()), "model file '" + (dir / "nope.gguf").string() + "' not found");
    }
    accel::test::write_file(dir / "m.gguf", "x");
    const auto ev = accel::tune::load_evidence(dir / "db.duckdb", dir / "m.gguf");
    EXPECT_TRUE(ev.observations.empty());
    EXPECT_FALSE(std::filesystem::exists(dir / "db.duckdb"));
    ASSERT_FALSE(ev.notes.empty());
}

// ---- the quick search on a fake measure function ----

// tokens/s of a configuration: threads 8 (all cores) 100, 4: 150, 2: 160, 1: 60; KV q8_0 x1.2, q4_0 x1.25 (q4_0 over
// q8_0 is +4%, under the 5% bar); flash attention off x0.9; batch sizes change nothing.
double landscape(const Config& c) {
    const std::map<int32_t, double> by_threads{{0, 100}, {8, 100}, {4, 150}, {2, 160}, {1, 60}};
    double ts = by_threads.at(c.n_threads);
    if (c.type_k == "q8_0") ts *= 1.2;
    if (c.type_k == "q4_0") ts *= 1.25;
    if (c.flash_attn == "off") ts *= 0.9;
    return ts;
}

struct FakeBench {
    std::vector<accel::bench::PointSpec> measured;
    accel::tune::MeasureFn fn() {
        return [this](const accel::bench::PointSpec& spec, const Config& c) -> accel::tune::Measured {
            measured.push_back(spec);
            EXPECT_EQ(spec.n_gen, 128);
            EXPECT_EQ(spec.n_prompt, 0);
            EXPECT_EQ(spec.model, c.model_path);
            if (c.type_k == "q4_0" && c.n_threads == 1) return {.failure = "run: planted failure"};
            return {.observation = obs("", c, {.ts = landscape(c), .tpot_ms = 1000 / landscape(c)})};
        };
    }
};

TEST(RecommendSearch, ClimbsUntilGainsFallBelowFivePercent) {
    FakeBench bench;
    const accel::tune::SearchSpace space{.devices = {"cpu"}, .n_logical_cores = 8};
    const auto log = accel::tune::quick_search({}, cfg(0), space, {.max_points = 64}, bench.fn());
    // default 100 -> t4 150 -> t4 q4_0 187.5 -> t2 q4_0 200 (+6.7%); then the best neighbour gains < 5%.
    EXPECT_EQ(log.best.n_threads, 2);
    EXPECT_EQ(log.best.type_k, "q4_0");
    EXPECT_EQ(log.best.type_v, "q4_0");
    EXPECT_EQ(log.best.flash_attn, "on");
    EXPECT_EQ(log.stop_reason.rfind("no neighbour improves on the current configuration by 5% or more", 0), 0u)
        << log.stop_reason;
    EXPECT_EQ(log.n_measured, static_cast<int32_t>(bench.measured.size()));
    EXPECT_EQ(log.n_reused, 0);
    std::set<std::string> keys;
    for (const auto& s : bench.measured) EXPECT_TRUE(keys.insert(accel::bench::spec_key(s)).second) << "measured twice";
    int chosen = 0;
    for (const auto& s : log.steps) chosen += s.chosen ? 1 : 0;
    EXPECT_EQ(chosen, 4);
    EXPECT_EQ(std::count_if(log.steps.begin(), log.steps.end(), [](const auto& s) { return s.source == "failed"; }), 1);
}

TEST(RecommendSearch, ReusesStoredPointsAndStartsWhereTold) {
    FakeBench bench;
    const accel::tune::SearchSpace space{.devices = {"cpu"}, .n_logical_cores = 8};
    // The default and its threads=4 neighbour are stored already (with other figures, to show they are used).
    const std::vector<Observation> stored = {obs("s-def", cfg(0), {.ts = 100, .tpot_ms = 10}),
                                             obs("s-t4", cfg(4), {.ts = 150, .tpot_ms = 6.7})};
    const auto log = accel::tune::quick_search(stored, cfg(0), space, {.max_points = 64}, bench.fn());
    for (const auto& s : bench.measured) {
        EXPECT_FALSE(s.n_threads == 0 && s.type_k == KvType::f16 && s.flash_attn == FlashAttn::auto_ &&
                     s.n_batch == 2048 && s.n_ubatch == 512)
            << "the stored default was measured again";
        EXPECT_FALSE(s.n_threads == 4 && s.type_k == KvType::f16 && s.flash_attn == FlashAttn::auto_ &&
                     s.n_batch == 2048 && s.n_ubatch == 512)
            << "the stored t4 point was measured again";
    }
    EXPECT_EQ(log.n_reused, 2);
    EXPECT_EQ(log.steps.at(0).source, "stored");
    EXPECT_EQ(log.steps.at(0).result_id, "s-def");
    EXPECT_EQ(log.best.n_threads, 2);
}

TEST(RecommendSearch, StopsWhenTheBudgetIsSpent) {
    FakeBench bench;
    const accel::tune::SearchSpace space{.devices = {"cpu"}, .n_logical_cores = 8};
    const auto log = accel::tune::quick_search({}, cfg(0), space, {.max_points = 3}, bench.fn());
    EXPECT_EQ(bench.measured.size(), 3u);
    EXPECT_EQ(log.stop_reason, "the measurement budget (3 points, --max-points) was spent");
}

TEST(RecommendSearch, ConstraintsSteerTheClimb) {
    FakeBench bench;
    const accel::tune::SearchSpace space{.devices = {"cpu"}, .n_logical_cores = 8};
    // tpot = 1000 / ts ms: at most 6.5 ms means at least ~154 tokens/s; memory objective: all equal (500 MB), so the
    // climb only moves to become feasible.
    const auto log = accel::tune::quick_search({}, cfg(0), space,
                                                 {.weights = {{Objective::memory, 1}}, .constraints = {.max_p99_ms = 6.5}},
                                                 bench.fn());
    EXPECT_LE(1000 / landscape(log.best), 6.5);
}

TEST(RecommendSearch, NeighboursCoverTheSpace) {
    accel::tune::SearchSpace space{.devices = {"cpu", "cuda0"}, .n_logical_cores = 4};
    space.variants.push_back(cfg(0, "f16", std::string(64, 'b')));
    const auto n = accel::tune::neighbours(cfg(0), space);
    std::set<std::string> d;
    for (const auto& c : n) d.insert(accel::tune::describe(c) + " " + c.model_sha256.substr(0, 1));
    EXPECT_EQ(d, (std::set<std::string>{
                     "cpu t=2 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1 a",
                     "cpu t=0 b=2048 ub=256 kv=f16/f16 fa=auto ngl=-1 a",
                     "cpu t=0 b=2048 ub=1024 kv=f16/f16 fa=auto ngl=-1 a",
                     "cpu t=0 b=1024 ub=512 kv=f16/f16 fa=auto ngl=-1 a",
                     "cpu t=0 b=4096 ub=512 kv=f16/f16 fa=auto ngl=-1 a",
                     "cpu t=0 b=2048 ub=512 kv=q8_0/q8_0 fa=on ngl=-1 a",
                     "cpu t=0 b=2048 ub=512 kv=q4_0/q4_0 fa=on ngl=-1 a",
                     "cpu t=0 b=2048 ub=512 kv=f16/f16 fa=on ngl=-1 a",
                     "cpu t=0 b=2048 ub=512 kv=f16/f16 fa=off ngl=-1 a",
                     "cuda0 t=0 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1 a",
                     "cpu t=0 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1 b",
                 }));
    Config gpu = cfg(0);
    gpu.device = "cuda0";
    bool ngl0 = false;
    for (const auto& c : accel::tune::neighbours(gpu, space)) ngl0 = ngl0 || (c.device == "cuda0" && c.n_gpu_layers == 0);
    EXPECT_TRUE(ngl0);
}

// ---- the interleaved re-measurement before a gain is claimed ----

// A fake bench with a drifting machine: each measurement is 3 repetitions of base * (1 + drift), the drift growing
// 4% per measurement, so an A A B B order would favour whichever ran first; A B / B A spreads it over both.
struct DriftingBench {
    std::vector<std::string> order;  // "A" (reference: t=0) or "B"
    double candidate_base_ms = 20;
    accel::tune::MeasureFn fn() {
        return [this](const accel::bench::PointSpec&, const Config& c) -> accel::tune::Measured {
            const bool ref = c.n_threads == 0;
            order.push_back(ref ? "A" : "B");
            const double drift = 1 + 0.04 * static_cast<double>(order.size() - 1);
            const double base = (ref ? 25.0 : candidate_base_ms) * 1e6 * drift;
            Observation o = obs("", c, {.ts = 1e9 / base, .tpot_ms = base / 1e6});
            o.samples_ns.clear();
            for (int i = 0; i < 3; ++i) o.samples_ns.push_back(static_cast<int64_t>(base * (1 + 0.01 * i)));
            return {.observation = o};
        };
    }
};

TEST(RecommendGainCheck, InterleavesABBAAndClaimsOnlyAMeasurableGain) {
    DriftingBench bench;
    const auto g = accel::tune::check_gain(cfg(0), cfg(4), 128, 2, bench.fn());
    EXPECT_EQ(bench.order, (std::vector<std::string>{"A", "B", "B", "A"}));
    EXPECT_EQ(g.n_rounds, 2);
    EXPECT_EQ(g.reference_ns.size(), 6u);
    EXPECT_EQ(g.candidate_ns.size(), 6u);
    EXPECT_EQ(g.measured.size(), 4u);
    // Drift factors: A at 1.00 and 1.12, B at 1.04 and 1.08; medians of the pooled samples computed by hand.
    std::vector<double> a, b;
    for (double d : {1.0, 1.12})
        for (int i = 0; i < 3; ++i) a.push_back(static_cast<double>(static_cast<int64_t>(25e6 * d * (1 + 0.01 * i))));
    for (double d : {1.04, 1.08})
        for (int i = 0; i < 3; ++i) b.push_back(static_cast<double>(static_cast<int64_t>(20e6 * d * (1 + 0.01 * i))));
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    ASSERT_TRUE(g.speedup.has_value());
    EXPECT_NEAR(*g.speedup, ((a[2] + a[3]) / 2) / ((b[2] + b[3]) / 2), 1e-9);
    EXPECT_TRUE(g.measurable) << accel::tune::describe(g);
    EXPECT_NE(accel::tune::describe(g).find("x the default's tokens/s"), std::string::npos);

    // 2% faster on a machine that drifts 4% per measurement: inside the noise, no gain claimed.
    DriftingBench close{.candidate_base_ms = 24.5};
    const auto n = accel::tune::check_gain(cfg(0), cfg(4), 128, 2, close.fn());
    EXPECT_FALSE(n.measurable) << accel::tune::describe(n);
    EXPECT_NE(accel::tune::describe(n).find("no measurable difference from the default"), std::string::npos);
}

TEST(RecommendGainCheck, AFailedMeasurementClaimsNothing) {
    const auto g = accel::tune::check_gain(cfg(0), cfg(4), 128, 2, [](const auto&, const Config& c) {
        return c.n_threads == 4 ? accel::tune::Measured{.failure = "run: planted"}
                                : accel::tune::Measured{.observation = Observation{.samples_ns = {1, 2, 3}}};
    });
    EXPECT_FALSE(g.measurable);
    EXPECT_EQ(g.n_rounds, 0);
    EXPECT_NE(accel::tune::describe(g).find("no claim, a measurement failed"), std::string::npos);
}

// ---- the command line ----

std::string one_error(const accel::test::ProcessResult& r) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    return r.err;
}

// tune::run_recommend without the search: the evidence's notes come first, nothing is measured or created, and the
// ranking is recommend()'s over the stored results.
TEST(RecommendRun, WithoutTheSearchRanksTheStoredResultsAndMeasuresNothing) {
    FixedDb f;
    accel::bench::CampaignObserver quiet;
    const auto empty = accel::tune::run_recommend({.db = f.db, .model = f.model.string()}, quiet);
    EXPECT_EQ(empty.recommendation.n_configurations, 0);
    ASSERT_EQ(empty.recommendation.notes.size(), 2u);
    EXPECT_EQ(empty.recommendation.notes.at(0), "database " + f.db.string() + " does not exist yet: nothing measured");
    EXPECT_EQ(empty.recommendation.notes.at(1).rfind("no stored results for this model", 0), 0u);
    EXPECT_FALSE(empty.search.has_value());
    EXPECT_TRUE(empty.run_id.empty());
    EXPECT_FALSE(std::filesystem::exists(f.db)) << "reading the evidence must not create the database";

    f.store_standard();
    const auto out = accel::tune::run_recommend(
        {.db = f.db, .model = f.model.string(), .constraints = {.min_tokens_per_s = 120}}, quiet);
    EXPECT_FALSE(out.search.has_value());
    EXPECT_TRUE(out.run_id.empty());
    EXPECT_EQ(out.recommendation.n_configurations, 3);
    ASSERT_FALSE(out.recommendation.ranked.empty());
    EXPECT_EQ(out.recommendation.ranked.front().config.model_sha256, f.sha_q8);
    EXPECT_EQ(out.recommendation.ranked.front().metrics.tokens_per_s, 190.0);
    EXPECT_EQ(out.evidence.variants.size(), 1u);
}

TEST(RecommendCli, BadInputIsOneLineAndExitTwo) {
    FixedDb f;
    const std::string m = f.model.string();
    const std::string db = f.db.string();
    EXPECT_EQ(one_error(accel::test::run_accel({"recommend", "--model", m, "--db", db, "--objective", "speed"})),
              "accel: error: --objective: unknown objective 'speed' (expected one of: throughput, latency, memory, "
              "energy)\n");
    EXPECT_EQ(one_error(accel::test::run_accel({"recommend", "--model", m, "--db", db, "--weights", "throughput=x"})),
              "accel: error: --weights: weight 'x' of throughput is not a positive number\n");
    EXPECT_EQ(one_error(accel::test::run_accel({"recommend", "--model", m, "--db", db, "--weights", "speed=1"})),
              "accel: error: --weights: unknown objective 'speed' (expected one of: throughput, latency, memory, "
              "energy)\n");
    EXPECT_EQ(one_error(accel::test::run_accel(
                  {"recommend", "--model", m, "--db", db, "--objective", "latency", "--weights", "latency=1"})),
              "accel: error: --objective and --weights cannot be combined: give one\n");
    EXPECT_EQ(one_error(accel::test::run_accel({"recommend", "--model", "/no/such/model.gguf", "--db", db})),
              "accel: error: model file '/no/such/model.gguf' not found\n");
    EXPECT_EQ(one_error(accel::test::run_accel({"recommend", "--db", db})), "accel: error: --model is required\n");
    EXPECT_EQ(one_error(accel::test::run_accel({"recommend", "--model", m, "--db", db, "--max-p99-ms", "0"})),
              "accel: error: --max-p99-ms must be a positive number, not 0\n");
    EXPECT_EQ(one_error(accel::test::run_accel({"recommend", "--model", m, "--db", db, "--search", "full"})),
              "accel: error: --search: unknown mode 'full' (expected none or quick)\n");
    EXPECT_FALSE(std::filesystem::exists(f.db)) << "bad input must not create the database";
}

TEST(RecommendCli, RanksFromTheDatabaseAsJson) {
    FixedDb f;
    f.store_standard();
    const auto r = accel::test::run_accel({"recommend", "--model", f.model.string(), "--db", f.db.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("schema_version"), 1);
    EXPECT_EQ(j.at("feasible"), true);
    EXPECT_EQ(j.at("n_configurations"), 3);
    const auto& best = j.at("ranked").at(0);
    EXPECT_EQ(best.at("config").at("model_sha256"), f.sha_q8);
    EXPECT_EQ(best.at("config").at("n_threads"), 2);
    EXPECT_EQ(best.at("tokens_per_s"), 190.0);
    EXPECT_EQ(best.at("evidence").size(), 1u);
    EXPECT_EQ(best.at("vs_default").at(0), "1.90x the tokens/s of the default (190.0 vs 100.0)");
    EXPECT_EQ(j.at("default").at("config").at("n_threads"), 0);
    EXPECT_EQ(j.at("variants").at(0).at("file_type"), "llama 1K Q8_0");
}

TEST(RecommendCli, InfeasibleExitsThreeAndSaysWhy) {
    FixedDb f;
    f.store_standard();
    const auto r = accel::test::run_accel(
        {"recommend", "--model", f.model.string(), "--db", f.db.string(), "--max-p99-ms", "5"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.out.find("no configuration meets the constraints; nearest:\n"
                         "  cpu t=2 b=2048 ub=512 kv=f16/f16 fa=auto ngl=-1 (llama 1K Q8_0 (variant)): p99 7.00 ms "
                         "exceeds the 5 ms limit by 2.00 ms (40%); evidence: "),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("note: no configuration meets the constraints\n"), std::string::npos) << r.out;
}

TEST(RecommendCli, TableNamesTheBestAndItsGainOverTheDefault) {
    FixedDb f;
    f.store_standard();
    const auto r = accel::test::run_accel({"recommend", "--model", f.model.string(), "--db", f.db.string(),
                                           "--min-tokens-per-s", "120"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("objective: throughput; constraints: tokens/s >= 120; 3 configuration(s) measured\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("#1: 1.90x the tokens/s of the default (190.0 vs 100.0), p99 0.70x the default's (7.00 vs "
                         "10.00 ms), memory 0.75x the default's (0.450 vs 0.600 GB), 190.0 tokens/s meets the 120 "
                         "tokens/s minimum; evidence: "),
              std::string::npos)
        << r.out;
}

// With a price the cost per million generated tokens stands next to tokens/s: price / (tokens/s x 3600) x 1e6, from
// the flag, else the config file's [price] (machine fingerprint, then device, then per_hour); no price, no cost.
TEST(RecommendCli, CostPerMillionTokensFromTheFlagOrTheConfigFile) {
    FixedDb f;
    f.store_standard();
    const std::vector<std::string> base = {"recommend", "--model", f.model.string(), "--db", f.db.string(), "--json"};
    const auto cost_of = [](const nlohmann::json& c) { return c.at("cost_per_million_tokens"); };
    const std::string no_config = "ACCEL_CONFIG=" + (f.dir / "none.toml").string();  // a file that does not exist
    const auto with = [&](std::vector<std::string> extra, const std::string& config_env) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        const auto r = accel::test::run_accel(args, {config_env});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return nlohmann::json::parse(r.out);
    };
    const auto plain = with({}, no_config);
    EXPECT_TRUE(cost_of(plain.at("ranked").at(0)).is_null()) << "no price, no cost";
    for (const auto& n : plain.at("notes")) EXPECT_EQ(n.get<std::string>().find("cost"), std::string::npos) << n;

    const auto flag = with({"--price-per-hour", "3.6"}, no_config);
    const auto& best = flag.at("ranked").at(0);
    EXPECT_EQ(best.at("tokens_per_s"), 190.0);
    EXPECT_DOUBLE_EQ(cost_of(best).get<double>(), 3.6 / (190.0 * 3600) * 1e6);
    EXPECT_DOUBLE_EQ(cost_of(flag.at("default")).get<double>(), 3.6 / (100.0 * 3600) * 1e6);

    // The file: this machine's fingerprint (a prefix of it) wins over the device, which wins over per_hour.
    const auto config = f.dir / "config.toml";
    accel::test::write_file(config, "[price]\nper_hour = 1.0\n[price.device]\ncpu = 2.0\n");
    const auto by_device = with({}, "ACCEL_CONFIG=" + config.string());
    EXPECT_DOUBLE_EQ(cost_of(by_device.at("ranked").at(0)).get<double>(), 2.0 / (190.0 * 3600) * 1e6);
    accel::test::write_file(
        config, "[price]\nper_hour = 1.0\n[price.device]\ncpu = 2.0\n[price.machine]\n\"00000000test\" = 7.2\n");
    const auto by_machine = with({}, "ACCEL_CONFIG=" + config.string());
    EXPECT_DOUBLE_EQ(cost_of(by_machine.at("ranked").at(0)).get<double>(), 7.2 / (190.0 * 3600) * 1e6);
    bool noted = false;
    for (const auto& n : by_machine.at("notes"))
        noted = noted || n.get<std::string>().find("7.2 (price.machine.00000000test)") != std::string::npos;
    EXPECT_TRUE(noted) << by_machine.at("notes").dump();
    // The flag replaces the file.
    const auto both = with({"--price-per-hour", "3.6"}, "ACCEL_CONFIG=" + config.string());
    EXPECT_DOUBLE_EQ(cost_of(both.at("ranked").at(0)).get<double>(), 3.6 / (190.0 * 3600) * 1e6);

    // The table has the column next to t/s only with a price.
    std::vector<std::string> table_args(base.begin(), base.end() - 1);
    const auto table = accel::test::run_accel(table_args, {"ACCEL_CONFIG=" + config.string()});
    EXPECT_NE(table.out.find("cost/1M tok"), std::string::npos) << table.out;
    const auto no_price = accel::test::run_accel(table_args, {no_config});
    EXPECT_EQ(no_price.out.find("cost/1M tok"), std::string::npos) << no_price.out;

    // A price that is not positive is bad input naming the file, line and key.
    accel::test::write_file(config, "[price.device]\ncpu = -1\n");
    const auto bad = accel::test::run_accel(table_args, {"ACCEL_CONFIG=" + config.string()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("config.toml:2: price.device.cpu: a price per machine-hour must be a positive number"),
              std::string::npos)
        << bad.err;
    const auto bad_flag = accel::test::run_accel({"recommend", "--model", f.model.string(), "--db", f.db.string(),
                                                  "--price-per-hour", "0"});
    EXPECT_EQ(bad_flag.exit_code, 2);
}

TEST(RecommendPrices, MachineThenDeviceThenAnyAndNoPriceNoCost) {
    accel::bench::PriceTable t{
        .any = 1.0, .by_machine = {{"abcdef", 4.0}, {"abcdef12", 8.0}}, .by_device = {{"cuda0", 2.0}}};
    EXPECT_EQ(t.per_hour("abcdef1234", "cpu"), 8.0);  // the longest matching prefix
    EXPECT_EQ(t.per_hour("abcdef9999", "cuda0"), 4.0);
    EXPECT_EQ(t.per_hour("ffff", "CUDA0"), 2.0);
    EXPECT_EQ(t.per_hour("ffff", "cpu"), 1.0);
    EXPECT_FALSE(accel::bench::PriceTable{}.per_hour("ffff", "cpu").has_value());
    EXPECT_EQ(accel::bench::cost_per_million(100.0, 3.6), 10.0);
    EXPECT_FALSE(accel::bench::cost_per_million(std::nullopt, 3.6).has_value());
    EXPECT_FALSE(accel::bench::cost_per_million(100.0, std::nullopt).has_value());

    accel::tune::Recommendation rec;
    accel::tune::Candidate c;
    c.config.device = "cpu";
    c.metrics.tokens_per_s = 200;
    c.metrics.machine_id = "abcdef1234";
    rec.ranked.push_back(c);
    accel::tune::apply_prices(rec, {});
    EXPECT_FALSE(rec.ranked[0].cost_per_million_tokens.has_value());
    EXPECT_TRUE(rec.notes.empty());
    accel::tune::apply_prices(rec, t);
    EXPECT_EQ(rec.ranked[0].price_per_hour, 8.0);
    EXPECT_DOUBLE_EQ(*rec.ranked[0].cost_per_million_tokens, 8.0 / (200.0 * 3600) * 1e6);
}

}  // namespace
