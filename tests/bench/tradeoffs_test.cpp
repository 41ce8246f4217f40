// accel tradeoffs end to end on a small synthetic llama (f16 and q4_0): the stored rows and their keys, the measured
// KV bytes against the estimator, the claims, and bad input.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/tradeoffs.h"
#include "accel/engine/quantize.h"
#include "hf_fixture.h"
#include "test_support.h"

namespace {

using accel::test::run_accel;
using nlohmann::json;

const char* const stored_keys[] = {"variant",
                                   "type",
                                   "file_bytes",
                                   "weights_bytes",
                                   "peak_rss_bytes",
                                   "kv_bytes_measured",
                                   "kv_bytes_estimated",
                                   "compute_buffer_bytes",
                                   "type_k",
                                   "flash_attn",
                                   "n_ctx",
                                   "mmap",
                                   "load_ms",
                                   "ttft_ms",
                                   "pp_ts",
                                   "tg_ts",
                                   "perplexity",
                                   "kl_mean",
                                   "cosine",
                                   "random_weights"};

TEST(TradeoffsPlan, BaselinePlusOneAxisAtATimeSkipsWhatCannotRunHere) {
    std::vector<accel::bench::SkippedPoint> skipped;
    const auto points = accel::bench::plan_points({.type_k = {"f16", "q8_0", "q4_0"},
                                                   .flash_attn = {"off", "on"},
                                                   .n_ctx = {512},
                                                   .mmap = {true, false},
                                                   .n_gpu_layers = {0, 8}},
                                                  false, false, skipped);
    // baseline (f16, off), fa on, mmap off; q8_0/q4_0 without flash attention and ngl 8 without a GPU are skipped.
    ASSERT_EQ(points.size(), 3u);
    EXPECT_EQ(points[1].flash_attn, "on");
    EXPECT_FALSE(points[2].mmap);
    ASSERT_EQ(skipped.size(), 3u);
    EXPECT_EQ(skipped[2].reason, "unavailable: no GPU");
    skipped.clear();
    const auto grid = accel::bench::plan_points({.type_k = {"f16", "q8_0"},
                                                 .flash_attn = {"on", "off"},
                                                 .n_ctx = {256, 512},
                                                 .mmap = {true},
                                                 .n_gpu_layers = {0}},
                                                true, false, skipped);
    EXPECT_EQ(grid.size(), 6u);  // 2 x 2 x 2, less q8_0 without flash attention at both sizes
    EXPECT_EQ(skipped.size(), 2u);
}

TEST(TradeoffsClaims, ReductionsAreComputedFromTheMeasures) {
    using accel::bench::TradeoffsMeasure;
    TradeoffsMeasure f16{.variant = "m-f16", .type = "F16", .point = {.type_k = "f16", .flash_attn = "on"}};
    f16.weights_bytes = 1000;
    f16.kv_bytes_measured = 640;
    f16.compute_buffer_bytes = 100;
    TradeoffsMeasure q4 = f16;
    q4.variant = "m-q4";
    q4.type = "Q4_0";
    q4.weights_bytes = 300;
    TradeoffsMeasure kv8 = f16;
    kv8.point.type_k = "q8_0";
    kv8.kv_bytes_measured = 340;
    TradeoffsMeasure fa_off = f16;
    fa_off.point.flash_attn = "off";
    fa_off.compute_buffer_bytes = 200;
    const auto claims = accel::bench::check_claims({f16, q4, kv8, fa_off});
    ASSERT_EQ(claims.size(), 3u);
    EXPECT_EQ(claims[0].measured.rfind("measured: 70.0% less weights memory (Q4_0 vs F16", 0), 0u)
        << claims[0].measured;
    EXPECT_EQ(claims[1].measured.rfind("measured: KV cache q8_0 46.9% less", 0), 0u) << claims[1].measured;
    EXPECT_EQ(claims[2].measured.rfind("measured: compute buffer 50.0% less", 0), 0u) << claims[2].measured;
    fa_off.compute_buffer_bytes = 80;  // flash attention costing memory reads as "more", not "-25% less"
    EXPECT_EQ(accel::bench::check_claims({f16, fa_off})[2].measured.rfind("measured: compute buffer 25.0% more", 0),
              0u);
    const auto none = accel::bench::check_claims({f16});
    for (const auto& c : none) EXPECT_EQ(c.measured.rfind("unavailable: ", 0), 0u) << c.measured;
}

TEST(TradeoffsJson, RoundTripsThroughPointResult) {
    accel::bench::TradeoffsMeasure m{.variant = "v", .type = "Q8_0", .file_bytes = 7};
    m.kv_bytes_measured = 123;
    m.perplexity = 4.5;
    accel::bench::PointResult r;
    r.tradeoffs = m;
    const auto back = accel::bench::point_result_from_json(accel::bench::to_json_text(r));
    ASSERT_TRUE(back.tradeoffs.has_value());
    EXPECT_EQ(accel::bench::to_json_text(*back.tradeoffs), accel::bench::to_json_text(m));
    const auto m2 = accel::bench::tradeoffs_from_json(accel::bench::to_json_text(*back.tradeoffs));
    EXPECT_EQ(m2.kv_bytes_measured, 123u);
    EXPECT_FALSE(m2.kl_mean.has_value());
    EXPECT_EQ(m2.perplexity, 4.5);
    EXPECT_FALSE(accel::bench::point_result_from_json(accel::bench::to_json_text(accel::bench::PointResult{}))
                     .tradeoffs.has_value());
}

// A tradeoffs point loads through a resource pool's lease, as every bench point does: its result carries the
// placement decision and the lease's threads, and mmap off reaches the loader (the weights are then read, not mapped,
// so the model's own buffers are the weights, measured).
TEST(TradeoffsPoint, LoadsThroughThePoolWithItsPlacementAndThreads) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const accel::bench::TradeoffsVariant v = accel::bench::describe_variant(stories.string());
    const accel::bench::TradeoffsOptions o{.n_prompt = 16, .n_gen = 4, .reps = 1, .n_threads = 1, .cold = false};
    for (const bool mmap : {true, false}) {
        const accel::bench::TradeoffsPoint p{
            .type_k = "f16", .flash_attn = "off", .n_ctx = 256, .mmap = mmap, .n_gpu_layers = 0};
        const accel::bench::PointResult r = accel::bench::measure_point(v, p, o);
        ASSERT_TRUE(r.ok) << r.failure_stage << ": " << r.failure_reason;
        EXPECT_FALSE(r.placement.empty());
        EXPECT_EQ(r.device, "cpu");
        EXPECT_EQ(r.n_threads, 1);
        EXPECT_EQ(r.model_sha256.size(), 64u);
        EXPECT_GT(r.model_n_params_blocks, 0u);
        ASSERT_TRUE(r.tradeoffs);
        const json m = json::parse(accel::bench::to_json_text(*r.tradeoffs));
        EXPECT_EQ(m["mmap"].get<bool>(), mmap);
        EXPECT_GT(m["load_ms"].get<double>(), 0.0);
        EXPECT_GE(m["ttft_ms"].get<double>(), m["load_ms"].get<double>());
        EXPECT_GT(m["weights_bytes"].get<uint64_t>(), 0u);
        EXPECT_GT(m["peak_rss_bytes"].get<uint64_t>(), m["weights_bytes"].get<uint64_t>());
    }
}

TEST(TradeoffsCli, TwoVariantsStoreOneRowPerPointWithEveryKey) {
    const auto f16 = accel::test::synthetic_model("llama", "5M", "f16");
    const auto q4 = accel::test::synthetic_model("llama", "5M", "q4_0");
    accel::test::TempDir dir;
    const std::string db = (dir / "t.duckdb").string();
    const auto r = run_accel({"tradeoffs",
                              "--model",
                              f16.string() + "," + q4.string(),
                              "--ctk",
                              "f16,q8_0",
                              "--fa",
                              "on,off",
                              "--ctx",
                              "256",
                              "--mmap",
                              "on,off",
                              "-p",
                              "16",
                              "-n",
                              "4",
                              "-r",
                              "1",
                              "--chunks",
                              "1",
                              "--quality-ctx",
                              "64",
                              "-t",
                              "2",
                              "--db",
                              db,
                              "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = json::parse(r.out);
    EXPECT_EQ(j.at("schema_version"), 1);
    EXPECT_EQ(j.at("reference"), f16.stem().string());
    const auto& rows = j.at("tradeoffs");
    ASSERT_EQ(rows.size(), 8u);  // 2 variants x (baseline, ctk q8_0, fa off, mmap off)
    EXPECT_TRUE(j.at("failures").empty());
    for (const auto& row : rows) {
        for (const char* k : stored_keys) EXPECT_TRUE(row.contains(k)) << k;
        EXPECT_EQ(row.at("file_bytes"), std::filesystem::file_size(row.at("type") == "F16" ? f16 : q4));
        const double kv = row.at("kv_bytes_measured");
        const double est = row.at("kv_bytes_estimated");
        EXPECT_NEAR(kv, est, 0.05 * est) << row.dump();
        EXPECT_GT(row.at("compute_buffer_bytes").get<uint64_t>(), 0u);
        EXPECT_GT(row.at("peak_rss_bytes").get<uint64_t>(), row.at("weights_bytes").get<uint64_t>());
        EXPECT_GT(row.at("ttft_ms").get<double>(), row.at("load_ms").get<double>());
        EXPECT_GT(row.at("pp_ts").get<double>(), 0);
        EXPECT_GT(row.at("tg_ts").get<double>(), 0);
        EXPECT_TRUE(row.at("cosine").is_null());  // an LLM: perplexity and KL, not cosine
        EXPECT_EQ(row.at("random_weights"), true) << row.dump();  // make-model's general.name says so
        EXPECT_EQ(row.at("device_memory_note").get<std::string>().rfind("unavailable: ", 0), 0u);
        // Quality on random weights is noise (measured on a real model below); here only where it goes.
        EXPECT_FALSE(row.at("quality_note").get<std::string>().empty()) << row.dump();
        if (row.at("type_k") != "f16") {
            EXPECT_TRUE(row.at("perplexity").is_null());  // quality is measured with an f16 KV cache only
            EXPECT_EQ(row.at("quality_note"), "not measured with a q8_0 KV cache (quality is measured with f16 KV)");
        }
    }
    const auto& claims = j.at("claims");
    ASSERT_EQ(claims.size(), 3u);
    for (const auto& c : claims) {
        EXPECT_EQ(c.at("measured").get<std::string>().rfind("measured: ", 0), 0u) << c.dump();
    }

    const auto q =
        run_accel({"db", "query", "SELECT extra FROM results WHERE scenario = 'tradeoffs' ORDER BY created_at", "--db",
                   db, "--json"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    const auto stored = json::parse(q.out).at("rows");
    ASSERT_EQ(stored.size(), 8u);
    std::set<std::string> variants;
    for (const auto& s : stored) {
        const auto t = json::parse(s.at("extra").get<std::string>()).at("tradeoffs");
        for (const char* k : stored_keys) EXPECT_TRUE(t.contains(k)) << k;
        variants.insert(t.at("variant"));
    }
    EXPECT_EQ(variants.size(), 2u);
}

TEST(TradeoffsCli, TypesQuantizesARealModelAndMeasuresQualityAgainstIt) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto r = run_accel({"tradeoffs",
                              "--model",
                              stories.string(),
                              "--types",
                              "q8_0",
                              "--ctk",
                              "f16",
                              "--fa",
                              "on",
                              "--mmap",
                              "on",
                              "--ctx",
                              "128",
                              "-p",
                              "8",
                              "-n",
                              "2",
                              "-r",
                              "1",
                              "--chunks",
                              "2",
                              "--quality-ctx",
                              "64",
                              "--no-store",
                              "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto rows = json::parse(r.out).at("tradeoffs");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].at("type"), "F32");
    EXPECT_EQ(rows[1].at("type"), "Q8_0");
    EXPECT_EQ(rows[1].at("variant"), "stories260K-Q8_0");
    EXPECT_EQ(rows[0].at("random_weights"), false);  // a trained model: its quality figures rank
    EXPECT_EQ(rows[1].at("random_weights"), false);
    EXPECT_LT(rows[1].at("file_bytes").get<uint64_t>(), rows[0].at("file_bytes").get<uint64_t>());
    const double ppl_ref = rows[0].at("perplexity");
    const double ppl_q8 = rows[1].at("perplexity");
    EXPECT_GT(ppl_ref, 1.0);
    EXPECT_TRUE(rows[0].at("kl_mean").is_null()) << rows[0].dump();  // the reference against itself: not run
    EXPECT_GT(rows[1].at("kl_mean").get<double>(), 0.0) << rows[1].dump();
    // q8_0 keeps a small model's predictions close: a small KL and nearly the same perplexity.
    EXPECT_LT(rows[1].at("kl_mean").get<double>(), 0.05) << rows[1].dump();
    EXPECT_NEAR(ppl_q8 / ppl_ref, 1.0, 0.05);
}

TEST(TradeoffsCli, BadInputIsOneLineAndExit2) {
    const auto model = accel::test::synthetic_model("llama", "5M", "f16");
    auto r = run_accel({"tradeoffs", "--model", model.string(), "--types", "q9_9", "--no-store"});
    EXPECT_EQ(r.exit_code, 2);
    std::string valid;
    for (const auto& t : accel::engine::quant_types()) valid += (valid.empty() ? "" : ", ") + t.name;
    EXPECT_EQ(r.err, "accel: error: --types: unknown quantization type 'q9_9' (valid: " + valid + ")\n");
    r = run_accel({"tradeoffs", "--model", "/nonexistent/m.gguf", "--no-store"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "accel: error: model /nonexistent/m.gguf not found\n");
    r = run_accel({"tradeoffs", "--model", model.string(), "--ctk", "q3", "--no-store"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "accel: error: --ctk q3: unknown KV cache type 'q3' (use one of f32, f16, bf16, q8_0, q4_0, "
                     "q4_1, q5_0, q5_1, iq4_nl)\n");
    EXPECT_TRUE(r.out.empty());
    // accel's own graphs are refused before anything is quantized (no "tradeoffs: quantizing" line) or measured
    accel::test::TempDir tmp;
    const auto detr = tmp / "detr-f32.gguf";
    ASSERT_EQ(run_accel({"convert", accel::test::hf_fixture("detr").string(), "--out", detr.string(), "--type", "f32"})
                  .exit_code, 0);
    r = run_accel({"tradeoffs", "--model", detr.string(), "--types", "q8_0", "--no-store"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "accel: error: " + detr.string() + ": a 'detr' model runs on accel's own ggml graph; accel "
                     "tradeoffs measures llama.cpp models only (KV cache, offload, perplexity) and has no measure for "
                     "these yet (docs/tradeoffs.md)\n");
}

}  // namespace
