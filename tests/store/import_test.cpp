#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/store/database.h"
#include "accel/store/importer.h"
#include "test_support.h"

namespace {

using namespace accel::store;

std::filesystem::path fixture(const std::string& name) {
    const char* src = std::getenv("ACCEL_SOURCE_DIR");
    return std::filesystem::path(src != nullptr ? src : ".") / "tests" / "store" / "fixtures" / name;
}

using Row = std::vector<std::optional<std::string>>;

class LlamaBenchImport : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(LlamaBenchImport, StoresBothTestsWithTypedColumns) {
    const auto [file, format] = GetParam();
    accel::test::TempDir dir;
    auto db = Database::open(dir / "r.duckdb");
    const auto rep = import_file(db, fixture(file));
    EXPECT_EQ(rep.format, format);
    EXPECT_EQ(rep.counts.results, 2);
    EXPECT_EQ(rep.counts.runs, 1);
    EXPECT_EQ(db.query("SELECT scenario, device, n_prompt, n_gen, n_batch, n_ubatch, n_threads, type_k, flash_attn, "
                       "model_name, round(avg_ts, 3) FROM results ORDER BY scenario")
                  .rows,
              (std::vector<Row>{
                  {"pp", "cpu", "64", "0", "2048", "512", "2", "f16", "false", "models/tiny-q4_0.gguf", "61044.733"},
                  {"tg", "cpu", "0", "16", "2048", "512", "2", "f16", "false", "models/tiny-q4_0.gguf", "7630.592"}}));
    const bool has_samples = std::string(format).find("json") != std::string::npos;
    EXPECT_EQ(db.query("SELECT count(*) FROM samples").rows[0][0], has_samples ? "6" : "0");
    EXPECT_EQ(db.query("SELECT llama_cpp_commit, tool FROM builds").rows[0], (Row{"de3ff815", "llama-bench"}));
    EXPECT_EQ(db.query("SELECT status, source FROM runs").rows[0], (Row{"complete", std::string("import:") + format}));
    // Importing the same file again stores nothing new.
    const auto again = import_file(db, fixture(file));
    EXPECT_EQ(again.counts.results, 0);
    EXPECT_EQ(again.counts.skipped_results, 2);
    EXPECT_EQ(db.query("SELECT count(*) FROM results").rows[0][0], "2");
}

INSTANTIATE_TEST_SUITE_P(Formats, LlamaBenchImport,
                         ::testing::Values(std::make_pair("llama_bench.json", "llama-bench-json"),
                                           std::make_pair("llama_bench.jsonl", "llama-bench-jsonl"),
                                           std::make_pair("llama_bench.csv", "llama-bench-csv"),
                                           std::make_pair("llama_bench.sql", "llama-bench-sql")));

TEST(Import, OptimumBenchmarkJson) {
    accel::test::TempDir dir;
    auto db = Database::open(dir / "r.duckdb");
    const auto rep = import_file(db, fixture("optimum_benchmark.json"));
    EXPECT_EQ(rep.format, "optimum-benchmark");
    EXPECT_EQ(rep.counts.results, 4);
    EXPECT_EQ(db.query("SELECT model_name, device, n_prompt, n_gen, round(avg_ns), avg_ts, n_samples FROM results "
                       "WHERE scenario = 'decode'")
                  .rows[0],
              (Row{"gpt2", "cpu", "256", "32", "505000000.0", "62.0", "4"}));
}

TEST(Import, OptimumBenchmarkReportAlone) {
    accel::test::TempDir dir;
    auto db = Database::open(dir / "r.duckdb");
    const auto rep = import_file(db, fixture("benchmark_report.json"));
    EXPECT_EQ(rep.format, "optimum-benchmark");
    EXPECT_EQ(db.query("SELECT string_agg(scenario, ',' ORDER BY scenario) FROM results").rows[0][0],
              "decode,load,per_token,prefill");
}

TEST(Import, AccelJsonlRoundTrip) {
    accel::test::TempDir dir;
    accel::test::write_file(
        dir / "a.jsonl",
        R"({"schema_version":1,"kind":"run","id":"r1","status":"complete","tags":["x"]})"
        "\n"
        R"({"schema_version":1,"kind":"result","id":"a1","run_id":"r1","scenario":"pp","device":"cpu","n_prompt":8,"samples":[{"duration_ns":100,"n_tokens":8}]})"
        "\n");
    auto db = Database::open(dir / "r.duckdb");
    const auto rep = import_file(db, dir / "a.jsonl");
    EXPECT_EQ(rep.format, "accel-jsonl");
    EXPECT_EQ(rep.counts.results, 1);
    EXPECT_EQ(rep.counts.samples, 1);
}

TEST(Import, MalformedJsonNamesRowAndFieldAndStoresNothing) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    const auto r = accel::test::run_accel({"db", "import", "--db", db.string(), fixture("llama_bench.json").string(),
                                           fixture("bad_llama_bench.json").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bad_llama_bench.json: [1]: field 'n_gen': expected an integer, got 'sixteen'"),
              std::string::npos)
        << r.err;
    auto d = Database::open(db);
    EXPECT_EQ(d.query("SELECT count(*) FROM results").rows[0][0], "0");
}

TEST(Import, MalformedCsvNamesLine) {
    accel::test::TempDir dir;
    const auto r = accel::test::run_accel(
        {"db", "import", "--db", (dir / "r.duckdb").string(), fixture("bad_llama_bench.csv").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bad_llama_bench.csv:3: 40 fields, the header has 41"), std::string::npos) << r.err;
}

TEST(Import, FolderIsRefusedWithTheCommandThatTakesIt) {
    accel::test::TempDir dir;
    const auto r = accel::test::run_accel({"db", "import", "--db", (dir / "r.duckdb").string(), dir.path().string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "accel: error: " + dir.path().string() +
                         " is a folder; import takes files (an export folder goes in with accel db merge)\n");
}

TEST(Import, CliReportsRowsPerTable) {
    accel::test::TempDir dir;
    const auto r = accel::test::run_accel({"db", "import", "--db", (dir / "r.duckdb").string(), "--format", "csv",
                                           fixture("llama_bench.jsonl").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(",llama-bench-jsonl,1,1,1,1,2,6,0,0\n"), std::string::npos) << r.out;
}

}  // namespace
