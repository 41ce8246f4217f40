// The one JSON form of a measured point (point_result.h) and its warehouse record (run_recorder.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "accel/bench/point_result.h"
#include "accel/bench/run_recorder.h"
#include "accel/store/database.h"
#include "accel/store/record_batch.h"
#include "accel/store/result_columns.h"
#include "test_support.h"

namespace {

using namespace accel::bench;
using nlohmann::json;

// Every field and every extension set to a value that differs from its default.
PointResult full_point() {
    PointResult r;
    r.spec = {.scenario = Scenario::llm, .model = "/m/tiny.gguf", .device = "cuda0", .n_prompt = 32, .n_gen = 16,
              .n_depth = 64, .n_batch = 256, .n_ubatch = 128, .n_threads = 3,
              .type_k = accel::model::KvType::q8_0, .type_v = accel::model::KvType::q4_0,
              .flash_attn = accel::model::FlashAttn::on, .n_gpu_layers = 7, .embed_batch = 2, .n_parallel = 3,
              .target_qps = 1.5, .lengths = "fixed:32,16"};
    r.ok = true;
    r.failure_stage = "none";
    r.failure_reason = "no reason";
    r.measurement.samples_ns = {1000, 3000};
    r.measurement.samples_ts = {48e6, 16e6};
    r.measurement.samples_tokens = {48, 47};
    r.measurement.ttft_ns = {100, 300};
    r.measurement.tpot_ns = {50, 60};
    r.measurement.noisy = true;
    r.measurement.valid = false;
    r.measurement.reasons = {"noisy", "slow"};
    r.measurement.wall = std::chrono::nanoseconds(4000);
    r.device = "cuda0";
    r.n_gpu_layers = 7;
    r.n_threads = 3;
    r.placement = {"fits", "because"};
    r.model_sha256 = "abc";
    r.model_desc = "llama 1M Q8_0";
    r.model_arch = "llama";
    r.model_size = 11;
    r.model_n_params = 12;
    r.model_n_params_blocks = 13;
    r.kv_cache_bytes_estimate = 14;
    r.model_name = "tiny";
    r.cold_cache = true;
    r.cold_cache_note = "evicted";
    r.load_ns = 15;
    r.peak_rss_bytes = 16;
    r.device_memory_bytes = 17;
    r.energy_j = {{"package-0", 1.25}};
    r.energy_unavailable = "n/a";
    r.energy_window = "warm-up and timed";
    r.roofline = RooflineEfficiency{.decode_bandwidth_pct = 40, .prefill_flops_pct = 12.5, .basis = "measured"};
    r.verify = VerifyOutcome{.pass = false, .summary = "top-1 80% < 90%"};
    r.server = ServerStats{.target_qps = 2.5, .achieved_qps = 2.4, .n_queries = 64, .n_parallel = 4, .p50_ms = 1,
                           .p90_ms = 2, .p99_ms = 3, .ttft_p99_ms = 0.5, .tpot_p99_ms = 0.25, .slo_pass = true,
                           .slo = "p99 <= 5 ms", .max_issue_lag_ms = 0.125, .peak_qps = 2,
                           .probes = {{.qps = 2, .achieved_qps = 1.9, .p99_ms = 4, .pass = true}}};
    r.offline = OfflineStats{.n_queries = 8, .n_parallel = 2, .samples_per_s = 3, .tokens_per_s = 24,
                             .prompt_tokens_per_s = 48, .p50_ms = 4, .p90_ms = 5, .p99_ms = 6, .ttft_p99_ms = 1,
                             .tpot_p99_ms = 2};
    TradeoffsMeasure m{.variant = "tiny-q8", .type = "Q8_0", .file_bytes = 20,
                       .point = {.type_k = "q8_0", .flash_attn = "on", .n_ctx = 256, .mmap = false, .n_gpu_layers = 7},
                       .device = "cuda0"};
    m.weights_bytes = 21;
    m.weights_by_device = {{"cuda0", 21}};
    m.peak_rss_bytes = 22;
    m.device_memory_bytes = 23;
    m.device_memory_note = "measured";
    m.kv_bytes_measured = 24;
    m.kv_bytes_estimated = 25;
    m.compute_buffer_bytes = 26;
    m.load_ms = 27;
    m.ttft_ms = 28;
    m.cold = true;
    m.pp_ts = 29;
    m.tg_ts = 30;
    m.perplexity = 31;
    m.kl_mean = 0.5;
    m.cosine = 0.99;
    m.quality_note = "against f16";
    m.random_weights = true;
    r.tradeoffs = m;
    return r;
}

TEST(PointResultJson, EveryFieldAndExtensionRoundTrips) {
    const PointResult r = full_point();
    const PointResult b = point_result_from_json(to_json_text(r));
    EXPECT_EQ(b.spec.scenario, Scenario::llm);
    EXPECT_EQ(b.spec.model, "/m/tiny.gguf");
    EXPECT_EQ(b.spec.n_depth, 64);
    EXPECT_EQ(b.spec.type_k, accel::model::KvType::q8_0);
    EXPECT_EQ(b.spec.type_v, accel::model::KvType::q4_0);
    EXPECT_EQ(b.spec.flash_attn, accel::model::FlashAttn::on);
    EXPECT_EQ(b.spec.embed_batch, 2);
    EXPECT_EQ(b.spec.lengths, "fixed:32,16");
    EXPECT_EQ(b.failure_stage, "none");
    EXPECT_EQ(b.failure_reason, "no reason");
    EXPECT_EQ(b.measurement.samples_ns, (std::vector<int64_t>{1000, 3000}));
    EXPECT_EQ(b.measurement.samples_ts, (std::vector<double>{48e6, 16e6}));
    EXPECT_EQ(b.measurement.samples_tokens, (std::vector<int32_t>{48, 47}));
    EXPECT_EQ(b.measurement.ttft_ns, (std::vector<int64_t>{100, 300}));
    EXPECT_EQ(b.measurement.tpot_ns, (std::vector<int64_t>{50, 60}));
    EXPECT_TRUE(b.measurement.noisy);
    EXPECT_FALSE(b.measurement.valid);
    EXPECT_EQ(b.measurement.reasons, (std::vector<std::string>{"noisy", "slow"}));
    EXPECT_EQ(b.measurement.wall.count(), 4000);
    EXPECT_EQ(b.measurement.ns.mean, 2000);  // summaries are recomputed from the samples
    EXPECT_EQ(b.measurement.ts.mean, 32e6);
    EXPECT_EQ(b.placement, (std::vector<std::string>{"fits", "because"}));
    EXPECT_EQ(b.model_desc, "llama 1M Q8_0");
    EXPECT_EQ(b.model_n_params_blocks, 13u);
    EXPECT_EQ(b.kv_cache_bytes_estimate, 14u);
    EXPECT_EQ(b.cold_cache, true);
    EXPECT_EQ(b.cold_cache_note, "evicted");
    EXPECT_EQ(b.device_memory_bytes, 17u);
    ASSERT_EQ(b.energy_j.size(), 1u);
    EXPECT_EQ(b.energy_j[0].second, 1.25);
    EXPECT_EQ(b.energy_window, "warm-up and timed");
    ASSERT_TRUE(b.roofline.has_value());
    EXPECT_EQ(b.roofline->decode_bandwidth_pct, 40);
    EXPECT_EQ(b.roofline->prefill_flops_pct, 12.5);
    EXPECT_EQ(b.roofline->basis, "measured");
    ASSERT_TRUE(b.verify.has_value());
    EXPECT_FALSE(b.verify->pass);
    EXPECT_EQ(b.verify->summary, "top-1 80% < 90%");
    EXPECT_TRUE(b.verify_failed());
    ASSERT_TRUE(b.server.has_value());
    EXPECT_EQ(b.server->tpot_p99_ms, 0.25);
    EXPECT_EQ(b.server->max_issue_lag_ms, 0.125);
    ASSERT_EQ(b.server->probes.size(), 1u);
    EXPECT_EQ(b.server->probes[0].achieved_qps, 1.9);
    ASSERT_TRUE(b.offline.has_value());
    EXPECT_EQ(b.offline->prompt_tokens_per_s, 48);
    EXPECT_EQ(b.offline->tpot_p99_ms, 2);
    ASSERT_TRUE(b.tradeoffs.has_value());
    EXPECT_EQ(b.tradeoffs->point.n_ctx, 256u);
    EXPECT_FALSE(b.tradeoffs->point.mmap);
    EXPECT_EQ(b.tradeoffs->point.flash_attn, "on");
    EXPECT_EQ(b.tradeoffs->weights_by_device, (std::vector<std::pair<std::string, uint64_t>>{{"cuda0", 21}}));
    EXPECT_EQ(b.tradeoffs->compute_buffer_bytes, 26u);
    EXPECT_EQ(b.tradeoffs->cosine, 0.99);
    EXPECT_TRUE(b.tradeoffs->random_weights);
    EXPECT_EQ(to_json_text(b), to_json_text(r));
}

// The stored keys stay what they were: the extensions' figures at the top level (roofline, verify) or under their
// own key (server, offline, tradeoffs), and a point without extensions says so with nulls.
TEST(PointResultJson, KeepsTheStoredKeys) {
    const json j = json::parse(to_json_text(full_point()));
    EXPECT_EQ(j.at("decode_bandwidth_pct"), 40);
    EXPECT_EQ(j.at("roofline_basis"), "measured");
    EXPECT_EQ(j.at("verified"), true);
    EXPECT_EQ(j.at("verify_pass"), false);
    EXPECT_EQ(j.at("wall_ns"), 4000);
    EXPECT_EQ(j.at("server").at("slo"), "p99 <= 5 ms");
    EXPECT_EQ(j.at("tradeoffs").at("flash_attn"), true);
    EXPECT_EQ(j.at("tradeoffs").at("weights_bytes_by_device").at("cuda0"), 21);
    EXPECT_EQ(j.at("spec").at("type_k"), "q8_0");

    const json none = json::parse(to_json_text(PointResult{}));
    EXPECT_TRUE(none.at("server").is_null());
    EXPECT_TRUE(none.at("offline").is_null());
    EXPECT_FALSE(none.contains("tradeoffs"));
    EXPECT_TRUE(none.at("decode_bandwidth_pct").is_null());
    EXPECT_EQ(none.at("roofline_basis"), "");
    EXPECT_EQ(none.at("verified"), false);
    const PointResult back = point_result_from_json(none.dump());
    EXPECT_FALSE(back.roofline || back.verify || back.server || back.offline || back.tradeoffs);
}

// A result stored before the token counts were carried has no samples_tokens: it reads, with none.
TEST(PointResultJson, ReadsResultsStoredWithoutTokenCounts) {
    json j = json::parse(to_json_text(full_point()));
    j.erase("samples_tokens");
    const PointResult b = point_result_from_json(j.dump());
    EXPECT_TRUE(b.measurement.samples_tokens.empty());
    EXPECT_EQ(b.measurement.samples_ns.size(), 2u);
    EXPECT_THROW(point_result_from_json(R"({"spec":{}})"), accel::Error);
}

// Each stored sample's n_tokens is the count the scenario processed in that repetition, not a rate times a time:
// here the rates disagree with the counts (rounded rates, a clock tick) and the counts win.
TEST(RunRecorder, SampleTokensAreTheCountedTokens) {
    PointResult r = full_point();
    r.measurement.samples_ns = {1000, 3000, 7};
    r.measurement.samples_ts = {1.5e6, 7e5, 0};
    r.measurement.samples_tokens = {3, 2, 48};
    const accel::store::ResultRecord rec = to_result_record(r);
    ASSERT_EQ(rec.samples.size(), 3u);
    EXPECT_EQ(rec.samples[0].n_tokens, 3);
    EXPECT_EQ(rec.samples[1].n_tokens, 2);
    EXPECT_EQ(rec.samples[2].n_tokens, 48);
    EXPECT_EQ(rec.samples[2].duration_ns, 7);
    EXPECT_EQ(rec.scenario, "tradeoffs");

    // No per-repetition count (the server's per-query latencies): unknown, never guessed from a rate.
    r.measurement.samples_tokens.clear();
    for (const auto& s : to_result_record(r).samples) EXPECT_FALSE(s.n_tokens.has_value());
}

TEST(RunRecorder, RecordsTheMeasuredColumns) {
    PointResult r = point_result_from_json(to_json_text(full_point()));  // with its summaries
    r.tradeoffs.reset();
    const accel::store::ResultRecord rec = to_result_record(r);
    EXPECT_EQ(rec.scenario, "pg");
    EXPECT_EQ(rec.model_name, "tiny.gguf");
    EXPECT_EQ(rec.model_sha256, "abc");
    EXPECT_EQ(rec.n_depth, 64);
    EXPECT_EQ(rec.n_threads, 3);
    EXPECT_EQ(rec.type_k, "q8_0");
    EXPECT_EQ(rec.flash_attn, true);
    EXPECT_EQ(rec.avg_ns, 2000);
    EXPECT_EQ(rec.ttft_ns, 200);
    EXPECT_FALSE(rec.valid);
    EXPECT_EQ(point_result_from_json(rec.extra_json).model_desc, "llama 1M Q8_0");
}

// Through the warehouse: the record written by the writer and read back through store's shared reader carries the
// columns and, in its extra, every extension as it was set.
TEST(RunRecorder, PointRoundTripsThroughTheWarehouse) {
    const PointResult r = point_result_from_json(to_json_text(full_point()));  // with its summaries
    accel::store::ResultRecord rec = to_result_record(r);
    rec.id = "res-1";
    rec.run_id = "run-1";
    accel::test::TempDir dir;
    accel::store::Database db = accel::store::Database::open(dir / "r.duckdb");
    {
        accel::store::Transaction tx(db);
        accel::store::write_batch(db, {.runs = {{.id = "run-1", .command = "test"}}, .results = {rec}});
        tx.commit();
    }
    const auto stored = accel::store::read_results(db, "r.run_id = 'run-1'");
    ASSERT_EQ(stored.size(), 1u);
    const accel::store::ResultRecord& s = stored[0];
    EXPECT_EQ(s.scenario, "tradeoffs");
    EXPECT_EQ(s.device, "cuda0");
    EXPECT_EQ(s.n_prompt, 32);
    EXPECT_EQ(s.n_depth, 64);
    EXPECT_EQ(s.n_threads, 3);
    EXPECT_EQ(s.type_v, "q4_0");
    EXPECT_EQ(s.flash_attn, true);
    EXPECT_EQ(s.avg_ts, 32e6);
    EXPECT_EQ(s.avg_ns, 2000);
    EXPECT_EQ(s.ttft_ns, 200);
    EXPECT_FALSE(s.valid);
    ASSERT_EQ(s.samples.size(), 2u);
    EXPECT_EQ(s.samples[0].n_tokens, 48);
    EXPECT_EQ(s.samples[1].n_tokens, 47);
    EXPECT_EQ(s.samples[1].duration_ns, 3000);
    const PointResult b = point_result_from_json(s.extra_json);
    EXPECT_EQ(to_json_text(b), to_json_text(r));
    ASSERT_TRUE(b.roofline && b.verify && b.server && b.offline && b.tradeoffs);
    EXPECT_EQ(b.roofline->prefill_flops_pct, 12.5);
    EXPECT_EQ(b.verify->summary, "top-1 80% < 90%");
    EXPECT_EQ(b.server->slo, "p99 <= 5 ms");
    EXPECT_EQ(b.offline->ttft_p99_ms, 1);
    EXPECT_EQ(b.tradeoffs->kl_mean, 0.5);
    EXPECT_EQ(b.measurement.samples_tokens, (std::vector<int32_t>{48, 47}));
}

}  // namespace
