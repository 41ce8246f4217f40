// The results table's one column mapping (result_columns.h): the stored schema it creates, and every field of a
// ResultRecord through the warehouse (appender, shared reader) and through accel's record JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "accel/store/database.h"
#include "accel/store/record_batch.h"
#include "accel/store/result_columns.h"
#include "record_json.h"
#include "test_support.h"

namespace {

using namespace accel::store;

// Every field set, none to its default; doubles that a lossy text form would not give back.
ResultRecord full_record() {
    ResultRecord r{.id = "res-1", .run_id = "run-1", .machine_id = "m1", .build_id = "b1", .model_id = "sha",
                   .model_sha256 = "sha", .model_name = "tiny.gguf", .scenario = "pg", .device = "cuda0",
                   .n_prompt = 512, .n_gen = 128, .n_batch = 2048, .n_ubatch = 256, .n_threads = 7,
                   .n_gpu_layers = 99, .n_depth = 4096, .type_k = "q8_0", .type_v = "q4_0", .flash_attn = false,
                   .avg_ts = 1.0 / 3.0, .stddev_ts = 1e-300, .avg_ns = 123456789.125, .p50_ns = 0.1,
                   .p90_ns = 2.5e9, .p99_ns = std::nextafter(3.0, 4.0), .ttft_ns = 42,
                   .valid = false, .created_at_ns = 1767225600123456000, .extra_json = R"({"k":[1,"two"]})"};
    r.samples = {{.seq = 0, .duration_ns = 1000, .n_tokens = 640}, {.seq = 1, .duration_ns = 999999999999},
                 {.seq = 2, .duration_ns = 7, .n_tokens = 1}};
    return r;
}

void expect_same(const ResultRecord& a, const ResultRecord& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.run_id, b.run_id);
    EXPECT_EQ(a.machine_id, b.machine_id);
    EXPECT_EQ(a.build_id, b.build_id);
    EXPECT_EQ(a.model_id, b.model_id);
    EXPECT_EQ(a.model_sha256, b.model_sha256);
    EXPECT_EQ(a.model_name, b.model_name);
    EXPECT_EQ(a.scenario, b.scenario);
    EXPECT_EQ(a.device, b.device);
    EXPECT_EQ(a.n_prompt, b.n_prompt);
    EXPECT_EQ(a.n_gen, b.n_gen);
    EXPECT_EQ(a.n_batch, b.n_batch);
    EXPECT_EQ(a.n_ubatch, b.n_ubatch);
    EXPECT_EQ(a.n_threads, b.n_threads);
    EXPECT_EQ(a.n_gpu_layers, b.n_gpu_layers);
    EXPECT_EQ(a.n_depth, b.n_depth);
    EXPECT_EQ(a.type_k, b.type_k);
    EXPECT_EQ(a.type_v, b.type_v);
    EXPECT_EQ(a.flash_attn, b.flash_attn);
    EXPECT_EQ(a.avg_ts, b.avg_ts);
    EXPECT_EQ(a.stddev_ts, b.stddev_ts);
    EXPECT_EQ(a.avg_ns, b.avg_ns);
    EXPECT_EQ(a.p50_ns, b.p50_ns);
    EXPECT_EQ(a.p90_ns, b.p90_ns);
    EXPECT_EQ(a.p99_ns, b.p99_ns);
    EXPECT_EQ(a.ttft_ns, b.ttft_ns);
    EXPECT_EQ(a.valid, b.valid);
    EXPECT_EQ(a.created_at_ns / 1000, b.created_at_ns / 1000);  // DuckDB's TIMESTAMP holds microseconds
    EXPECT_EQ(nlohmann::json::parse(a.extra_json), nlohmann::json::parse(b.extra_json));
    ASSERT_EQ(a.samples.size(), b.samples.size());
    for (size_t i = 0; i < a.samples.size(); ++i) {
        EXPECT_EQ(a.samples[i].seq, b.samples[i].seq);
        EXPECT_EQ(a.samples[i].duration_ns, b.samples[i].duration_ns);
        EXPECT_EQ(a.samples[i].n_tokens, b.samples[i].n_tokens);
    }
}

std::vector<ResultRecord> write_and_read(const ResultRecord& r) {
    accel::test::TempDir dir;
    Database db = Database::open(dir / "r.duckdb");
    {
        Transaction tx(db);
        write_batch(db, {.runs = {RunRecord{.id = r.run_id, .command = "test"}}, .results = {r}});
        tx.commit();
    }
    return read_results(db, "r.run_id = " + sql_quote(r.run_id));
}

// The table as schema version 1 created it, by hand: the column table must not move, retype or drop a column.
TEST(ResultColumns, TableKeepsItsStoredColumns) {
    accel::test::TempDir dir;
    Database db = Database::open(dir / "r.duckdb");
    const auto q = db.query(
        "SELECT string_agg(column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' "
        "ELSE '' END, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'results'");
    EXPECT_EQ(q.rows.at(0).at(0).value_or(""),
              "id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, machine_id VARCHAR, build_id VARCHAR, model_id VARCHAR, "
              "model_sha256 VARCHAR, model_name VARCHAR, scenario VARCHAR, device VARCHAR, n_prompt INTEGER, "
              "n_gen INTEGER, n_batch INTEGER, n_ubatch INTEGER, n_threads INTEGER, n_gpu_layers INTEGER, "
              "n_depth INTEGER, type_k VARCHAR, type_v VARCHAR, flash_attn BOOLEAN, avg_ts DOUBLE, stddev_ts DOUBLE, "
              "avg_ns DOUBLE, p50_ns DOUBLE, p90_ns DOUBLE, p99_ns DOUBLE, ttft_ns DOUBLE, n_samples INTEGER, "
              "valid BOOLEAN NOT NULL, created_at TIMESTAMP, extra JSON");
}

TEST(ResultColumns, EveryFieldRoundTripsThroughTheWarehouse) {
    const ResultRecord r = full_record();
    const auto back = write_and_read(r);
    ASSERT_EQ(back.size(), 1u);
    expect_same(back[0], r);
}

// Unset optional fields come back unset, and empty text that is stored as NULL comes back empty.
TEST(ResultColumns, NullsRoundTripThroughTheWarehouse) {
    const ResultRecord r{.id = "res-2", .run_id = "run-2", .scenario = "pp", .device = "cpu",
                         .created_at_ns = 1767225600000000000};
    const auto back = write_and_read(r);
    ASSERT_EQ(back.size(), 1u);
    expect_same(back[0], r);
}

TEST(ResultColumns, EveryFieldRoundTripsThroughRecordJson) {
    const ResultRecord r = full_record();
    RecordBatch batch;
    add_json_line(nlohmann::json::parse(batch_to_jsonl({.results = {r}})), "test:1", batch);
    ASSERT_EQ(batch.results.size(), 1u);
    expect_same(batch.results[0], r);
    EXPECT_EQ(batch.results[0].created_at_ns, r.created_at_ns);
}

// Points are named and matched by their shape in llama-bench's order, whatever the table's column order.
TEST(ResultColumns, ShapeLabelsFollowLlamaBenchOrder) {
    accel::test::TempDir dir;
    Database db = Database::open(dir / "r.duckdb");
    {
        Transaction tx(db);
        write_batch(db, {.runs = {RunRecord{.id = "run-1", .command = "test"}}, .results = {full_record()}});
        tx.commit();
    }
    const auto q = db.query("SELECT concat_ws(' ', " + result_shape_label_sql("r") + ") FROM results r");
    EXPECT_EQ(q.rows.at(0).at(0).value_or(""), "p=512 n=128 d=4096 b=2048 ub=256 t=7 ngl=99 ctk=q8_0 ctv=q4_0 fa=0");
}

}  // namespace
